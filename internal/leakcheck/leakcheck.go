package leakcheck

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"
)

// Options says what belongs to the test.
type Options struct {
	Roots    []string // the test's own directories (run root, data root, temp dirs)
	Markers  []string // strings naming what the test made: pod IDs, pod IPs, its subnet, bridge and network names
	Bridge   string   // a bridge the test uses: every interface still on it is a leak
	RuncRoot string   // runc's --root for the test; every container left there is a leak
	// VirtualRanges are the test's service ranges: a UDP conntrack flow
	// to one of them is a leak.
	VirtualRanges []netip.Prefix
}

// Grace is how long Check waits for teardown the kernel finishes on its own.
const Grace = 3 * time.Second

// Snapshot is what the machine held when Take ran.
type Snapshot struct {
	opts       Options
	mounts     map[string]bool // mount ID and mount point
	interfaces map[string]bool
	netns      map[string]bool // entries of /run/netns
	rules      map[string]bool // iptables-save lines, prefixed with the command
}

// Take records the state Check compares against. It fails t if the state
// cannot be read.
func Take(t testing.TB, opts Options) *Snapshot {
	t.Helper()
	opts.Markers = nonEmpty(opts.Markers)
	s := &Snapshot{opts: opts}
	var err error
	if s.mounts, err = mountSet(); err != nil {
		t.Fatalf("leakcheck: %v", err)
	}
	if s.interfaces, err = interfaceSet(); err != nil {
		t.Fatalf("leakcheck: %v", err)
	}
	s.netns = dirSet("/run/netns")
	if s.rules, err = ruleSet(); err != nil {
		t.Fatalf("leakcheck: %v", err)
	}
	return s
}

// Check fails t, listing every leak, if something the test made is still
// there once Grace has passed.
func (s *Snapshot) Check(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(Grace)
	for {
		leaks := s.Leaks()
		if len(leaks) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("leakcheck: the test left behind:\n\t%s", strings.Join(leaks, "\n\t"))
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Leaks lists, once and now, what Check would report.
func (s *Snapshot) Leaks() []string {
	var leaks []string
	for _, find := range []func() ([]string, error){
		s.mountLeaks, s.interfaceLeaks, s.netnsLeaks, s.ruleLeaks, s.runcLeaks, s.processLeaks, s.conntrackLeaks,
	} {
		l, err := find()
		if err != nil {
			l = append(l, "cannot tell: "+err.Error())
		}
		leaks = append(leaks, l...)
	}
	sort.Strings(leaks)
	return leaks
}

// runcLeaks lists the containers under RuncRoot.
func (s *Snapshot) runcLeaks() ([]string, error) {
	if s.opts.RuncRoot == "" {
		return nil, nil
	}
	if _, err := os.Stat(s.opts.RuncRoot); os.IsNotExist(err) {
		return nil, nil
	}
	out, err := exec.Command("runc", "--root", s.opts.RuncRoot, "list", "-q").Output()
	if err != nil {
		return nil, fmt.Errorf("listing runc containers in %s: %w", s.opts.RuncRoot, err)
	}
	var leaks []string
	for _, id := range strings.Fields(string(out)) {
		leaks = append(leaks, fmt.Sprintf("runc container %s (root %s)", id, s.opts.RuncRoot))
	}
	return leaks, nil
}

// under reports whether path is one of roots or below one.
func under(path string, roots []string) bool {
	for _, r := range roots {
		r = strings.TrimRight(r, "/")
		if r == "" {
			continue
		}
		if path == r || strings.HasPrefix(path, r+"/") {
			return true
		}
	}
	return false
}

// marked reports whether s contains one of markers.
func marked(s string, markers []string) bool {
	for _, m := range markers {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// dirSet lists the names in dir; a missing dir is empty.
func dirSet(dir string) map[string]bool {
	set := map[string]bool{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		set[e.Name()] = true
	}
	return set
}
