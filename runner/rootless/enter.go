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

// EnvAPI and EnvPortFloor tell an entered command where slirp4netns's
// API socket is (to publish hostPorts) and the host's
// net.ipv4.ip_unprivileged_port_start, which cannot be read from inside
// the holder's network namespace.
const (
	EnvAPI       = "PODRUN_ROOTLESS_API"
	EnvPortFloor = "PODRUN_ROOTLESS_PORT_FLOOR"
	// EnvUplink names the running slirp4netns ("PID:STARTTIME"): a
	// holder replaced after a crash has a new one, which knows none of
	// the hostPorts published through the old; whoever published them
	// compares and publishes them again.
	EnvUplink = "PODRUN_ROOTLESS_UPLINK"
)

// ErrNotEntered is returned by CheckEntered for a process whose
// environment says it was entered into namespaces it is not in.
var ErrNotEntered = errors.New("not in the rootless namespaces")

// Command is the nsenter command that runs podrun (self) with args in
// the namespaces of the holder rec names, as uid 0 of its user namespace,
// in the current directory, with the environment Env makes. With hostNet
// the command keeps the host's network namespace (only the user and mount
// namespaces are entered): for the image verbs, whose registries, a
// loopback one included, are the host's to reach, as Podman pulls.
func Command(rec Record, self, runRoot string, args []string, hostNet bool) (*exec.Cmd, error) {
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
	ns := []string{"--preserve-credentials", "-U", "-m", "-n"}
	if hostNet {
		ns = ns[:3]
	}
	argv := append(append(ns, "-t", strconv.Itoa(rec.Holder.Pid), "--wd="+wd, "--", self), args...)
	cmd := exec.Command(nsenter, argv...)
	cmd.Env = Env(os.Environ(), UID(), rec, runRoot, portFloor())
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd, nil
}

// portFloor is the host's net.ipv4.ip_unprivileged_port_start.
func portFloor() int {
	n, ok := Machine{}.withDefaults().readInt("net/ipv4/ip_unprivileged_port_start")
	if !ok {
		return 1024
	}
	return n
}

// Env is environ for a command inside the namespaces of the holder rec
// names: the markers, slirp4netns's API socket and the host's lowest
// unprivileged port, a PATH with the sbin directories (where the CNI
// plugins find iptables, which an ordinary user's PATH lacks), and
// iptables's lock file in the run root (/run is not the user's).
func Env(environ []string, uid int, rec Record, runRoot string, floor int) []string {
	out := make([]string, 0, len(environ)+4)
	path := ""
	for _, kv := range environ {
		switch k, v, _ := strings.Cut(kv, "="); k {
		case EnvUser, EnvUserNS, EnvAPI, EnvPortFloor, EnvUplink, "XTABLES_LOCKFILE":
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
		EnvUserNS+"="+strconv.FormatUint(rec.UserNS, 10),
		EnvAPI+"="+rec.APISocket,
		EnvPortFloor+"="+strconv.Itoa(floor),
		EnvUplink+"="+rec.Uplink(),
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
