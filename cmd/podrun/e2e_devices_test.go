package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/internal/testenv"
)

// TestPodmanImportedRootfs: a root file system with device nodes, as
// debootstrap and mmdebstrap make one, turned into an image by podman
// import, loads, and a pod runs from it; the image's own device node (one
// outside /dev, where the runtime's tmpfs does not hide it) cannot be
// written, because the device cgroup denies it.
func TestPodmanImportedRootfs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pm := testenv.Podman(t)
	const ref = "localhost/podrun/imported:v1"
	rootfsTar := importableRootfs(t)
	pm("import", rootfsTar, ref)
	archive := filepath.Join(t.TempDir(), "imported.tar")
	pm("save", "--format", "docker-archive", "-o", archive, ref)
	e.must("image", "load", "-i", archive)
	consoles, _ := filepath.Glob(filepath.Join(e.root, "images/layers/sha256/*/dev/console"))
	var st unix.Stat_t
	if len(consoles) != 1 || unix.Lstat(consoles[0], &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(5, 1) {
		t.Errorf("the stored layer has no 5:1 /dev/console: %v %o %d", consoles, st.Mode, st.Rdev)
	}

	script := "ls -l /dev/console; cat /dev/null && echo ok; " +
		"if echo x > /mnt/console; then echo wrote-console; else echo console-denied; fi; sleep 600"
	path := e.manifest("pod.yaml", podYAML("imported", "",
		"  - name: c\n    image: "+ref+"\n    command: [\"/bin/sh\", \"-c\", \""+script+"\"]\n"+
			"    env: [{name: PATH, value: /bin}]\n"))
	e.must("apply", "-f", path)
	out := e.waitLog(t, "imported", "c", "ok", "console-denied")
	t.Logf("container log:\n%s", out)
	if !strings.Contains(out, "Operation not permitted") || strings.Contains(out, "wrote-console") {
		t.Errorf("writing the image's /mnt/console was not refused with EPERM:\n%s", out)
	}
	// The mounted root file system, image device nodes and all, is
	// reachable by root only.
	if fi, err := os.Stat(filepath.Join(e.runRoot, "pods", "default_imported")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("pod directory: %v %v, want 0700", fi, err)
	}
	if pod := e.pod("imported"); pod.Status.Phase != "Running" {
		t.Errorf("phase %q, want Running", pod.Status.Phase)
	}
	e.must("delete", "-f", path, "--grace-period", "1")
}

// importableRootfs writes a tar of a small root file system holding
// busybox and the device nodes debootstrap makes, plus /mnt/console.
func importableRootfs(t *testing.T) string {
	t.Helper()
	testenv.RequireFile(t, "/usr/bin/busybox", "install busybox-static: make deps")
	testenv.RequireBinary(t, "tar")
	dir := t.TempDir()
	root := filepath.Join(dir, "rootfs")
	for _, d := range []string{"bin", "dev", "mnt", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bb, err := os.ReadFile("/usr/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin/busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, applet := range []string{"sh", "ls", "cat", "sleep", "echo"} {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", applet)); err != nil {
			t.Fatal(err)
		}
	}
	nodes := []struct {
		name         string
		major, minor uint32
		mode         uint32
	}{{"dev/null", 1, 3, 0o666}, {"dev/zero", 1, 5, 0o666}, {"dev/console", 5, 1, 0o600}, {"mnt/console", 5, 1, 0o666}}
	for _, n := range nodes {
		p := filepath.Join(root, n.name)
		if err := unix.Mknod(p, unix.S_IFCHR|n.mode, int(unix.Mkdev(n.major, n.minor))); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, os.FileMode(n.mode)); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "rootfs.tar")
	if b, err := exec.Command("tar", "--numeric-owner", "-C", root, "-cf", out, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, b)
	}
	return out
}

// debianRootfs is the root file system `make deps` makes with mmdebstrap
// from Debian's mirror; a test never downloads it.
const debianRootfs = "/var/cache/podrun/debian-bookworm-essential.tar"

// TestMmdebstrapRootfs: the image users make with `mmdebstrap | podman
// import` (device nodes under /dev, hard links, setuid files, dpkg's
// database) loads, and a pod runs Debian's own shell and tools from it.
func TestMmdebstrapRootfs(t *testing.T) {
	t.Parallel()
	testenv.RequireFile(t, debianRootfs, "run `make deps`, which makes it with mmdebstrap")
	e := newEnv(t)
	pm := testenv.Podman(t)
	const ref = "localhost/podrun/debian:bookworm"
	pm("import", "--change", "CMD=/bin/bash", debianRootfs, ref)
	archive := filepath.Join(t.TempDir(), "debian.tar")
	pm("save", "--format", "docker-archive", "-o", archive, ref)
	e.must("image", "load", "-i", archive)
	nulls, _ := filepath.Glob(filepath.Join(e.root, "images/layers/sha256/*/dev/null"))
	var st unix.Stat_t
	if len(nulls) != 1 || unix.Lstat(nulls[0], &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(1, 3) {
		t.Errorf("the stored layer has no 1:3 /dev/null: %v %o %d", nulls, st.Mode, st.Rdev)
	}

	script := `. /etc/os-release && echo "os=$ID-$VERSION_CODENAME" && ` +
		`dpkg-query -W -f='${Package}=${Status}\n' dpkg && id -un && echo done; sleep 600`
	path := e.manifest("pod.yaml", podYAML("debian", "",
		"  - name: c\n    image: "+ref+"\n    command: [\"/bin/bash\", \"-c\", \""+strings.ReplaceAll(script, `"`, `\"`)+"\"]\n"))
	e.must("apply", "-f", path)
	out := e.waitLog(t, "debian", "c", "done")
	for _, want := range []string{"os=debian-bookworm", "dpkg=install ok installed", "root"} {
		if !strings.Contains(out, want) {
			t.Errorf("container log lacks %q:\n%s", want, out)
		}
	}
	if pod := e.pod("debian"); pod.Status.Phase != "Running" {
		t.Errorf("phase %q, want Running", pod.Status.Phase)
	}
	e.must("delete", "-f", path, "--grace-period", "1")
}
