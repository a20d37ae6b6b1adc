package kubelet

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// NodeAllocatable is what the node offers its pods, from its capacity:
// cpus, memory and disk (ephemeral storage) bytes. The kubelet subtracts
// kube-reserved, system-reserved and the eviction threshold; podrun
// reserves nothing, so allocatable is the capacity. A resource whose
// capacity is zero (unknown) is left out. It stands in for a limit that
// a container does not set (resourceFieldRef, oom_score_adj).
func NodeAllocatable(cpus int, memory, disk int64) corev1.ResourceList {
	list := corev1.ResourceList{}
	if cpus > 0 {
		list[corev1.ResourceCPU] = *resource.NewQuantity(int64(cpus), resource.DecimalSI)
	}
	if memory > 0 {
		list[corev1.ResourceMemory] = *resource.NewQuantity(memory, resource.BinarySI)
	}
	if disk > 0 {
		list[corev1.ResourceEphemeralStorage] = *resource.NewQuantity(disk, resource.BinarySI)
	}
	return list
}
