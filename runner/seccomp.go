package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podrun/podrun/translate"
)

// The seccomp profiles of podrun: RuntimeDefault is the profile Docker,
// containerd and CRI-O share (github.com/moby/profiles/seccomp); a
// Localhost profile is a file in Docker's or the OCI format under
// <root>/seccomp, as the kubelet reads them under its seccomp directory.
// What depends on the machine (architecture, kernel version) is resolved
// here; what depends on the container (capabilities), by translate.

// seccompDir is where Localhost profiles are read from.
func (r *Runner) seccompDir() string { return filepath.Join(r.cfg.Root, "seccomp") }

// defaultSeccomp is the RuntimeDefault profile for this machine.
func defaultSeccomp() (*translate.SeccompProfile, error) {
	return seccompProfile(seccomp.DefaultProfile())
}

// localhostSeccomp reads every Localhost profile pod names.
func (r *Runner) localhostSeccomp(pod *corev1.Pod) (map[string]*translate.SeccompProfile, error) {
	out := map[string]*translate.SeccompProfile{}
	for _, l := range localhostProfiles(pod) {
		sp, err := r.readSeccomp(l.name)
		if err != nil {
			return nil, &translate.FieldError{Field: l.field, Err: err}
		}
		out[l.name] = sp
	}
	return out, nil
}

// readSeccomp reads the Localhost profile name.
func (r *Runner) readSeccomp(name string) (*translate.SeccompProfile, error) {
	path := filepath.Join(r.seccompDir(), filepath.Clean("/"+name))
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // its path is the directory and name said here
		}
		return nil, fmt.Errorf("reading seccomp profile %q: %w (Localhost profiles live under %s)", name, err, r.seccompDir())
	}
	var prof seccomp.Seccomp
	if err := json.Unmarshal(data, &prof); err != nil {
		return nil, fmt.Errorf("decoding seccomp profile %s: %w", path, err)
	}
	sp, err := seccompProfile(&prof)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile %s: %w", path, err)
	}
	return sp, nil
}

// localhostProfiles lists the Localhost profiles of a pod, pod-level
// first, each with the path of the first field naming it.
func localhostProfiles(pod *corev1.Pod) []localhostProfile {
	var out []localhostProfile
	add := func(p *corev1.SeccompProfile, sc *field.Path) {
		if p == nil || p.Type != corev1.SeccompProfileTypeLocalhost || p.LocalhostProfile == nil {
			return
		}
		name := *p.LocalhostProfile
		if !slices.ContainsFunc(out, func(l localhostProfile) bool { return l.name == name }) {
			out = append(out, localhostProfile{name, sc.Child("seccompProfile", "localhostProfile").String()})
		}
	}
	if sc := pod.Spec.SecurityContext; sc != nil {
		add(sc.SeccompProfile, field.NewPath("spec", "securityContext"))
	}
	for _, c := range allContainers(&pod.Spec) {
		if c.SecurityContext != nil {
			add(c.SecurityContext.SeccompProfile, containerPath(pod, c.Name).Child("securityContext"))
		}
	}
	return out
}

// localhostProfile is a Localhost seccomp profile a pod names, and where.
type localhostProfile struct {
	name  string
	field string // spec.containers[0].securityContext.seccompProfile.localhostProfile
}

// goArchToSeccomp maps GOARCH to the architecture of seccomp profiles.
var goArchToSeccomp = map[string]specs.Arch{
	"386": specs.ArchX86, "amd64": specs.ArchX86_64, "arm": specs.ArchARM, "arm64": specs.ArchAARCH64,
	"loong64": specs.ArchLOONGARCH64, "ppc64le": specs.ArchPPC64LE, "riscv64": specs.ArchRISCV64, "s390x": specs.ArchS390X,
	"mips64": specs.ArchMIPS64, "mips64le": specs.ArchMIPSEL64, "mipsle": specs.ArchMIPSEL,
}

// seccompProfile resolves a Docker-format profile for this machine, as
// moby's loader does, keeping its capability conditions for translate.
func seccompProfile(p *seccomp.Seccomp) (*translate.SeccompProfile, error) {
	if len(p.Architectures) > 0 && len(p.ArchMap) > 0 {
		return nil, errors.New("both 'architectures' and 'archMap' are set; use one")
	}
	out := &translate.SeccompProfile{
		DefaultAction:   p.DefaultAction,
		DefaultErrnoRet: p.DefaultErrnoRet,
		Architectures:   slices.Clone(p.Architectures),
		Flags:           slices.Clone(p.Flags),
	}
	arch := goArchToSeccomp[goruntime.GOARCH]
	for _, a := range p.ArchMap {
		if a.Arch == arch {
			out.Architectures = append(append(out.Architectures, a.Arch), a.SubArches...)
		}
	}
	kernel, err := kernelVersion()
	if err != nil {
		return nil, err
	}
	for _, call := range p.Syscalls {
		rule, ok, err := seccompRule(call, kernel)
		if err != nil {
			return nil, err
		}
		if ok {
			out.Syscalls = append(out.Syscalls, rule)
		}
	}
	return out, nil
}

// seccompRule resolves the architecture and kernel conditions of one
// rule; ok is false when it does not apply on this machine.
func seccompRule(call *seccomp.Syscall, kernel seccomp.KernelVersion) (translate.SeccompRule, bool, error) {
	rule := translate.SeccompRule{LinuxSyscall: call.LinuxSyscall}
	if call.Name != "" {
		if len(call.Names) > 0 {
			return rule, false, errors.New("a rule sets both 'name' and 'names'; use 'names'")
		}
		rule.Names = []string{call.Name}
	}
	arch := mobyArch()
	if ex := call.Excludes; ex != nil {
		if slices.Contains(ex.Arches, arch) || (ex.MinKernel != nil && kernelAtLeast(kernel, *ex.MinKernel)) {
			return rule, false, nil
		}
		rule.ExcludeCaps = ex.Caps
	}
	if in := call.Includes; in != nil {
		if (len(in.Arches) > 0 && !slices.Contains(in.Arches, arch)) || (in.MinKernel != nil && !kernelAtLeast(kernel, *in.MinKernel)) {
			return rule, false, nil
		}
		rule.IncludeCaps = in.Caps
	}
	return rule, true, nil
}

// mobyArch is the architecture as the profile's conditions name it.
func mobyArch() string {
	switch goruntime.GOARCH {
	case "386":
		return "x86"
	case "loong64":
		return "loongarch64"
	case "mips64le":
		return "mipsel64"
	case "mipsle":
		return "mipsel"
	}
	return goruntime.GOARCH
}

func kernelVersion() (seccomp.KernelVersion, error) {
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return seccomp.KernelVersion{}, fmt.Errorf("reading the kernel version: %w", err)
	}
	var v seccomp.KernelVersion
	if _, err := fmt.Sscanf(unix.ByteSliceToString(uts.Release[:]), "%d.%d", &v.Kernel, &v.Major); err != nil {
		return v, fmt.Errorf("reading the kernel version %q: %w", unix.ByteSliceToString(uts.Release[:]), err)
	}
	return v, nil
}

func kernelAtLeast(have, want seccomp.KernelVersion) bool {
	return have.Kernel > want.Kernel || (have.Kernel == want.Kernel && have.Major >= want.Major)
}
