package rootless

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// EnvUserNS carries the holder's user namespace inode into an entered
// command, which checks that it landed there.
const EnvUserNS = "_PODRUN_ROOTLESS_USERNS"

// ErrNotEntered is returned by CheckEntered for a process whose
// environment says it was entered into namespaces it is not in.
var ErrNotEntered = errors.New("not in the rootless namespaces")

// Command is the nsenter command that runs podrun (self) with args in
// the namespaces of the holder rec names, as uid 0 of its user namespace,
// in the current directory, with the environment Env makes.
func Command(rec Record, self, runRoot string, args []string) (*exec.Cmd, error) {
	nsenter, err := exec.LookPath("nsenter")
	if err != nil {
		nsenter = "/usr/bin/nsenter"
		if _, err := os.Stat(nsenter); err != nil {
			return nil, errors.New("nsenter is not installed (sudo apt-get install util-linux)")
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("reading the working directory: %w", err)
	}
	argv := append([]string{"--preserve-credentials", "-U", "-m", "-n",
		"-t", strconv.Itoa(rec.Holder.Pid), "--wd=" + wd, "--", self}, args...)
	cmd := exec.Command(nsenter, argv...)
	cmd.Env = Env(os.Environ(), UID(), rec.UserNS, runRoot)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd, nil
}

// Env is environ for a command inside the namespaces: the markers, a
// PATH with the sbin directories (where the CNI plugins find iptables,
// which an ordinary user's PATH lacks), and iptables's lock file in the
// run root (/run is not the user's).
func Env(environ []string, uid int, userNS uint64, runRoot string) []string {
	out := make([]string, 0, len(environ)+4)
	path := ""
	for _, kv := range environ {
		switch k, v, _ := strings.Cut(kv, "="); k {
		case EnvUser, EnvUserNS, "XTABLES_LOCKFILE":
		case "PATH":
			path = v
		default:
			out = append(out, kv)
		}
	}
	dirs := filepath.SplitList(path)
	for _, d := range []string{"/usr/local/sbin", "/usr/sbin", "/sbin"} {
		if !contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return append(out,
		"PATH="+strings.Join(dirs, ":"),
		EnvUser+"="+strconv.Itoa(uid),
		EnvUserNS+"="+strconv.FormatUint(userNS, 10),
		"XTABLES_LOCKFILE="+filepath.Join(runRoot, "xtables.lock"))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// CheckEntered verifies, in a process whose environment marks it as
// entered, that it runs in the user namespace the marker names.
func CheckEntered() error {
	want, err := strconv.ParseUint(os.Getenv(EnvUserNS), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s is not set (unset %s to run podrun as yourself)", ErrNotEntered, EnvUserNS, EnvUser)
	}
	got, err := SelfUserNS()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotEntered, err)
	}
	if got != want {
		return fmt.Errorf("%w: this process is in user namespace %d, not the holder's %d (unset %s and %s)", ErrNotEntered, got, want, EnvUser, EnvUserNS)
	}
	return nil
}
