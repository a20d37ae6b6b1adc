package rootless

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// EnvUser marks a podrun process that runs inside the holder's
// namespaces: its value is the user's uid outside (inside, every uid
// reads 0). A command that finds it set does not enter again.
const EnvUser = "_PODRUN_ROOTLESS_UID"

// Enabled reports whether podrun runs rootless: as an ordinary user, or
// inside the namespaces such a user's command entered.
func Enabled() bool { return os.Geteuid() != 0 || Inside() }

// Inside reports whether this process runs inside the holder's namespaces.
func Inside() bool { return os.Getenv(EnvUser) != "" }

// UID is the user's uid on the host, inside the namespaces too.
func UID() int {
	if v := os.Getenv(EnvUser); v != "" {
		if uid, err := strconv.Atoi(v); err == nil {
			return uid
		}
	}
	return os.Getuid()
}

// Dirs are the rootless defaults for the global flags.
type Dirs struct {
	Root       string // images, volumes: $XDG_DATA_HOME/podrun
	RunRoot    string // pods, bundles, locks: $XDG_RUNTIME_DIR/podrun or /tmp/podrun-UID
	CNIConfDir string // the user's CNI networks, under the run root
}

// Defaults are the user's directories, from the environment as the XDG
// base directory specification has them: $XDG_DATA_HOME (else
// ~/.local/share) for what survives reboots, $XDG_RUNTIME_DIR (else
// /tmp/podrun-UID) for what does not.
func Defaults() Dirs {
	uid := UID()
	data := os.Getenv("XDG_DATA_HOME")
	if data == "" || !filepath.IsAbs(data) {
		home := os.Getenv("HOME")
		if home == "" {
			home = filepath.Join("/tmp", "podrun-"+strconv.Itoa(uid)+"-home")
		}
		data = filepath.Join(home, ".local", "share")
	}
	run := filepath.Join("/tmp", "podrun-"+strconv.Itoa(uid))
	// Owned by us as this namespace sees it: outside the user's uid,
	// inside the holder's namespaces 0, the user's uid mapped.
	if x := os.Getenv("XDG_RUNTIME_DIR"); x != "" && filepath.IsAbs(x) && ownedBy(x, os.Geteuid()) {
		run = filepath.Join(x, "podrun")
	}
	return Dirs{
		Root:       filepath.Join(data, "podrun"),
		RunRoot:    run,
		CNIConfDir: filepath.Join(run, "cni", "net.d"),
	}
}

// ownedBy reports whether path is a directory that uid owns.
func ownedBy(path string, uid int) bool {
	fi, err := os.Stat(path)
	if err != nil || !fi.IsDir() {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == uid
}

// ErrNotPrivate is returned for a directory the user cannot keep private.
var ErrNotPrivate = errors.New("directory is not the user's own")

// PrivateDir makes dir (and its parents) for the user, 0700 and owned
// by the user, and refuses one that is a symbolic link or another
// uid's: under /tmp anyone may have made it first.
func PrivateDir(dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return fmt.Errorf("making %s: %w", dir, err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("making %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("making %s: %w", dir, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || !ok || int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%w: %s is not a directory of uid %d (remove it, or pass --run-root DIR)", ErrNotPrivate, dir, os.Geteuid())
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("making %s private: %w", dir, err)
		}
	}
	return nil
}

// Subnet is the user's pod subnet: a /24 of 10.128.0.0/9 chosen by the
// uid, apart from root's 10.90.0.0/16, the default Service range
// 10.96.0.0/16 and, for uids below 32768, every other user's.
func Subnet(uid int) string {
	i := uid & 0x7fff
	return fmt.Sprintf("10.%d.%d.0/24", 128+i>>8, i&0xff)
}
