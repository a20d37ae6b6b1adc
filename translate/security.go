package translate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// effectiveSecurity merges the pod's security context under the
// container's, field by field: the container's wins where it is set.
// This is the one place where that precedence is decided.
func effectiveSecurity(pod *corev1.PodSpec, c *corev1.Container) corev1.SecurityContext {
	var sc corev1.SecurityContext
	if c.SecurityContext != nil {
		sc = *c.SecurityContext.DeepCopy()
	}
	psc := pod.SecurityContext
	if psc == nil {
		return sc
	}
	if sc.RunAsUser == nil {
		sc.RunAsUser = psc.RunAsUser
	}
	if sc.RunAsGroup == nil {
		sc.RunAsGroup = psc.RunAsGroup
	}
	if sc.RunAsNonRoot == nil {
		sc.RunAsNonRoot = psc.RunAsNonRoot
	}
	if sc.SeccompProfile == nil {
		sc.SeccompProfile = psc.SeccompProfile
	}
	if sc.AppArmorProfile == nil {
		sc.AppArmorProfile = psc.AppArmorProfile
	}
	return sc
}

// userString is the user a container runs as, in the image USER syntax,
// as the kubelet and containerd compose it: runAsUser replaces the
// image's user (and its group), runAsGroup replaces the group; with
// neither, the image's USER.
func userString(image string, runAsUser, runAsGroup *int64) string {
	if runAsUser == nil && runAsGroup == nil {
		return image
	}
	name, _, _ := strings.Cut(image, ":")
	if runAsUser != nil {
		name = strconv.FormatInt(*runAsUser, 10)
	}
	if runAsGroup != nil {
		return name + ":" + strconv.FormatInt(*runAsGroup, 10)
	}
	return name
}

// processUser resolves the container's user through its /etc/passwd and
// /etc/group, then adds the pod's supplementalGroups and fsGroup. With
// supplementalGroupsPolicy Strict, groups listing the user in /etc/group
// are not added.
func (p *podContext) processUser(c *corev1.Container, img Image, sc corev1.SecurityContext, fp *field.Path) (specs.User, error) {
	user := userString(img.User, sc.RunAsUser, sc.RunAsGroup)
	u, err := resolveUser(user, p.in.UserDB[c.Name])
	if err != nil {
		return u, fieldErrorf(fp, "resolving user %q of %s: %w", user, c.Image, err)
	}
	psc := p.in.Pod.Spec.SecurityContext
	if psc == nil {
		return u, nil
	}
	if psc.SupplementalGroupsPolicy != nil && *psc.SupplementalGroupsPolicy == corev1.SupplementalGroupsPolicyStrict {
		u.AdditionalGids = []uint32{u.GID}
	}
	extra := slices.Clone(psc.SupplementalGroups)
	if psc.FSGroup != nil {
		extra = append(extra, *psc.FSGroup)
	}
	for _, g := range extra {
		if !slices.Contains(u.AdditionalGids, uint32(g)) {
			u.AdditionalGids = append(u.AdditionalGids, uint32(g))
		}
	}
	return u, nil
}

// checkRunAsNonRoot enforces runAsNonRoot as the kubelet does, with its
// messages: a runAsUser of 0, an image that runs as root (no USER, or
// uid 0) or names its user (which cannot be verified) is refused.
func checkRunAsNonRoot(pod *corev1.Pod, c *corev1.Container, img Image, sc corev1.SecurityContext) error {
	if !isTrue(sc.RunAsNonRoot) {
		return nil
	}
	who := fmt.Sprintf("pod: %q, container: %s", fmt.Sprintf("%s_%s(%s)", pod.Name, pod.Namespace, pod.UID), c.Name)
	if sc.RunAsUser != nil {
		if *sc.RunAsUser == 0 {
			return configErrorf("container's runAsUser breaks non-root policy (%s)", who)
		}
		return nil
	}
	name, _, _ := strings.Cut(img.User, ":")
	if name == "" {
		name = "0"
	}
	uid, err := strconv.ParseUint(name, 10, 32)
	switch {
	case err != nil:
		return configErrorf("container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is non-root (%s)", name, who)
	case uid == 0:
		return configErrorf("container has runAsNonRoot and image will run as root (%s)", who)
	}
	return nil
}

// allCapabilities are the capabilities "ALL" and privileged stand for:
// every one the kernel headers of runc 1.1 and crun 1.8 know.
var allCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
	"CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
	"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// capabilities computes a container's capability set as containerd does:
// privileged gets them all (all that podrun itself holds, host, when
// known); otherwise the default set, then "ALL" in add
// adds all and "ALL" in drop drops all, then each named capability (with
// or without its CAP_ prefix, any case) is added, then each is dropped.
func capabilities(sc corev1.SecurityContext, host []string, fp *field.Path) ([]string, error) {
	all := allCapabilities
	if host != nil {
		all = host
	}
	if isTrue(sc.Privileged) {
		return slices.Clone(all), nil
	}
	caps := defaultCapabilities()
	if sc.Capabilities == nil {
		return caps, nil
	}
	add, err := capNames(sc.Capabilities.Add, fp.Child("capabilities", "add"))
	if err != nil {
		return nil, err
	}
	drop, err := capNames(sc.Capabilities.Drop, fp.Child("capabilities", "drop"))
	if err != nil {
		return nil, err
	}
	if slices.Contains(add, "ALL") {
		caps = slices.Clone(all)
	}
	if slices.Contains(drop, "ALL") {
		caps = nil
	}
	for _, c := range add {
		if c != "ALL" && !slices.Contains(caps, c) {
			caps = append(caps, c)
		}
	}
	return slices.DeleteFunc(caps, func(c string) bool { return slices.Contains(drop, c) }), nil
}

// CapabilitiesFromMask names the capabilities set in a mask such as
// CapBnd of /proc/<pid>/status.
func CapabilitiesFromMask(mask uint64) []string {
	var caps []string
	for i, name := range allCapabilities {
		if mask&(1<<i) != 0 {
			caps = append(caps, name)
		}
	}
	return caps
}

// capNames normalises capability names to CAP_X (or ALL) and refuses
// names no runtime knows.
func capNames(list []corev1.Capability, fp *field.Path) ([]string, error) {
	var out []string
	for i, c := range list {
		name := strings.ToUpper(string(c))
		if name != "ALL" && !strings.HasPrefix(name, "CAP_") {
			name = "CAP_" + name
		}
		if name != "ALL" && !slices.Contains(allCapabilities, name) {
			return nil, fieldErrorf(fp.Index(i), "%w %q", ErrUnknownCapability, c)
		}
		out = append(out, name)
	}
	return out, nil
}

// WithCapabilities sets the bounding, effective and permitted sets, as
// containerd does (inheritable and ambient stay empty).
func WithCapabilities(caps []string) SpecOpt {
	return func(s *specs.Spec) error {
		s.Process.Capabilities = &specs.LinuxCapabilities{
			Bounding:  slices.Clone(caps),
			Effective: slices.Clone(caps),
			Permitted: slices.Clone(caps),
		}
		return nil
	}
}

// WithPrivileged lifts the confinement of a privileged container as
// containerd does: no masked or read-only paths, /sys and its cgroup
// mount writable, every device of the host allowed and created.
func WithPrivileged(devices []specs.LinuxDevice) SpecOpt {
	return func(s *specs.Spec) error {
		s.Linux.MaskedPaths = nil
		s.Linux.ReadonlyPaths = nil
		for i, m := range s.Mounts {
			if m.Destination == "/sys" || m.Destination == "/sys/fs/cgroup" {
				s.Mounts[i].Options = slices.DeleteFunc(slices.Clone(m.Options), func(o string) bool { return o == "ro" })
				s.Mounts[i].Options = append(s.Mounts[i].Options, "rw")
			}
		}
		s.Linux.Devices = slices.Clone(devices)
		s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
		return nil
	}
}

// WithReadonlyRootfs makes the root file system read-only when ro is set.
func WithReadonlyRootfs(ro bool) SpecOpt {
	return func(s *specs.Spec) error {
		s.Root.Readonly = ro
		return nil
	}
}

// noNewPrivileges is the kubelet's rule: set only when
// allowPrivilegeEscalation is explicitly false.
func noNewPrivileges(sc corev1.SecurityContext) bool {
	return sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation
}

// securityOpts are the options that confine container c, or a
// configError (runAsNonRoot) that keeps it from starting.
func (p *podContext) securityOpts(c *corev1.Container, img Image, fp *field.Path) ([]SpecOpt, error) {
	sc := effectiveSecurity(&p.in.Pod.Spec, c)
	scPath := fp.Child("securityContext")
	caps, err := capabilities(sc, p.in.Host.Capabilities, scPath)
	if err != nil {
		return nil, err
	}
	user, err := p.processUser(c, img, sc, fp)
	if err != nil {
		return nil, err
	}
	seccomp, err := p.seccomp(sc, caps, fp)
	if err != nil {
		return nil, err
	}
	apparmor, err := appArmorProfile(sc, p.in.Host.AppArmor, scPath)
	if err != nil {
		return nil, err
	}
	opts := []SpecOpt{
		WithUser(user),
		WithAppArmor(apparmor),
		WithCapabilities(caps),
		WithNoNewPrivileges(noNewPrivileges(sc)),
		WithReadonlyRootfs(isTrue(sc.ReadOnlyRootFilesystem)),
		WithSeccomp(seccomp),
	}
	if isTrue(sc.Privileged) {
		opts = append(opts, WithPrivileged(p.in.Host.Devices))
	}
	return opts, checkRunAsNonRoot(p.in.Pod, c, img, sc)
}

// DefaultAppArmorProfile is the profile RuntimeDefault names, as
// containerd's CRI names it. containerd loads it into the kernel itself
// when it is missing; podrun does not, so it must be loaded (by containerd
// having run on the machine, or with apparmor_parser) or runc fails to
// start the container.
const DefaultAppArmorProfile = "cri-containerd.apparmor.d"

// appArmorProfile is the AppArmor profile of a container (kube has copied
// the beta annotation into the field), "" for none. As the kubelet does,
// an explicit RuntimeDefault or Localhost is refused where AppArmor is not
// enabled; unset and Unconfined need nothing. A privileged container gets
// no RuntimeDefault profile, as with containerd.
func appArmorProfile(sc corev1.SecurityContext, enabled bool, fp *field.Path) (string, error) {
	ap := sc.AppArmorProfile
	if ap == nil || ap.Type == corev1.AppArmorProfileTypeUnconfined {
		return "", nil
	}
	fp = fp.Child("appArmorProfile")
	if !enabled {
		return "", fieldErrorf(fp, "%w: a %s profile cannot be applied", ErrAppArmor, ap.Type)
	}
	switch ap.Type {
	case corev1.AppArmorProfileTypeLocalhost:
		return *ap.LocalhostProfile, nil
	case corev1.AppArmorProfileTypeRuntimeDefault:
		if isTrue(sc.Privileged) {
			return "", nil
		}
		return DefaultAppArmorProfile, nil
	}
	return "", fieldErrorf(fp, "%w: AppArmor profile type %q", ErrNotSupported, ap.Type)
}

// WithAppArmor sets the process's AppArmor profile ("" for none).
func WithAppArmor(profile string) SpecOpt {
	return func(s *specs.Spec) error {
		s.Process.ApparmorProfile = profile
		return nil
	}
}
