package netns

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/internal/testenv"
)

// TestDo: fn runs in the namespace given, and the caller's namespace is
// untouched; a path that is no namespace is an error that says so.
func TestDo(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireBinary(t, "unshare")
	dir := t.TempDir()
	pin := filepath.Join(dir, "net")
	if err := os.WriteFile(pin, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("unshare", "--net="+pin, "true").CombinedOutput(); err != nil {
		t.Fatalf("pinning a network namespace: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", pin).Run() })
	inode := func(path string) uint64 {
		var st unix.Stat_t
		if err := unix.Stat(path, &st); err != nil {
			t.Fatal(err)
		}
		return st.Ino
	}
	want, mine := inode(pin), inode("/proc/thread-self/ns/net")
	var seen uint64
	if err := Do(pin, func() error { seen = inode("/proc/thread-self/ns/net"); return nil }); err != nil {
		t.Fatal(err)
	}
	if seen != want || seen == mine {
		t.Errorf("fn ran in namespace %d, want %d (the caller's is %d)", seen, want, mine)
	}
	if again := inode("/proc/thread-self/ns/net"); again != mine {
		t.Errorf("the caller's thread is now in namespace %d, was in %d", again, mine)
	}
	sentinel := errors.New("from fn")
	if err := Do(pin, func() error { return sentinel }); !errors.Is(err, sentinel) {
		t.Errorf("fn's error came back as %v", err)
	}
	if err := Do(filepath.Join(dir, "nothing"), func() error { return nil }); err == nil || !strings.Contains(err.Error(), "opening the pod's network namespace") {
		t.Errorf("a missing namespace: %v", err)
	}
}
