package translate

import (
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
)

// terminationFiles are the empty files, one per init and app container,
// that the kubelet creates for termination messages: writable by any
// user, so that a container running as any uid can write its message.
func (p *podContext) terminationFiles() []File {
	var files []File
	for _, c := range append(append([]corev1.Container{}, p.in.Pod.Spec.InitContainers...), p.in.Pod.Spec.Containers...) {
		files = append(files, File{Path: p.in.Layout.TerminationLog(c.Name), Data: []byte{}, Mode: 0o666})
	}
	return files
}

// terminationMount bind-mounts container c's termination file at its
// terminationMessagePath (defaulted to /dev/termination-log).
func (p *podContext) terminationMount(c *corev1.Container) specs.Mount {
	dst := c.TerminationMessagePath
	if dst == "" {
		dst = corev1.TerminationMessagePathDefault
	}
	return specs.Mount{
		Destination: dst,
		Type:        "bind",
		Source:      p.in.Layout.TerminationLog(c.Name),
		Options:     []string{"rbind", "rprivate", "rw"},
	}
}

// unshadowed drops the pod-managed mounts (/etc/hosts, the termination
// file, ...) whose destination a volume mount of the container takes: as
// on a kubelet, the user's mount wins.
func unshadowed(managed, volumes []specs.Mount) []specs.Mount {
	return slices.DeleteFunc(managed, func(m specs.Mount) bool {
		return slices.ContainsFunc(volumes, func(v specs.Mount) bool { return cleanPath(v.Destination) == cleanPath(m.Destination) })
	})
}
