package rootfs

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/internal/demoimage"
	"github.com/podrun/podrun/internal/testenv"
	"github.com/podrun/podrun/runner/host"
	"github.com/podrun/podrun/runner/image"
)

// demoLayers loads the demo image into a fresh store and adds a hand-made
// top layer with a whiteout, an opaque directory and new files.
func demoLayers(t *testing.T) []string {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireFile(t, "/usr/bin/busybox", "apt-get install busybox-static")
	dir := t.TempDir()
	archive := filepath.Join(dir, "demo.tar")
	if err := demoimage.Write(archive, "/usr/bin/busybox"); err != nil {
		t.Fatal(err)
	}
	s, err := image.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(archive); err != nil {
		t.Fatal(err)
	}
	img, err := s.Get(demoimage.Ref)
	if err != nil {
		t.Fatal(err)
	}
	top := filepath.Join(dir, "top")
	for _, d := range []string{"www", "etc", "bin", "new"} {
		mkdir(t, filepath.Join(top, d))
	}
	if err := unix.Mknod(filepath.Join(top, "www/index.html"), unix.S_IFCHR, 0); err != nil {
		t.Fatal(err)
	}
	if !host.InUserNS() { // real device nodes need real root
		if err := unix.Mknod(filepath.Join(top, "new/console"), unix.S_IFCHR|0o620, int(unix.Mkdev(5, 1))); err != nil {
			t.Fatal(err)
		}
		if err := unix.Mknod(filepath.Join(top, "new/loop7"), unix.S_IFBLK|0o660, int(unix.Mkdev(7, 7))); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Setxattr(filepath.Join(top, "etc"), host.OverlayOpaqueXattr(), []byte("y"), 0); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(top, "etc/hostname"), "demo\n")
	write(t, filepath.Join(top, "bin/extra"), "extra\n")
	write(t, filepath.Join(top, "new/file"), "new\n")
	return append(img.Layers, top)
}

func mkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkMerged checks what the demo layers look like once stacked.
func checkMerged(t *testing.T, target string) {
	t.Helper()
	want, _ := os.ReadFile("/usr/bin/busybox")
	if got, err := os.ReadFile(filepath.Join(target, "bin/busybox")); err != nil || !bytes.Equal(got, want) {
		t.Errorf("bin/busybox through the rootfs: %d bytes, %v", len(got), err)
	}
	if to, _ := os.Readlink(filepath.Join(target, "bin/sh")); to != "/bin/busybox" {
		t.Errorf("bin/sh -> %q", to)
	}
	for _, gone := range []string{"www/index.html", "etc/passwd", "etc/group"} {
		if _, err := os.Lstat(filepath.Join(target, gone)); !os.IsNotExist(err) {
			t.Errorf("%s not hidden: %v", gone, err)
		}
	}
	for _, there := range []string{"www", "etc/hostname", "bin/extra", "new/file", "tmp"} {
		if _, err := os.Lstat(filepath.Join(target, there)); err != nil {
			t.Errorf("%s: %v", there, err)
		}
	}
}

func mountedFS(t *testing.T, target string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && f[4] == target {
			for i, x := range f {
				if x == "-" && i+1 < len(f) {
					return f[i+1]
				}
			}
		}
	}
	return ""
}

func checkGone(t *testing.T, target, scratch string) {
	t.Helper()
	if fs := mountedFS(t, target); fs != "" {
		t.Errorf("%s still mounted (%s)", target, fs)
	}
	for _, d := range []string{target, scratch} {
		if _, err := os.Lstat(d); !os.IsNotExist(err) {
			t.Errorf("%s left behind: %v", d, err)
		}
	}
}

func TestMountOverlay(t *testing.T) {
	layers := demoLayers(t)
	dir := t.TempDir()
	target, scratch := filepath.Join(dir, "rootfs"), filepath.Join(dir, "scratch")
	if _, err := Mount(target, layers, scratch); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Unmount(target, scratch) })
	if fs := mountedFS(t, target); fs != "overlay" {
		t.Fatalf("target mounted as %q, want overlay", fs)
	}
	checkMerged(t, target)
	write(t, filepath.Join(target, "written"), "up\n")
	if b, err := os.ReadFile(filepath.Join(scratch, "upper/written")); err != nil || string(b) != "up\n" {
		t.Errorf("write did not reach the upper dir: %q %v", b, err)
	}
	if err := os.Remove(filepath.Join(target, "bin/extra")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(layers[len(layers)-1], "bin/extra")); err != nil {
		t.Errorf("removing through the mount touched the layer: %v", err)
	}
	for range 2 {
		if err := Unmount(target, scratch); err != nil {
			t.Fatalf("Unmount: %v", err)
		}
		checkGone(t, target, scratch)
	}
}

func TestCopyFallbackGivesSameTree(t *testing.T) {
	layers := demoLayers(t)
	dir := t.TempDir()
	target, scratch := filepath.Join(dir, "rootfs"), filepath.Join(dir, "scratch")
	if _, err := Mount(target, layers, scratch); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Unmount(target, scratch) })
	overlay := snapshot(t, target)
	if err := Unmount(target, scratch); err != nil {
		t.Fatal(err)
	}
	copied := filepath.Join(dir, "copied")
	mkdir(t, copied)
	if err := copyLayers(copied, layers); err != nil {
		t.Fatal(err)
	}
	checkMerged(t, copied)
	if diff := cmp.Diff(overlay, snapshot(t, copied)); diff != "" {
		t.Errorf("copy differs from overlay (-overlay +copy):\n%s", diff)
	}
	if err := Unmount(copied, filepath.Join(dir, "none")); err != nil {
		t.Fatal(err)
	}
	checkGone(t, copied, filepath.Join(dir, "none"))
}

// snapshot describes every file under root: type, mode, owner, content
// or link target, and mtime for non-directories.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		s := fmt.Sprintf("%v %d:%d", fi.Mode(), st.Uid, st.Gid)
		switch {
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			s += fmt.Sprintf(" %x %d", sha256.Sum256(b), fi.ModTime().Unix())
		case fi.Mode()&fs.ModeSymlink != 0:
			to, _ := os.Readlink(p)
			s += " -> " + to
		case fi.Mode()&fs.ModeDevice != 0:
			s += fmt.Sprintf(" %d:%d", unix.Major(st.Rdev), unix.Minor(st.Rdev))
		}
		m[rel] = s
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMountManyLongLayers stacks more layers than one page of mount(2)
// options could name.
func TestMountManyLongLayers(t *testing.T) {
	testenv.RequireRoot(t)
	dir := t.TempDir()
	var layers []string
	for i := range 60 {
		l := filepath.Join(dir, fmt.Sprintf("layer-%02d-%s", i, strings.Repeat("x", 100)))
		mkdir(t, l)
		write(t, filepath.Join(l, fmt.Sprintf("f%02d", i)), "x")
		layers = append(layers, l)
	}
	target, scratch := filepath.Join(dir, "rootfs"), filepath.Join(dir, "scratch")
	if _, err := Mount(target, layers, scratch); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Unmount(target, scratch) })
	if fs := mountedFS(t, target); fs != "overlay" {
		t.Fatalf("mounted as %q, want overlay", fs)
	}
	for i := range 60 {
		if _, err := os.Stat(filepath.Join(target, fmt.Sprintf("f%02d", i))); err != nil {
			t.Error(err)
		}
	}
	if err := Unmount(target, scratch); err != nil {
		t.Fatal(err)
	}
	checkGone(t, target, scratch)
}

func TestMountNoLayers(t *testing.T) {
	testenv.RequireRoot(t)
	dir := t.TempDir()
	target, scratch := filepath.Join(dir, "rootfs"), filepath.Join(dir, "scratch")
	if _, err := Mount(target, nil, scratch); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Unmount(target, scratch) })
	if fs := mountedFS(t, target); fs != "overlay" {
		t.Errorf("mounted as %q, want overlay", fs)
	}
	write(t, filepath.Join(target, "x"), "x")
	if err := Unmount(target, scratch); err != nil {
		t.Fatal(err)
	}
	checkGone(t, target, scratch)
}

// TestCopyPlainLayers needs no root: layers without whiteouts.
func TestCopyPlainLayers(t *testing.T) {
	dir := t.TempDir()
	a, b, target := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "t")
	mkdir(t, filepath.Join(a, "d"))
	mkdir(t, filepath.Join(b, "d"))
	mkdir(t, target)
	write(t, filepath.Join(a, "d/low"), "low")
	write(t, filepath.Join(a, "d/both"), "a")
	write(t, filepath.Join(b, "d/both"), "b")
	if err := os.Symlink("d", filepath.Join(a, "link")); err != nil {
		t.Fatal(err)
	}
	mkdir(t, filepath.Join(b, "link")) // a directory replaces a symlink
	write(t, filepath.Join(b, "link/in"), "in")
	if err := copyLayers(target, []string{a, b}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"d/low": "low", "d/both": "b", "link/in": "in"}
	for p, w := range want {
		if got, err := os.ReadFile(filepath.Join(target, p)); err != nil || string(got) != w {
			t.Errorf("%s = %q, %v; want %q", p, got, err, w)
		}
	}
	if _, err := os.Lstat(filepath.Join(target, "d/in")); !os.IsNotExist(err) {
		t.Errorf("copy wrote through the lower symlink: %v", err)
	}
}

// TestInUserNamespace runs the overlay tests again as an ordinary user,
// as uid 0 of a user namespace of its own: the kernel's overlayfs with
// userxattr, a 0/0 whiteout and a user.overlay.opaque directory.
func TestInUserNamespace(t *testing.T) {
	if host.InUserNS() {
		t.Skip("already in a user namespace")
	}
	testenv.RerunInUserNS(t, "^(TestMountOverlay|TestCopyFallbackGivesSameTree|TestMountMasksLayerSymlink)$",
		"TestMountOverlay", "TestCopyFallbackGivesSameTree", "TestMountMasksLayerSymlink")
}
