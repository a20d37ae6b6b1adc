package translate

import (
	"maps"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// SpecOpt changes one concern of a spec. Options are applied in order over
// DefaultSpec, so a later option sees what earlier ones did.
type SpecOpt func(*specs.Spec) error

// DefaultPath is the PATH of a container whose image and env set none
// (containerd's default).
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// newSpec applies opts in order over DefaultSpec.
func newSpec(opts ...SpecOpt) (*specs.Spec, error) {
	s := DefaultSpec()
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// OCIVersion is the runtime-spec version podrun's specs declare: the
// oldest that has every feature they use, so that the runtimes of stable
// distributions (runc 1.1, crun 1.8, which refuses versions newer than it
// knows) accept them.
const OCIVersion = "1.0.2"

// DefaultSpec is the spec every container starts from, as containerd's CRI
// plugin builds it for Linux before applying a container's config: the
// default capability set, masked and read-only /proc and /sys paths, the
// standard mounts without /run and /dev/shm (the pod provides /dev/shm),
// runc's default device rules, no rlimits, no seccomp, new namespaces of
// every kind, and root as the user.
func DefaultSpec() *specs.Spec {
	return &specs.Spec{
		Version: OCIVersion,
		Process: &specs.Process{
			User: specs.User{UID: 0, GID: 0},
			Env:  []string{"PATH=" + DefaultPath},
			Cwd:  "/",
			Capabilities: &specs.LinuxCapabilities{
				Bounding:  defaultCapabilities(),
				Effective: defaultCapabilities(),
				Permitted: defaultCapabilities(),
			},
		},
		Root:   &specs.Root{Path: "rootfs"},
		Mounts: defaultMounts(),
		Linux: &specs.Linux{
			Resources: &specs.LinuxResources{Devices: defaultDevices()},
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace},
				{Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace},
				{Type: specs.MountNamespace},
				{Type: specs.NetworkNamespace},
			},
			MaskedPaths: []string{
				"/proc/acpi",
				"/proc/asound",
				"/proc/kcore",
				"/proc/keys",
				"/proc/latency_stats",
				"/proc/timer_list",
				"/proc/timer_stats",
				"/proc/sched_debug",
				"/proc/scsi",
				"/sys/firmware",
				"/sys/devices/virtual/powercap",
			},
			ReadonlyPaths: []string{
				"/proc/bus",
				"/proc/fs",
				"/proc/irq",
				"/proc/sys",
				"/proc/sysrq-trigger",
			},
		},
	}
}

func defaultCapabilities() []string {
	return []string{
		"CAP_CHOWN",
		"CAP_DAC_OVERRIDE",
		"CAP_FSETID",
		"CAP_FOWNER",
		"CAP_MKNOD",
		"CAP_NET_RAW",
		"CAP_SETGID",
		"CAP_SETUID",
		"CAP_SETFCAP",
		"CAP_SETPCAP",
		"CAP_NET_BIND_SERVICE",
		"CAP_SYS_CHROOT",
		"CAP_KILL",
		"CAP_AUDIT_WRITE",
	}
}

func defaultMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
	}
}

// defaultDevices denies every device, then allows what runc allows by
// default: mknod of any node, and the standard character devices.
func defaultDevices() []specs.LinuxDeviceCgroup {
	char := func(major int64, minor *int64) specs.LinuxDeviceCgroup {
		return specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: &major, Minor: minor, Access: "rwm"}
	}
	n := func(v int64) *int64 { return &v }
	return []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Access: "m"},
		{Allow: true, Type: "b", Access: "m"},
		char(1, n(3)),  // /dev/null
		char(1, n(5)),  // /dev/zero
		char(1, n(7)),  // /dev/full
		char(1, n(8)),  // /dev/random
		char(1, n(9)),  // /dev/urandom
		char(5, n(0)),  // /dev/tty
		char(5, n(2)),  // /dev/ptmx
		char(136, nil), // /dev/pts/*
	}
}

// WithProcessArgs sets the argv of the container's process.
func WithProcessArgs(args ...string) SpecOpt {
	return func(s *specs.Spec) error {
		s.Process.Args = slices.Clone(args)
		return nil
	}
}

// WithEnv merges env into the process environment with containerd's
// semantics: an entry replaces the earlier one of the same name in place,
// a new name is appended, and an entry without "=" unsets the name.
func WithEnv(env []string) SpecOpt {
	return func(s *specs.Spec) error {
		s.Process.Env = mergeEnv(s.Process.Env, env)
		return nil
	}
}

// mergeEnv is the one place where environment precedence is decided.
func mergeEnv(base, overrides []string) []string {
	out := slices.Clone(base)
	index := make(map[string]int, len(out))
	for i, e := range out {
		k, _, _ := strings.Cut(e, "=")
		index[k] = i
	}
	unset := make(map[int]bool)
	for _, e := range overrides {
		k, _, ok := strings.Cut(e, "=")
		i, exists := index[k]
		switch {
		case !ok && exists:
			unset[i] = true
		case !ok:
		case exists:
			out[i] = e
			delete(unset, i)
		default:
			out = append(out, e)
			index[k] = len(out) - 1
		}
	}
	kept := out[:0]
	for i, e := range out {
		if !unset[i] {
			kept = append(kept, e)
		}
	}
	return kept
}

// WithCwd sets the working directory of the process.
func WithCwd(dir string) SpecOpt {
	return func(s *specs.Spec) error {
		s.Process.Cwd = dir
		return nil
	}
}

// WithUser sets the user of the process.
func WithUser(u specs.User) SpecOpt {
	return func(s *specs.Spec) error {
		s.Process.User = u
		return nil
	}
}

// WithNoNewPrivileges sets the process's no_new_privs bit.
func WithNoNewPrivileges(on bool) SpecOpt {
	return func(s *specs.Spec) error {
		s.Process.NoNewPrivileges = on
		return nil
	}
}

// WithTTY gives the process a terminal, as containerd's WithTTY: the
// runtime makes a pseudo-terminal its standard streams, and TERM=xterm
// comes before the image's and the container's environment, which may
// replace it. Without tty it does nothing.
func WithTTY(tty bool) SpecOpt {
	return func(s *specs.Spec) error {
		if tty {
			s.Process.Terminal = true
			s.Process.Env = mergeEnv(s.Process.Env, []string{"TERM=xterm"})
		}
		return nil
	}
}

// WithRoot sets the root file system.
func WithRoot(path string, readonly bool) SpecOpt {
	return func(s *specs.Spec) error {
		s.Root = &specs.Root{Path: path, Readonly: readonly}
		return nil
	}
}

// WithHostname sets the hostname of a new UTS namespace.
func WithHostname(name string) SpecOpt {
	return func(s *specs.Spec) error {
		s.Hostname = name
		return nil
	}
}

// WithCgroupsPath sets the container's cgroup path.
func WithCgroupsPath(p string) SpecOpt {
	return func(s *specs.Spec) error {
		s.Linux.CgroupsPath = p
		return nil
	}
}

// WithNamespaces replaces the namespace list.
func WithNamespaces(ns []specs.LinuxNamespace) SpecOpt {
	return func(s *specs.Spec) error {
		s.Linux.Namespaces = slices.Clone(ns)
		return nil
	}
}

// WithAnnotations adds annotations, replacing values of the same key.
func WithAnnotations(a map[string]string) SpecOpt {
	return func(s *specs.Spec) error {
		if s.Annotations == nil {
			s.Annotations = make(map[string]string, len(a))
		}
		maps.Copy(s.Annotations, a)
		return nil
	}
}

// WithMounts adds mounts after the existing ones, as containerd's CRI
// plugin does: a mount replaces any earlier mount at the same destination,
// and the added mounts are ordered by the depth of their destination
// (stable, so equal depths keep their order) so that a parent is mounted
// before what is mounted inside it.
func WithMounts(mounts ...specs.Mount) SpecOpt {
	return func(s *specs.Spec) error {
		added := slices.Clone(mounts)
		for i := range added {
			added[i].Options = slices.Clone(added[i].Options)
		}
		slices.SortStableFunc(added, func(a, b specs.Mount) int {
			return mountDepth(a.Destination) - mountDepth(b.Destination)
		})
		s.Mounts = slices.DeleteFunc(s.Mounts, func(m specs.Mount) bool {
			return slices.ContainsFunc(added, func(a specs.Mount) bool {
				return cleanPath(a.Destination) == cleanPath(m.Destination)
			})
		})
		s.Mounts = append(s.Mounts, added...)
		return nil
	}
}

func mountDepth(p string) int {
	p = cleanPath(p)
	if p == "/" {
		return 0
	}
	return strings.Count(p, "/")
}
