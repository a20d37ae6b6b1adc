package translate

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestFieldRef(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u-1",
			Labels: map[string]string{"b": "2", "a": `say "hi"`}},
		Spec: corev1.PodSpec{NodeName: "node", ServiceAccountName: "sa"},
	}
	for path, want := range map[string]string{
		"metadata.name":           "p",
		"metadata.uid":            "u-1",
		"metadata.labels['b']":    "2",
		"metadata.labels['zz']":   "",
		"metadata.labels":         "a=\"say \\\"hi\\\"\"\nb=\"2\"",
		"metadata.annotations":    "",
		"spec.nodeName":           "node",
		"spec.serviceAccountName": "sa",
		"status.hostIP":           "192.0.2.1",
		"status.podIP":            "10.0.0.5",
		"status.podIPs":           "10.0.0.5,fd00::5",
	} {
		got, err := FieldRef(pod, "192.0.2.1", []string{"10.0.0.5", "fd00::5"}, path)
		if err != nil || got != want {
			t.Errorf("FieldRef(%s) = %q, %v; want %q", path, got, err, want)
		}
	}
	if _, err := FieldRef(pod, "", nil, "spec.bogus"); err == nil {
		t.Error("an unknown path resolved")
	}
}

func TestResourceFieldRef(t *testing.T) {
	c := &corev1.Container{Resources: corev1.ResourceRequirements{
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")},
		Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")},
	}}
	node := corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("8Gi")}
	for _, tt := range []struct {
		resource, divisor, want string
	}{
		{"limits.cpu", "", "1"},          // 250m rounds up to a whole CPU
		{"limits.cpu", "1m", "250"},      // in millicores
		{"limits.memory", "1Mi", "8192"}, // no limit: the node's allocatable
		{"requests.memory", "1Mi", "64"},
		{"requests.cpu", "", "0"},
	} {
		r := &corev1.ResourceFieldSelector{Resource: tt.resource}
		if tt.divisor != "" {
			r.Divisor = resource.MustParse(tt.divisor)
		}
		if got, err := ResourceFieldRef(c, r, node); err != nil || got != tt.want {
			t.Errorf("ResourceFieldRef(%s, %s) = %q, %v; want %q", tt.resource, tt.divisor, got, err, tt.want)
		}
	}
}
