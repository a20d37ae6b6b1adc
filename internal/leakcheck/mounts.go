package leakcheck

import (
	"fmt"

	"github.com/podrun/podrun/runner/mountinfo"
)

type mount struct {
	id, point, fstype string
}

func (m mount) key() string { return m.id + " " + m.point }

// mounts reads this process's mount table.
func mounts() ([]mount, error) {
	ms, err := mountinfo.Read()
	if err != nil {
		return nil, err
	}
	out := make([]mount, len(ms))
	for i, m := range ms {
		out[i] = mount{id: m.ID, point: m.Point, fstype: m.FSType}
	}
	return out, nil
}

func mountSet() (map[string]bool, error) {
	ms, err := mounts()
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, m := range ms {
		set[m.key()] = true
	}
	return set, nil
}

// mountLeaks lists the mounts under Roots that Take did not see; pinned
// network namespaces among them are named as such.
func (s *Snapshot) mountLeaks() ([]string, error) {
	ms, err := mounts()
	if err != nil {
		return nil, err
	}
	var leaks []string
	for _, m := range ms {
		if s.mounts[m.key()] || !under(m.point, s.opts.Roots) {
			continue
		}
		if m.fstype == "nsfs" {
			leaks = append(leaks, "pinned namespace "+m.point)
			continue
		}
		leaks = append(leaks, fmt.Sprintf("mount %s (%s)", m.point, m.fstype))
	}
	return leaks, nil
}

// netnsLeaks lists new entries of /run/netns whose names are marked.
func (s *Snapshot) netnsLeaks() ([]string, error) {
	var leaks []string
	for name := range dirSet("/run/netns") {
		if !s.netns[name] && marked(name, s.opts.Markers) {
			leaks = append(leaks, "network namespace /run/netns/"+name)
		}
	}
	return leaks, nil
}
