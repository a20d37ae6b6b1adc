package volume

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/internal/testenv"
)

func TestUsage(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "big"), make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		fill     func(t *testing.T, dir string)
		stop     int64
		min, max int64
	}{
		{name: "empty", fill: func(*testing.T, string) {}, max: 64 << 10},
		{name: "nested files", fill: func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "a", "b", "f"), 512<<10)
			write(t, filepath.Join(dir, "g"), 512<<10)
		}, min: 1 << 20, max: 1<<20 + 64<<10},
		{name: "symlinks are not followed", fill: func(t *testing.T, dir string) {
			if err := os.Symlink(outside, filepath.Join(dir, "out")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(outside, "big"), filepath.Join(dir, "big")); err != nil {
				t.Fatal(err)
			}
		}, max: 64 << 10},
		{name: "stops past the limit", fill: func(t *testing.T, dir string) {
			for _, n := range []string{"1", "2", "3", "4"} {
				write(t, filepath.Join(dir, n), 1<<20)
			}
		}, stop: 1 << 20, min: 1<<20 + 1, max: 3 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.fill(t, dir)
			got, err := Usage(dir, tc.stop)
			if err != nil {
				t.Fatal(err)
			}
			if got < tc.min || got > tc.max {
				t.Errorf("Usage = %d, want between %d and %d", got, tc.min, tc.max)
			}
		})
	}
}

// write writes a file of size non-zero bytes, so that blocks are allocated.
func write(t *testing.T, path string, size int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, size)
	for i := range data {
		data[i] = 'x'
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestUsageStopsAtMounts: a mount inside the volume (even a bind mount of
// the same file system) is not counted.
func TestUsageStopsAtMounts(t *testing.T) {
	testenv.RequireRoot(t)
	vol, outside := t.TempDir(), t.TempDir()
	write(t, filepath.Join(outside, "big"), 4<<20)
	mnt := filepath.Join(vol, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(outside, mnt, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	unmountCleanup(t, mnt)
	got, err := Usage(vol, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got > 1<<20 {
		t.Errorf("Usage = %d: counted the mount's 4 MiB", got)
	}
}
