// Package testenv gates tests on what the machine has. Outside CI a test
// whose prerequisite is missing skips with the reason; with CI=true it
// fails, so that a green CI means every test ran.
package testenv

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/podrun/podrun/runner/host"
)

// InCI reports whether the tests run in CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// Need skips (or, in CI, fails) t with why unless ok.
func Need(t testing.TB, ok bool, why string) {
	t.Helper()
	if ok {
		return
	}
	if InCI() {
		t.Fatalf("CI=true but %s", why)
	}
	t.Skip(why)
}

// RequireRoot needs the test to run as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	Need(t, os.Geteuid() == 0, "the test needs root (run `sudo make test`)")
}

// RequireBinary needs each named program on $PATH and returns their paths.
func RequireBinary(t testing.TB, names ...string) []string {
	t.Helper()
	paths := make([]string, 0, len(names))
	for _, n := range names {
		p, err := exec.LookPath(n)
		Need(t, err == nil, n+" is not installed (run `make deps`)")
		paths = append(paths, p)
	}
	return paths
}

// RequireFile needs path to exist (a CNI plugin, say).
func RequireFile(t testing.TB, path, hint string) {
	t.Helper()
	_, err := os.Stat(path)
	Need(t, err == nil, path+" is missing ("+hint+")")
}

// RequireRuntime needs the OCI runtime the tests run, bundled: podrun's own
// runc (runtime.Bundled, passed in to keep this package free of podrun's),
// which `make deps` builds. In CI it must be there; elsewhere a missing one
// falls back to runc from $PATH, with a note in the test's log.
func RequireRuntime(t testing.TB, bundled string) string {
	t.Helper()
	if fi, err := os.Stat(bundled); err == nil && fi.Mode()&0o111 != 0 {
		return bundled
	}
	Need(t, !InCI(), bundled+" is missing (run `make deps`, which builds it)")
	t.Logf("%s is missing (run `make deps`); testing with runc from $PATH", bundled)
	return RequireBinary(t, "runc")[0]
}

// Podman returns a runner of Debian's podman with storage of its own
// under t's temp dir (vfs, no events, cgroupfs), failing t when podman
// fails: archives made and read by a real tool, touching nothing else.
func Podman(t testing.TB) func(args ...string) string {
	t.Helper()
	RequireRoot(t)
	bin := RequireBinary(t, "podman")[0]
	dir := t.TempDir()
	return func(args ...string) string {
		t.Helper()
		full := append([]string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"),
			"--storage-driver", "vfs", "--events-backend", "none", "--cgroup-manager", "cgroupfs"}, args...)
		out, err := exec.Command(bin, full...).CombinedOutput()
		if err != nil {
			t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
}

// SkipInUserNS skips a test that needs real root, such as one making
// device nodes, when it runs as uid 0 of a user namespace that is not the
// initial one (`unshare --user --map-root-user`), where root is not root.
// It never fails under CI: CI runs in the initial namespace.
func SkipInUserNS(t testing.TB, why string) {
	t.Helper()
	if host.InUserNS() {
		t.Skip("in a user namespace that is not the initial one: " + why)
	}
}

// RootlessUser is the ordinary user the rootless tests run as.
const RootlessUser = "podrun-rootless"

// RequireRootlessUser makes RootlessUser (Debian's useradd gives it
// subordinate ids) unless it exists, and returns its uid, gid and first
// subordinate uid. It needs root, useradd, and the uidmap tools.
func RequireRootlessUser(t testing.TB) (uid, gid, subuid int) {
	t.Helper()
	RequireRoot(t)
	RequireBinary(t, "useradd", "setpriv", "unshare", "newuidmap", "newgidmap")
	if _, err := user.Lookup(RootlessUser); err != nil {
		if out, err := exec.Command("useradd", "--create-home", "--shell", "/bin/sh", RootlessUser).CombinedOutput(); err != nil {
			t.Fatalf("making the test user %s: %v\n%s", RootlessUser, err, out)
		}
	}
	u, err := user.Lookup(RootlessUser)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	subuid = subordinate("/etc/subuid", u.Username)
	if subuid < 0 || subordinate("/etc/subgid", u.Username) < 0 {
		t.Fatalf("%s has no range in /etc/subuid or /etc/subgid: add one (usermod --add-subuids 200000-265535 --add-subgids 200000-265535 %[1]s)", RootlessUser)
	}
	return uid, gid, subuid
}

// subordinate is the first id of name's range in file, or -1.
func subordinate(file, name string) int {
	data, err := os.ReadFile(file)
	if err != nil {
		return -1
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) == 3 && f[0] == name {
			if n, err := strconv.Atoi(f[1]); err == nil {
				return n
			}
		}
	}
	return -1
}

// AsRootlessUser is the argv prefix that runs a command as uid:gid with
// a clean environment whose HOME and TMPDIR are home.
func AsRootlessUser(uid, gid int, home string) []string {
	return []string{"setpriv", "--reuid=" + strconv.Itoa(uid), "--regid=" + strconv.Itoa(gid), "--init-groups",
		"env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + home, "TMPDIR=" + home}
}

// RerunInUserNS runs the tests of this test binary that match pattern as
// RootlessUser, as uid 0 of a user namespace of its own (full subordinate
// mapping) with a mount namespace of its own, as podrun runs inside the
// per-user namespace holder, and fails t unless each test named in want
// passed there.
func RerunInUserNS(t *testing.T, pattern string, want ...string) {
	t.Helper()
	uid, gid, _ := RequireRootlessUser(t)
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "pkg.test")
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(home, uid, gid); err != nil {
		t.Fatal(err)
	}
	argv := append(AsRootlessUser(uid, gid, home), "unshare", "--user", "--map-auto", "--map-root-user", "--mount", "--fork",
		bin, "-test.run", pattern, "-test.v", "-test.count=1")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = home
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("in a user namespace as %s: %v\n%s", RootlessUser, err, out)
		return
	}
	for _, name := range want {
		if !strings.Contains(string(out), "--- PASS: "+name+" ") {
			t.Errorf("in a user namespace as %s, %s did not pass:\n%s", RootlessUser, name, out)
		}
	}
}
