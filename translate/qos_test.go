package translate

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// TestQOSClass: the QoS class by Kubernetes' rules, which both the
// oom_score_adj of containers and the pod's status use.
func TestQOSClass(t *testing.T) {
	res := func(kv ...string) corev1.ResourceList {
		l := corev1.ResourceList{}
		for i := 0; i < len(kv); i += 2 {
			l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
		}
		return l
	}
	c := func(req, lim corev1.ResourceList) corev1.Container {
		return corev1.Container{Name: "c", Resources: corev1.ResourceRequirements{Requests: req, Limits: lim}}
	}
	both := res("cpu", "500m", "memory", "128Mi")
	tests := []struct {
		name  string
		inits []corev1.Container
		apps  []corev1.Container
		want  corev1.PodQOSClass
	}{
		{"no resources", nil, []corev1.Container{c(nil, nil)}, corev1.PodQOSBestEffort},
		{"only ephemeral storage", nil, []corev1.Container{c(res("ephemeral-storage", "1Gi"), res("ephemeral-storage", "1Gi"))}, corev1.PodQOSBestEffort},
		{"cpu request only", nil, []corev1.Container{c(res("cpu", "100m"), nil)}, corev1.PodQOSBurstable},
		{"memory limit only", nil, []corev1.Container{c(nil, res("memory", "64Mi"))}, corev1.PodQOSBurstable},
		{"requests equal limits", nil, []corev1.Container{c(both, both)}, corev1.PodQOSGuaranteed},
		{"limits only (requests default to them)", nil, []corev1.Container{c(nil, both)}, corev1.PodQOSGuaranteed},
		{"equal quantities spelt differently", nil, []corev1.Container{
			c(res("cpu", "1", "memory", "1Gi"), res("cpu", "1000m", "memory", "1073741824"))}, corev1.PodQOSGuaranteed},
		{"request below limit", nil, []corev1.Container{c(res("cpu", "250m", "memory", "128Mi"), both)}, corev1.PodQOSBurstable},
		{"one guaranteed, one best effort", nil, []corev1.Container{c(both, both), c(nil, nil)}, corev1.PodQOSBurstable},
		{"init container best effort", []corev1.Container{c(nil, nil)}, []corev1.Container{c(both, both)}, corev1.PodQOSBurstable},
		{"init and app guaranteed", []corev1.Container{c(nil, both)}, []corev1.Container{c(both, both)}, corev1.PodQOSGuaranteed},
		{"zero quantities count as unset", nil, []corev1.Container{c(res("cpu", "0", "memory", "0"), res("cpu", "0"))}, corev1.PodQOSBestEffort},
		{"only an init container has requests", []corev1.Container{c(res("memory", "1Mi"), nil)}, []corev1.Container{c(nil, nil)}, corev1.PodQOSBurstable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{InitContainers: tt.inits, Containers: tt.apps}}
			if got := QOSClass(pod); got != tt.want {
				t.Errorf("QOSClass = %s, want %s", got, tt.want)
			}
		})
	}
}
