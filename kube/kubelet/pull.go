package kubelet

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// PullPolicy is container c's image pull policy: its own, else the API
// server's default for its image.
func PullPolicy(c *corev1.Container) corev1.PullPolicy {
	if c.ImagePullPolicy != "" {
		return c.ImagePullPolicy
	}
	return DefaultPullPolicy(c.Image)
}

// DefaultPullPolicy is the API server's default pull policy for image:
// Always for an image tagged latest or with neither tag nor digest,
// IfNotPresent otherwise.
func DefaultPullPolicy(image string) corev1.PullPolicy {
	if ImageTag(image) == "latest" {
		return corev1.PullAlways
	}
	return corev1.PullIfNotPresent
}

// ImageTag returns the tag of an image reference: "latest" when it has
// neither tag nor digest, "" when it has only a digest.
func ImageTag(image string) string {
	name, _, digested := strings.Cut(image, "@")
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		return name[i+1:]
	}
	if digested {
		return ""
	}
	return "latest"
}
