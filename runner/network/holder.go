package network

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/podrun/podrun/translate"
)

// CheckPortFree says whether port/protocol can be bound on every IPv4
// address of this machine, as a NodePort is published: nil when it can,
// an error wrapping ErrPortInUse, naming the process that holds it when
// /proc tells, when it cannot.
func CheckPortFree(port int32, protocol string) error {
	err := checkPort(translate.Port{HostPort: port, Protocol: protocol})
	if !errors.Is(err, ErrPortInUse) {
		return err
	}
	proto := strings.ToUpper(protocol)
	if who := PortHolder(port, protocol); who != "" {
		return fmt.Errorf("%w: %d/%s is held by %s on this machine", ErrPortInUse, port, proto, who)
	}
	return fmt.Errorf("%w: %d/%s is held by another process on this machine", ErrPortInUse, port, proto)
}

// PortHolder names the process holding a socket bound to port/protocol
// in this network namespace, as "pid 42 (nc)", or "" when /proc does not
// tell (another user's process, seen without the right to read its file
// descriptors).
func PortHolder(port int32, protocol string) string {
	proto := strings.ToLower(protocol)
	if proto == "" {
		proto = "tcp"
	}
	inodes := map[string]bool{}
	for _, table := range []string{proto, proto + "6"} {
		for _, ino := range socketInodes(filepath.Join("/proc/net", table), port, proto == "tcp") {
			inodes[ino] = true
		}
	}
	if len(inodes) == 0 {
		return ""
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return ""
	}
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		fds, err := os.ReadDir(filepath.Join("/proc", p.Name(), "fd"))
		if err != nil {
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join("/proc", p.Name(), "fd", fd.Name()))
			if err != nil {
				continue
			}
			if ino, ok := strings.CutPrefix(link, "socket:["); ok && inodes[strings.TrimSuffix(ino, "]")] {
				comm, _ := os.ReadFile(filepath.Join("/proc", p.Name(), "comm"))
				return fmt.Sprintf("pid %d (%s)", pid, strings.TrimSpace(string(comm)))
			}
		}
	}
	return ""
}

// socketInodes reads a /proc/net table (tcp, udp6, ...) for the inodes
// of the sockets bound to port: listening ones only when listening.
func socketInodes(table string, port int32, listening bool) []string {
	f, err := os.Open(table)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Scan() // the header
	for sc.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		fs := strings.Fields(sc.Text())
		if len(fs) < 10 {
			continue
		}
		_, hexPort, ok := strings.Cut(fs[1], ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil || int32(n) != port || (listening && fs[3] != "0A") {
			continue
		}
		out = append(out, fs[9])
	}
	return out
}
