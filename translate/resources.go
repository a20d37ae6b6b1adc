package translate

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
)

// The kubelet's constants for turning requests and limits into cgroup
// settings (pkg/kubelet/cm).
const (
	minShares      = 2
	maxShares      = 262144
	sharesPerCPU   = 1024
	quotaPeriod    = 100000 // microseconds: 100ms
	minQuotaPeriod = 1000

	guaranteedOOMScoreAdj = -997
	bestEffortOOMScoreAdj = 1000
)

// DefaultPidsLimit is the pids limit of every container. The kubelet
// leaves it to --pod-max-pids (unlimited by default); podrun has no pod
// cgroup to set it on, so each container gets this bound.
const DefaultPidsLimit = 4096

// MilliCPUToShares is the kubelet's cpu.shares for a CPU request in
// millicores: 1024 per CPU, at least 2 (also with no request).
func MilliCPUToShares(milli int64) uint64 {
	shares := milli * sharesPerCPU / 1000
	switch {
	case milli == 0 || shares < minShares:
		return minShares
	case shares > maxShares:
		return maxShares
	}
	return uint64(shares)
}

// MilliCPUToQuota is the kubelet's CFS quota for a CPU limit in
// millicores over a period, at least 1ms; 0 means no limit.
func MilliCPUToQuota(milli, period int64) int64 {
	if milli == 0 {
		return 0
	}
	return max(milli*period/1000, minQuotaPeriod)
}

// QOSClass is the pod's quality of service class, by Kubernetes' rules:
// BestEffort when no container requests or limits CPU or memory,
// Guaranteed when every container limits both and requests what it
// limits, Burstable otherwise.
func QOSClass(pod *corev1.Pod) corev1.PodQOSClass {
	any, all := false, true
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			limit, hasLimit := c.Resources.Limits[name]
			req, hasReq := c.Resources.Requests[name]
			if (hasLimit && !limit.IsZero()) || (hasReq && !req.IsZero()) {
				any = true
			}
			if !hasLimit || limit.IsZero() || (hasReq && req.Cmp(limit) != 0) {
				all = false
			}
		}
	}
	switch {
	case !any:
		return corev1.PodQOSBestEffort
	case all:
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

// oomScoreAdj is the kubelet's oom_score_adj for a container: by the
// pod's QoS class, and for Burstable pods by the share of the machine's
// memory the container requests.
func oomScoreAdj(pod *corev1.Pod, c *corev1.Container, memCapacity int64) int {
	switch QOSClass(pod) {
	case corev1.PodQOSGuaranteed:
		return guaranteedOOMScoreAdj
	case corev1.PodQOSBestEffort:
		return bestEffortOOMScoreAdj
	}
	if memCapacity <= 0 {
		return bestEffortOOMScoreAdj - 1
	}
	req := c.Resources.Requests.Memory().Value()
	adj := 1000 - 1000*req/memCapacity
	switch {
	case adj < 1000+guaranteedOOMScoreAdj:
		return 1000 + guaranteedOOMScoreAdj
	case adj == bestEffortOOMScoreAdj:
		return int(adj - 1)
	}
	return int(adj)
}

// WithResources sets a container's cgroup limits from its requests and
// limits as the kubelet computes them: memory limit (and no swap beyond
// it, where the kernel accounts swap), cpu.shares from the CPU request,
// a CFS quota from the CPU limit, the pids limit, and the
// oom_score_adj of its QoS class.
func WithResources(pod *corev1.Pod, c *corev1.Container, host Host) SpecOpt {
	return func(s *specs.Spec) error {
		r := s.Linux.Resources
		if mem, ok := c.Resources.Limits[corev1.ResourceMemory]; ok && !mem.IsZero() {
			limit := mem.Value()
			r.Memory = &specs.LinuxMemory{Limit: &limit}
			if host.SwapAccounting {
				swap := limit
				r.Memory.Swap = &swap
			}
		}
		shares := MilliCPUToShares(c.Resources.Requests.Cpu().MilliValue())
		r.CPU = &specs.LinuxCPU{Shares: &shares}
		if quota := MilliCPUToQuota(c.Resources.Limits.Cpu().MilliValue(), quotaPeriod); quota > 0 {
			period := uint64(quotaPeriod)
			r.CPU.Quota, r.CPU.Period = &quota, &period
		}
		pids := int64(DefaultPidsLimit)
		r.Pids = &specs.LinuxPids{Limit: &pids}
		adj := oomScoreAdj(pod, c, host.Allocatable.Memory().Value())
		s.Process.OOMScoreAdj = &adj
		return nil
	}
}
