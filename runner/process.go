package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/objects"
	"github.com/podrun/podrun/translate"
)

// Objects is the store of the ConfigMaps and Secrets podrun has applied.
func (r *Runner) Objects() *objects.Store {
	return objects.Open(filepath.Join(r.cfg.RunRoot, "objects"))
}

// processInput hands translate what the process, identity and resource
// fields of a pod need: the objects of its namespace, the machine's
// allocatable resources and devices, seccomp profiles, the sysctl
// allowlist.
func (r *Runner) processInput(in *translate.Input) error {
	store := r.Objects()
	var err error
	if in.ConfigMaps, _, err = store.ConfigMaps.List(in.Pod.Namespace); err != nil {
		return err
	}
	if in.Secrets, _, err = store.Secrets.List(in.Pod.Namespace); err != nil {
		return err
	}
	addUnstored(in, r.unstored)
	if in.Host.Allocatable, err = nodeAllocatable(); err != nil {
		return err
	}
	in.Host.SwapAccounting = swapAccounting()
	if in.Host.Capabilities, err = boundingSet(); err != nil {
		return err
	}
	if privileged(in.Pod) {
		if in.Host.Devices, err = hostDevices("/dev"); err != nil {
			return err
		}
	}
	if in.Host.SeccompDefault, err = defaultSeccomp(); err != nil {
		return err
	}
	if in.SeccompProfiles, err = r.localhostSeccomp(in.Pod); err != nil {
		return err
	}
	in.AllowedUnsafeSysctls = r.cfg.AllowedUnsafeSysctls
	return nil
}

// addUnstored adds to in the ConfigMaps and Secrets of set in the pod's
// namespace, in place of stored ones of the same name, as apply would
// store them before the pod starts.
func addUnstored(in *translate.Input, set *kube.Set) {
	if set == nil {
		return
	}
	for _, cm := range set.ConfigMaps {
		if cm.ConfigMap.Namespace == in.Pod.Namespace {
			in.ConfigMaps[cm.ConfigMap.Name] = cm.ConfigMap
		}
	}
	for _, s := range set.Secrets {
		if s.Secret.Namespace == in.Pod.Namespace {
			in.Secrets[s.Secret.Name] = s.Secret
		}
	}
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
		if exists(p) {
			return true
		}
	}
	return false
}

func privileged(pod *corev1.Pod) bool {
	for _, c := range allContainers(&pod.Spec) {
		if c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged {
			return true
		}
	}
	return false
}

// hostDevices lists the device nodes under dir that a privileged
// container gets, as containerd lists them (pts, shm, mqueue and fd are
// the container's own).
func hostDevices(dir string) ([]specs.LinuxDevice, error) {
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
