package translate

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// FieldRef is the value of a downward API fieldRef, as the kubelet
// resolves it for environment variables and downwardAPI volumes alike.
// hostIP and podIPs are the pod's status addresses. Which paths each of
// those places allows is the API server's business (kube validates it);
// this reads any of them.
func FieldRef(pod *corev1.Pod, hostIP string, podIPs []string, path string) (string, error) {
	if key, ok := subscript(path, "metadata.labels"); ok {
		return pod.Labels[key], nil
	}
	if key, ok := subscript(path, "metadata.annotations"); ok {
		return pod.Annotations[key], nil
	}
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "metadata.labels":
		return FormatMap(pod.Labels), nil
	case "metadata.annotations":
		return FormatMap(pod.Annotations), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP", "status.hostIPs":
		return hostIP, nil
	case "status.podIP":
		if len(podIPs) == 0 {
			return "", nil
		}
		return podIPs[0], nil
	case "status.podIPs":
		return strings.Join(podIPs, ","), nil
	}
	return "", fmt.Errorf("fieldRef: unsupported fieldPath %q", path)
}

// ResourceFieldRef is the value of a downward API resourceFieldRef of
// container c, as the kubelet computes it: a limit that is unset is the
// node's allocatable amount; the value is divided by the divisor (1 when
// unset) and rounded up.
func ResourceFieldRef(c *corev1.Container, r *corev1.ResourceFieldSelector, allocatable corev1.ResourceList) (string, error) {
	kind, name, _ := strings.Cut(r.Resource, ".")
	list := c.Resources.Requests
	switch kind {
	case "requests":
	case "limits":
		list = c.Resources.Limits
		if q, ok := list[corev1.ResourceName(name)]; !ok || q.IsZero() {
			list = allocatable
		}
	default:
		return "", fmt.Errorf("resourceFieldRef: unsupported resource %q", r.Resource)
	}
	q := list[corev1.ResourceName(name)]
	divisor := r.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	var v float64
	if name == string(corev1.ResourceCPU) {
		v = math.Ceil(float64(q.MilliValue()) / float64(divisor.MilliValue()))
	} else {
		v = math.Ceil(float64(q.Value()) / float64(divisor.Value()))
	}
	return strconv.FormatInt(int64(v), 10), nil
}

// FormatMap renders labels or annotations as the kubelet's downward API
// does: one key="value" line per key, sorted, values quoted as Go quotes
// them, no final newline.
func FormatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s=%q", k, m[k])
	}
	return b.String()
}

// subscript reads "prefix['key']".
func subscript(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix+"['")
	if !ok || !strings.HasSuffix(rest, "']") {
		return "", false
	}
	return strings.TrimSuffix(rest, "']"), true
}
