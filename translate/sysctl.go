package translate

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ErrSysctlForbidden: the pod sets a sysctl the kubelet would not allow.
// The kubelet rejects such a pod with reason SysctlForbidden.
var ErrSysctlForbidden = errors.New("SysctlForbidden")

// SafeSysctls are the sysctls the kubelet allows every pod (its safe set,
// pkg/kubelet/sysctl/safe_sysctls.go).
var SafeSysctls = []string{
	"kernel.shm_rmid_forced",
	"net.ipv4.ip_local_port_range",
	"net.ipv4.tcp_syncookies",
	"net.ipv4.ping_group_range",
	"net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.ip_local_reserved_ports",
	"net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_fin_timeout",
	"net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes",
	"net.ipv4.tcp_rmem",
	"net.ipv4.tcp_wmem",
}

// namespacedSysctl reports whether a sysctl belongs to a namespace a pod
// owns (IPC or network), which unsafe sysctls must.
func namespacedSysctl(name string) bool {
	for _, p := range []string{"kernel.shm", "kernel.msg", "fs.mqueue.", "net."} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return name == "kernel.sem"
}

// sysctlAllowed is the kubelet's allowlist: the safe set, and the unsafe
// sysctls allowed by name or by a "prefix*" pattern, if namespaced.
func sysctlAllowed(name string, unsafe []string) error {
	if slices.Contains(SafeSysctls, name) {
		return nil
	}
	for _, pattern := range unsafe {
		prefix, glob := strings.CutSuffix(pattern, "*")
		if name == pattern || (glob && strings.HasPrefix(name, prefix)) {
			if !namespacedSysctl(name) {
				return fmt.Errorf("%w: sysctl %q is not namespaced, so no pod may set it", ErrSysctlForbidden, name)
			}
			return nil
		}
	}
	return fmt.Errorf("%w: forbidden sysctl: %q not allowlisted (allow it with --allowed-unsafe-sysctls)", ErrSysctlForbidden, name)
}

// podSysctls checks the pod's sysctls against the allowlist and returns
// them for the infra container, which owns the namespaces they belong
// to. Names written with '/' are converted to '.'.
func podSysctls(pod *corev1.Pod, unsafe []string) (map[string]string, error) {
	sc := pod.Spec.SecurityContext
	if sc == nil || len(sc.Sysctls) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	var errs []error
	for i, s := range sc.Sysctls {
		name := strings.ReplaceAll(s.Name, "/", ".")
		if err := sysctlAllowed(name, unsafe); err != nil {
			errs = append(errs, &FieldError{Field: field.NewPath("spec", "securityContext", "sysctls").Index(i).String(), Err: err})
			continue
		}
		out[name] = s.Value
	}
	return out, errors.Join(errs...)
}

// WithSysctls sets sysctls in the container's namespaces.
func WithSysctls(sysctls map[string]string) SpecOpt {
	return func(s *specs.Spec) error {
		if len(sysctls) > 0 {
			s.Linux.Sysctl = maps.Clone(sysctls)
		}
		return nil
	}
}
