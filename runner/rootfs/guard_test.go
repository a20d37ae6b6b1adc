package rootfs

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/podrun/podrun/internal/testenv"
)

// tree makes a root file system: directories end in "/", symlinks are
// "name -> target", anything else is an empty file.
func tree(t *testing.T, entries ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, e := range entries {
		var name, target string
		if n, tgt, ok := strings.Cut(e, " -> "); ok {
			name, target = n, tgt
		} else {
			name = e
		}
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case target != "":
			err = os.Symlink(target, p)
		case name[len(name)-1] == '/':
			err = os.MkdirAll(p, 0o755)
		default:
			err = os.WriteFile(p, nil, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestMaskRuntimeDirs(t *testing.T) {
	host := t.TempDir() // what the links name: nothing may appear here
	root := tree(t, "dev -> ../../../../../../../.."+host, "proc", "sys/", "etc/")
	masked, err := maskRuntimeDirs(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []Masked{{Path: "/dev", Target: "../../../../../../../.." + host}, {Path: "/proc"}}
	if !slices.Equal(masked, want) {
		t.Errorf("masked %+v, want %+v", masked, want)
	}
	for _, d := range []string{"dev", "proc", "sys"} {
		fi, err := os.Lstat(filepath.Join(root, d))
		if err != nil || !fi.IsDir() {
			t.Errorf("/%s after masking: %v, %v; want a directory", d, fi, err)
		}
	}
	if entries, _ := os.ReadDir(host); len(entries) != 0 {
		t.Errorf("the host directory the link named holds %v", entries)
	}
	// A second call finds nothing to mask; a missing directory is left
	// for the runtime to create.
	if masked, err := maskRuntimeDirs(tree(t, "etc/")); err != nil || len(masked) != 0 {
		t.Errorf("masking a root without /dev, /proc or /sys: %v, %v", masked, err)
	}
	if masked, err := maskRuntimeDirs(root); err != nil || len(masked) != 0 {
		t.Errorf("masking again: %v, %v", masked, err)
	}
}

func TestContain(t *testing.T) {
	root := tree(t,
		"var/run -> /run", "run/",
		"etc/hosts -> ../../../../../../../tmp/host/hosts",
		"etc/resolv.conf -> /run/systemd/resolve/stub-resolv.conf",
		"data -> /srv/data", "srv/data/",
		"srv/data/sub -> /etc/passwd-dir",
		"loop -> loop2", "loop2 -> loop",
		"dev/shm -> /elsewhere",
	)
	mounts := []specs.Mount{
		{Destination: "/proc"},
		{Destination: "/dev"},
		{Destination: "/dev/shm"},
		{Destination: "/sys/fs/cgroup"},
		{Destination: "/etc/hosts"},
		{Destination: "/etc/resolv.conf"},
		{Destination: "/var/run/secrets/token"},
		{Destination: "/data"},
		{Destination: "/data/sub"},   // below the /data mount: on the volume, not the image
		{Destination: "/new/dir/"},   // missing: the runtime creates it
		{Destination: "relative/x"},  // as runc reads it, from the root
		{Destination: "/a/../b/./c"}, // cleaned
	}
	if err := Contain(root, mounts); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range mounts {
		got = append(got, m.Destination)
	}
	want := []string{
		"/proc", "/dev", "/dev/shm", "/sys/fs/cgroup",
		"/tmp/host/hosts",
		"/run/systemd/resolve/stub-resolv.conf",
		"/run/secrets/token",
		"/srv/data",
		"/srv/data/sub",
		"/new/dir",
		"/relative/x",
		"/b/c",
	}
	if !slices.Equal(got, want) {
		t.Errorf("destinations\n got %q\nwant %q", got, want)
	}

	if err := Contain(root, []specs.Mount{{Destination: "/loop/x"}}); err == nil {
		t.Error("a destination through a symlink loop was accepted")
	}
}

// TestMountMasksLayerSymlink: an image layer's /dev symlink is masked in
// the writable layer of the overlay; the layer itself is left as it is.
func TestMountMasksLayerSymlink(t *testing.T) {
	testenv.RequireRoot(t)
	host := t.TempDir()
	layer := tree(t, "dev -> ../../../../../../../.."+host, "etc/")
	dir := t.TempDir()
	target, scratch := filepath.Join(dir, "rootfs"), filepath.Join(dir, "scratch")
	masked, err := Mount(target, []string{layer}, scratch)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Unmount(target, scratch) })
	if fs := mountedFS(t, target); fs != "overlay" {
		t.Fatalf("target mounted as %q, want overlay", fs)
	}
	if len(masked) != 1 || masked[0].Path != "/dev" {
		t.Errorf("masked %+v, want /dev", masked)
	}
	if fi, err := os.Lstat(filepath.Join(target, "dev")); err != nil || !fi.IsDir() {
		t.Errorf("/dev in the root file system: %v, %v; want a directory", fi, err)
	}
	if fi, err := os.Lstat(filepath.Join(layer, "dev")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("/dev in the layer: %v, %v; want the symlink, untouched", fi, err)
	}
	if err := Unmount(target, scratch); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(host); len(entries) != 0 {
		t.Errorf("the host directory the link named holds %v", entries)
	}
}
