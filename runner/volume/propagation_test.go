package volume

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/internal/testenv"
	"github.com/podrun/podrun/runner/mountinfo"
)

// TestShare shares a volume and a claim's data through a staging
// directory, binds each (as a container's rshared mount is) and checks
// that a tmpfs mounted in the bind appears on the volume's side only.
func TestShare(t *testing.T) {
	testenv.RequireRoot(t)
	for _, claim := range []bool{false, true} {
		root := t.TempDir()
		src, dir, view := filepath.Join(root, "vol"), filepath.Join(root, "vol"), filepath.Join(root, "view")
		if claim {
			src = filepath.Join(root, "data")
		}
		for _, d := range []string{filepath.Join(src, "sub"), view} {
			if err := os.MkdirAll(d, 0o777); err != nil {
				t.Fatal(err)
			}
		}
		t.Cleanup(func() {
			points, _ := mountinfo.Under(root)
			for _, p := range points {
				_ = unix.Unmount(p, unix.MNT_DETACH)
			}
		})
		if err := CheckShared(src, true); err == nil || !strings.Contains(err.Error(), "is not a shared or slave mount") {
			t.Errorf("CheckShared of a private directory: %v", err)
		}
		if err := Share(src, dir); err != nil {
			t.Fatal(err)
		}
		if err := Share(src, dir); err != nil { // again: already a mount point
			t.Fatal(err)
		}
		if err := CheckShared(dir, false); err != nil {
			t.Errorf("claim %v: %v", claim, err)
		}
		if err := unix.Mount(dir, view, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			t.Fatal(err)
		}
		if err := unix.Mount("tmpfs", filepath.Join(view, "sub"), "tmpfs", 0, ""); err != nil {
			t.Fatal(err)
		}
		if ok, _ := mountinfo.IsMountPoint(filepath.Join(dir, "sub")); !ok {
			t.Errorf("claim %v: the tmpfs mounted in the bind did not reach the volume", claim)
		}
		if claim {
			if ok, _ := mountinfo.IsMountPoint(filepath.Join(src, "sub")); ok {
				t.Error("the tmpfs reached the claim's data directory")
			}
		}
	}
}
