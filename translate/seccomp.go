package translate

import (
	"errors"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// SeccompProfile is a seccomp profile as data, as Docker's profile format
// has it, with the rules that depend on a container's capabilities kept
// conditional. The runner builds it (from github.com/moby/profiles/seccomp's
// default profile, or from a Localhost profile file) and has already
// resolved what depends on the machine: the architecture and the kernel
// version.
type SeccompProfile struct {
	DefaultAction   specs.LinuxSeccompAction
	DefaultErrnoRet *uint
	Architectures   []specs.Arch
	Flags           []specs.LinuxSeccompFlag
	Syscalls        []SeccompRule
}

// SeccompRule is one rule of a profile with its capability conditions.
type SeccompRule struct {
	specs.LinuxSyscall
	// IncludeCaps: the rule applies only when the container's bounding
	// set holds every one of these.
	IncludeCaps []string `json:",omitempty"`
	// ExcludeCaps: the rule is left out when the bounding set holds any.
	ExcludeCaps []string `json:",omitempty"`
}

// ErrNoSeccompProfile: a container asks for a seccomp profile that the
// input does not carry.
var ErrNoSeccompProfile = errors.New("no such seccomp profile")

// seccompFor picks the profile a container runs under: the container's
// seccompProfile, else the pod's, else RuntimeDefault; none for a
// privileged container or Unconfined.
func (p *podContext) seccompFor(sc corev1.SecurityContext, fp *field.Path) (*SeccompProfile, error) {
	if isTrue(sc.Privileged) {
		return nil, nil
	}
	t := corev1.SeccompProfileTypeRuntimeDefault
	if sc.SeccompProfile != nil {
		t = sc.SeccompProfile.Type
	}
	switch t {
	case corev1.SeccompProfileTypeUnconfined:
		return nil, nil
	case corev1.SeccompProfileTypeLocalhost:
		name := *sc.SeccompProfile.LocalhostProfile
		prof, ok := p.in.SeccompProfiles[name]
		if !ok {
			return nil, fieldErrorf(fp.Child("securityContext", "seccompProfile", "localhostProfile"), "%w %q", ErrNoSeccompProfile, name)
		}
		return prof, nil
	}
	if p.in.Host.SeccompDefault == nil {
		return nil, fieldErrorf(fp.Child("securityContext", "seccompProfile"), "%w: RuntimeDefault (the runner gave none)", ErrNoSeccompProfile)
	}
	return p.in.Host.SeccompDefault, nil
}

// seccomp is the runtime-spec filter of a container with bounding set
// caps under its profile.
func (p *podContext) seccomp(sc corev1.SecurityContext, caps []string, fp *field.Path) (*specs.LinuxSeccomp, error) {
	prof, err := p.seccompFor(sc, fp)
	if err != nil || prof == nil {
		return nil, err
	}
	return prof.Filter(caps), nil
}

// Filter is the profile for a container whose bounding set is caps: the
// rules whose capability conditions hold, as moby's profile loader
// selects them.
func (sp *SeccompProfile) Filter(caps []string) *specs.LinuxSeccomp {
	out := &specs.LinuxSeccomp{
		DefaultAction:   sp.DefaultAction,
		DefaultErrnoRet: sp.DefaultErrnoRet,
		Architectures:   slices.Clone(sp.Architectures),
		Flags:           slices.Clone(sp.Flags),
	}
	for _, r := range sp.Syscalls {
		if slices.ContainsFunc(r.ExcludeCaps, func(c string) bool { return slices.Contains(caps, c) }) {
			continue
		}
		if !allIn(r.IncludeCaps, caps) {
			continue
		}
		rule := r.LinuxSyscall
		rule.Names = slices.Clone(rule.Names)
		rule.Args = slices.Clone(rule.Args)
		out.Syscalls = append(out.Syscalls, rule)
	}
	return out
}

func allIn(want, have []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// WithSeccomp sets the seccomp filter; nil means none.
func WithSeccomp(sc *specs.LinuxSeccomp) SpecOpt {
	return func(s *specs.Spec) error {
		s.Linux.Seccomp = sc
		return nil
	}
}
