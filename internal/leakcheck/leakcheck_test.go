package leakcheck

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/internal/testenv"
)

// recorder is a testing.TB that keeps what Errorf is told.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestCheckReportsMountLeftUnderRoot(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireBinary(t, "iptables-save")
	root := t.TempDir()
	target := filepath.Join(root, "leaked")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	snap := Take(t, Options{Roots: []string{root}})
	if err := unix.Mount("tmpfs", target, "tmpfs", 0, ""); err != nil {
		t.Fatalf("mounting tmpfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(target, unix.MNT_DETACH) })

	rec := &recorder{TB: t}
	snap.Check(rec)
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "mount "+target+" (tmpfs)") {
		t.Fatalf("Check reported %q, want the tmpfs at %s", rec.errs, target)
	}

	unix.Unmount(target, unix.MNT_DETACH)
	rec = &recorder{TB: t}
	snap.Check(rec)
	if len(rec.errs) != 0 {
		t.Fatalf("after unmounting, Check reported %q", rec.errs)
	}
}

func TestCheckReportsMarkedProcess(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireBinary(t, "iptables-save", "sleep")
	marker := fmt.Sprintf("leakcheck-%d", os.Getpid())
	snap := Take(t, Options{Markers: []string{marker}})
	// The marker is sleep's argv[0], so it shows in the command line.
	cmd := exec.Command("sleep", "60")
	cmd.Args[0] = marker
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	leaks := snap.Leaks()
	if len(leaks) != 1 || !strings.Contains(leaks[0], marker) {
		t.Fatalf("Leaks() = %q, want the sleep marked %s", leaks, marker)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if leaks := snap.Leaks(); len(leaks) != 0 {
		t.Fatalf("after the kill, Leaks() = %q", leaks)
	}
}

func TestCheckReportsMarkedRule(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireBinary(t, "iptables", "iptables-save")
	marker := fmt.Sprintf("leakcheck-rule-%d", os.Getpid())
	snap := Take(t, Options{Markers: []string{marker}})
	rule := []string{"OUTPUT", "-d", "127.0.0.1/32", "-p", "tcp", "--dport", "31099",
		"-m", "comment", "--comment", marker, "-j", "ACCEPT"}
	if out, err := exec.Command("iptables", append([]string{"-w", "-t", "filter", "-A"}, rule...)...).CombinedOutput(); err != nil {
		t.Fatalf("adding a rule: %v: %s", err, out)
	}
	del := func() { exec.Command("iptables", append([]string{"-w", "-t", "filter", "-D"}, rule...)...).Run() }
	t.Cleanup(del)
	if leaks := snap.Leaks(); len(leaks) != 1 || !strings.Contains(leaks[0], marker) {
		t.Fatalf("Leaks() = %q, want the rule marked %s", leaks, marker)
	}
	del()
	if leaks := snap.Leaks(); len(leaks) != 0 {
		t.Fatalf("after deleting it, Leaks() = %q", leaks)
	}
}

func TestUnder(t *testing.T) {
	for _, c := range []struct {
		path string
		want bool
	}{
		{"/tmp/a", true}, {"/tmp/a/b", true}, {"/tmp/ab", false}, {"/tmp", false},
	} {
		if got := under(c.path, []string{"/tmp/a/"}); got != c.want {
			t.Errorf("under(%q, /tmp/a/) = %v, want %v", c.path, got, c.want)
		}
	}
}
