package kubelet

import corev1 "k8s.io/api/core/v1"

// IsSidecar reports whether init container c is a sidecar: an init
// container with restartPolicy Always, which keeps running beside the app
// containers.
func IsSidecar(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// Role is what a container is to its pod.
type Role int

const (
	App     Role = iota // a container of spec.containers
	Init                // a regular init container, run to completion
	Sidecar             // an init container with restartPolicy Always
)

// RoleOf is the role of container name in spec.
func RoleOf(spec *corev1.PodSpec, name string) Role {
	for i := range spec.InitContainers {
		if c := &spec.InitContainers[i]; c.Name == name {
			if IsSidecar(c) {
				return Sidecar
			}
			return Init
		}
	}
	return App
}

// ShouldRestart applies the restart policy to a container's exit: a
// sidecar always restarts; a regular init container restarts on failure
// unless the pod's policy is Never (the pod then fails); an app container
// as the pod's policy says.
func ShouldRestart(policy corev1.RestartPolicy, role Role, exitCode int) bool {
	switch {
	case role == Sidecar:
		return true
	case role == Init:
		return exitCode != 0 && policy != corev1.RestartPolicyNever
	case policy == corev1.RestartPolicyAlways:
		return true
	case policy == corev1.RestartPolicyOnFailure:
		return exitCode != 0
	}
	return false
}
