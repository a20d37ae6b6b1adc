package mountinfo

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/internal/testenv"
)

func TestParse(t *testing.T) {
	data := []byte("22 1 0:21 / /proc rw,nosuid - proc proc rw\n" +
		"40 22 0:40 /sub /mnt/with\\040space rw - tmpfs tmpfs rw\n" +
		"short line\n")
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	want := []Mount{
		{ID: "22", Parent: "1", Dev: "0:21", Root: "/", Point: "/proc", FSType: "proc"},
		{ID: "40", Parent: "22", Dev: "0:40", Root: "/sub", Point: "/mnt/with space", FSType: "tmpfs"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
}

// TestUnderAndIsMountPoint mounts two tmpfs, one inside the other, and
// finds them deepest first.
func TestUnderAndIsMountPoint(t *testing.T) {
	testenv.RequireRoot(t)
	dir := t.TempDir()
	outer := filepath.Join(dir, "outer")
	inner := filepath.Join(outer, "in ner")
	if err := os.MkdirAll(outer, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", outer, "tmpfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(outer, unix.MNT_DETACH) })
	if err := os.Mkdir(inner, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", inner, "tmpfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(inner, unix.MNT_DETACH) })

	got, err := Under(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{inner, outer}, got); diff != "" {
		t.Errorf("Under (-want +got):\n%s", diff)
	}
	for path, want := range map[string]bool{outer: true, inner: true, dir: false, filepath.Join(dir, "missing"): false} {
		if got, err := IsMountPoint(path); err != nil || got != want {
			t.Errorf("IsMountPoint(%q) = %v, %v; want %v", path, got, err, want)
		}
	}
}
