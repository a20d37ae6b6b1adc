// Package testenv gates tests on what the machine has. Outside CI a test
// whose prerequisite is missing skips with the reason; with CI=true it
// fails, so that a green CI means every test ran.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
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
