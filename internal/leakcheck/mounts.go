package leakcheck

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// mount is one line of /proc/self/mountinfo, the fields leakcheck reads.
type mount struct {
	id, point, fstype string
}

func (m mount) key() string { return m.id + " " + m.point }

// mounts reads /proc/self/mountinfo.
func mounts() ([]mount, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("reading mountinfo: %w", err)
	}
	var out []mount
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 7 {
			continue
		}
		m := mount{id: f[0], point: unescape(f[4])}
		for i := 6; i < len(f)-1; i++ {
			if f[i] == "-" {
				m.fstype = f[i+1]
				break
			}
		}
		out = append(out, m)
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

// unescape undoes mountinfo's octal escapes (\040 for a space...).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if c, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(c))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
