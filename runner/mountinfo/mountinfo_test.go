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
		"41 40 0:41 / /mnt/p rw shared:7 master:2 - tmpfs tmpfs rw\n" +
		"short line\n")
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	want := []Mount{
		{ID: "22", Parent: "1", Dev: "0:21", Root: "/", Point: "/proc", FSType: "proc"},
		{ID: "40", Parent: "22", Dev: "0:40", Root: "/sub", Point: "/mnt/with space", FSType: "tmpfs"},
		{ID: "41", Parent: "40", Dev: "0:41", Root: "/", Point: "/mnt/p", FSType: "tmpfs", Optional: "shared:7 master:2"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
}

func TestContaining(t *testing.T) {
	mounts := []Mount{{ID: "1", Point: "/"}, {ID: "2", Point: "/mnt"}, {ID: "3", Point: "/mnt/a"}, {ID: "4", Point: "/mnt"}}
	for path, want := range map[string]string{"/": "1", "/etc": "1", "/mnt": "4", "/mnt/b": "4", "/mnt/a/x": "3", "/mnta": "1"} {
		if m, ok := Containing(mounts, path); !ok || m.ID != want {
			t.Errorf("Containing(%s) = %s, %v; want %s", path, m.ID, ok, want)
		}
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
