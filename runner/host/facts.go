package host

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/translate"
)

// Facts reads what translate needs to know about this machine for every
// pod: its name, resolver and hosts files, cgroup version, whether podrun
// runs rootless, its address, allocatable resources, whether swap can be
// limited, the capabilities podrun may hand on, and whether AppArmor is
// enabled. Devices, needed only by privileged pods, are read apart.
func Facts() (translate.Host, error) {
	name, err := os.Hostname()
	if err != nil {
		return translate.Host{}, fmt.Errorf("reading the host name: %w", err)
	}
	resolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil && !os.IsNotExist(err) {
		return translate.Host{}, fmt.Errorf("reading the host's resolv.conf: %w", err)
	}
	hosts, err := os.ReadFile("/etc/hosts")
	if err != nil && !os.IsNotExist(err) {
		return translate.Host{}, fmt.Errorf("reading the host's hosts file: %w", err)
	}
	var sfs unix.Statfs_t
	v2 := unix.Statfs("/sys/fs/cgroup", &sfs) == nil && sfs.Type == unix.CGROUP2_SUPER_MAGIC
	allocatable, err := Allocatable()
	if err != nil {
		return translate.Host{}, err
	}
	caps, err := boundingSet()
	if err != nil {
		return translate.Host{}, err
	}
	return translate.Host{
		CgroupV2:       v2,
		Rootless:       os.Geteuid() != 0,
		NodeName:       name,
		HostIP:         IP(),
		ResolvConf:     resolv,
		Hosts:          hosts,
		Allocatable:    allocatable,
		SwapAccounting: swapAccounting(),
		Capabilities:   caps,
		AppArmor:       appArmorEnabled("/sys"),
		UserNS:         UserNSFacts(),
	}, nil
}

// appArmorEnabled reports whether AppArmor is enabled, as runc and the
// kubelet decide it: the module's enabled parameter reads Y, and its
// security file system is there. sys is /sys, or a test's stand-in.
func appArmorEnabled(sys string) bool {
	if _, err := os.Stat(filepath.Join(sys, "kernel/security/apparmor")); err != nil {
		return false
	}
	data, err := os.ReadFile(filepath.Join(sys, "module/apparmor/parameters/enabled"))
	return err == nil && len(data) > 0 && data[0] == 'Y'
}

// IP is the address a kubelet would report as status.hostIP: the first
// global unicast IPv4 address of an interface that is up and is not one of
// the pods' own (bridges, veths), or 127.0.0.1 on a machine with none.
func IP() string {
	ifaces, err := net.Interfaces()
	if err != nil {
		return "127.0.0.1"
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 || podInterface(ifc.Name) {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && ipn.IP.IsGlobalUnicast() {
				return ipn.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

func podInterface(name string) bool {
	for _, p := range []string{"podrun", "veth", "cni", "prn", "docker", "br-"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// boundingSet is the capabilities podrun may hand on: its bounding set.
func boundingSet() ([]string, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil, fmt.Errorf("reading podrun's capabilities: %w", err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return nil, fmt.Errorf("reading podrun's capabilities: %w", err)
			}
			return translate.CapabilitiesFromMask(mask), nil
		}
	}
	return nil, errors.New("reading podrun's capabilities: no CapBnd in /proc/self/status")
}

// swapAccounting reports whether a memory cgroup can limit swap: the
// memsw files of cgroup v1, or memory.swap.max of cgroup v2.
func swapAccounting() bool {
	for _, p := range []string{"/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", "/sys/fs/cgroup/init.scope/memory.swap.max", "/sys/fs/cgroup/system.slice/memory.swap.max"} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// Devices lists the device nodes under dir that a privileged
// container gets, as containerd lists them (pts, shm, mqueue and fd are
// the container's own).
func Devices(dir string) ([]specs.LinuxDevice, error) {
	var devs []specs.LinuxDevice
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // a node that vanished or is unreadable is skipped
		}
		if d.IsDir() {
			switch d.Name() {
			case "pts", "shm", "mqueue", "fd", ".lxc", ".lxd-mounts", ".udev":
				return filepath.SkipDir
			}
			return nil
		}
		var st unix.Stat_t
		if unix.Lstat(path, &st) != nil {
			return nil
		}
		typ := ""
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFCHR:
			typ = "c"
		case unix.S_IFBLK:
			typ = "b"
		default:
			return nil
		}
		mode := fs.FileMode(st.Mode & 0o777)
		uid, gid := st.Uid, st.Gid
		devs = append(devs, specs.LinuxDevice{
			Path: path, Type: typ, Major: int64(unix.Major(st.Rdev)), Minor: int64(unix.Minor(st.Rdev)),
			FileMode: &mode, UID: &uid, GID: &gid,
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing the host's devices: %w", err)
	}
	return devs, nil
}
