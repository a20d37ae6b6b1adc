package runner

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/internal/testenv"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func symlink(t *testing.T, target, name string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, name); err != nil {
		t.Fatal(err)
	}
}

func TestLayersFS(t *testing.T) {
	base := t.TempDir()
	lower := filepath.Join(base, "layers", "lower")
	upper := filepath.Join(base, "layers", "upper")
	secret := filepath.Join(base, "secret")
	const secretText = "root:SECRET:0:0"
	writeFiles(t, base, map[string]string{"secret": secretText})
	writeFiles(t, lower, map[string]string{
		"etc/passwd":     "root:x:0:0:lower",
		"etc/group":      "root:x:0:lower",
		"usr/lib/os-rel": "lower only",
	})
	writeFiles(t, upper, map[string]string{
		"etc/passwd": "root:x:0:0:upper",
	})
	// Links that stay inside their layer are followed.
	symlink(t, "passwd", filepath.Join(upper, "etc/passwd-link"))
	symlink(t, "../usr/lib/os-rel", filepath.Join(lower, "etc/os-release"))
	// Links that lead outside must not be followed there.
	symlink(t, "../../../secret", filepath.Join(upper, "etc/relative-escape"))
	symlink(t, secret, filepath.Join(upper, "etc/absolute-escape"))
	symlink(t, secret, filepath.Join(upper, "etc/group")) // shadows the lower layer's group
	symlink(t, "../../..", filepath.Join(upper, "up"))

	fsys := layersFS([]string{lower, upper}) // bottom first
	tests := []struct {
		name string
		want string // "" for an error
	}{
		{"etc/passwd", "root:x:0:0:upper"},
		{"etc/passwd-link", "root:x:0:0:upper"},
		{"usr/lib/os-rel", "lower only"},
		{"etc/os-release", "lower only"},
		{"etc/missing", ""},
		{"../secret", ""},
		{"/etc/passwd", ""},
		{"etc/relative-escape", ""},
		{"etc/absolute-escape", ""},
		{"up/secret", ""},
	}
	for _, tt := range tests {
		data, err := fs.ReadFile(fsys, tt.name)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("reading %s gave %q, want an error", tt.name, data)
		case tt.want != "" && err != nil:
			t.Errorf("reading %s: %v", tt.name, err)
		case string(data) != tt.want:
			t.Errorf("reading %s gave %q, want %q", tt.name, data, tt.want)
		}
	}
	// The upper layer's escaping etc/group may hide the lower layer's or
	// fail, but it must never read the file outside.
	if data, err := fs.ReadFile(fsys, "etc/group"); err == nil && string(data) == secretText {
		t.Errorf("etc/group followed a symlink out of its layer")
	}
	if _, err := fsys.Open("etc/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("opening a missing file: %v, want fs.ErrNotExist", err)
	}
}

func TestLayersFSMissingLayer(t *testing.T) {
	layer := t.TempDir()
	writeFiles(t, layer, map[string]string{"etc/passwd": "root:x:0:0"})
	fsys := layersFS([]string{layer, filepath.Join(layer, "no-such-layer")})
	data, err := fs.ReadFile(fsys, "etc/passwd")
	if err != nil || string(data) != "root:x:0:0" {
		t.Errorf("reading through a missing upper layer: %q, %v", data, err)
	}
	if _, err := fs.ReadFile(layersFS(nil), "etc/passwd"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("reading from no layers: %v, want fs.ErrNotExist", err)
	}
}

// TestLayersFSWhiteout: an overlay whiteout in a higher layer hides the
// file below, and the highest layer holding a name is the one read.
func TestLayersFSWhiteout(t *testing.T) {
	testenv.RequireRoot(t)
	lower, upper := t.TempDir(), t.TempDir()
	for _, d := range []string{lower, upper} {
		if err := os.MkdirAll(filepath.Join(d, "etc"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(lower, "etc", "shadow"), []byte("lowershadow"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknod(filepath.Join(upper, "etc", "shadow"), unix.S_IFCHR, 0); err != nil {
		t.Fatal(err)
	}
	if data, err := fs.ReadFile(layersFS([]string{lower, upper}), "etc/shadow"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a whited-out file reads %q, %v; want not found", data, err)
	}
}

// TestUserDBRefusesSpecialFiles: an image's /etc/passwd or /etc/group
// that is a FIFO or a device node (which layers may now carry), directly
// or through a symlink, is refused without being opened: no hang, and no
// host device reached outside the device cgroup.
func TestUserDBRefusesSpecialFiles(t *testing.T) {
	testenv.RequireRoot(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(dir, "etc", "passwd"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknod(filepath.Join(dir, "zero"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 5))); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../zero", filepath.Join(dir, "etc", "group")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknod(filepath.Join(dir, "etc", "shadow"), unix.S_IFBLK|0o600, int(unix.Mkdev(7, 0))); err != nil {
		t.Fatal(err)
	}
	for name, fsys := range map[string]fs.FS{"rootFS": rootFS(dir), "layersFS": layersFS([]string{dir})} {
		for _, f := range []string{"etc/passwd", "etc/group", "etc/shadow", "zero"} {
			done := make(chan error, 1)
			go func() { _, err := fs.ReadFile(fsys, f); done <- err }()
			select {
			case err := <-done:
				if !errors.Is(err, errNotRegular) {
					t.Errorf("%s: reading %s: %v, want errNotRegular", name, f, err)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s: reading %s hangs", name, f)
			}
		}
	}
}
