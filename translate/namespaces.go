package translate

import (
	"path"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
)

// namespaces is the one rule for which namespaces a container of the pod
// gets. The infra container creates the pod's namespaces, except the
// network namespace, which the runner pins and sets up with CNI before the
// infra starts, so the infra joins it by path. Init and app containers join
// the infra's namespaces by path, from where the runner pins them, and get
// a pid namespace of their own unless the pod shares one. A host* flag
// leaves the namespace out, so the container stays in the host's;
// hostNetwork also keeps the host's UTS namespace and so its hostname. Every
// container gets a new mount namespace. The order is containerd's.
func namespaces(spec *corev1.PodSpec, l Layout, infra bool) []specs.LinuxNamespace {
	join := func(t specs.LinuxNamespaceType, name string) specs.LinuxNamespace {
		if infra {
			return specs.LinuxNamespace{Type: t}
		}
		return specs.LinuxNamespace{Type: t, Path: l.Namespace(name)}
	}
	var ns []specs.LinuxNamespace
	switch {
	case spec.HostPID:
	case !infra && spec.ShareProcessNamespace != nil && *spec.ShareProcessNamespace:
		ns = append(ns, specs.LinuxNamespace{Type: specs.PIDNamespace, Path: l.Namespace("pid")})
	default:
		ns = append(ns, specs.LinuxNamespace{Type: specs.PIDNamespace})
	}
	if !spec.HostIPC {
		ns = append(ns, join(specs.IPCNamespace, "ipc"))
	}
	if !spec.HostNetwork {
		ns = append(ns, join(specs.UTSNamespace, "uts"))
	}
	ns = append(ns, specs.LinuxNamespace{Type: specs.MountNamespace})
	if !spec.HostNetwork {
		ns = append(ns, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: l.Namespace("net")})
	}
	return ns
}

// pinned lists the namespaces of the infra that other containers join by
// path, with their Layout.Namespace names and paths.
func pinned(spec *corev1.PodSpec, l Layout) []PinnedNamespace {
	var pins []PinnedNamespace
	for _, ns := range namespaces(spec, l, false) {
		if ns.Path != "" && ns.Type != specs.NetworkNamespace {
			pins = append(pins, PinnedNamespace{Type: path.Base(ns.Path), Path: ns.Path})
		}
	}
	return pins
}
