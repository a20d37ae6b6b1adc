package controllers

import (
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Pod is a pod a controller owns, as the runner last observed it. Pod
// holds its object: labels, annotations, spec, creation time, phase, and
// container statuses with restart counts and exit codes. The other fields
// are what the runner knows that a cluster would write as conditions or
// deletion timestamps.
type Pod struct {
	Pod *corev1.Pod
	// Ready is whether the pod's Ready condition is true, and ReadySince
	// when it last became true.
	Ready      bool
	ReadySince time.Time
	// Unscheduled is true while the pod waits for a node: Pending with
	// FailedScheduling because a port it asks for is held, say.
	Unscheduled bool
	// Deleting is true once a delete has begun (a cluster's
	// deletionTimestamp): the pod is stopping and no longer counts.
	Deleting bool
	// Finished is when the pod reached Succeeded or Failed; zero before.
	Finished time.Time
}

func (p *Pod) phase() corev1.PodPhase { return p.Pod.Status.Phase }

// terminal reports whether the pod has Succeeded or Failed.
func (p *Pod) terminal() bool {
	return p.phase() == corev1.PodSucceeded || p.phase() == corev1.PodFailed
}

// active is the controller's IsPodActive: neither finished nor being
// deleted.
func (p *Pod) active() bool { return !p.terminal() && !p.Deleting }

// available is the controller's IsPodAvailable: ready for at least
// minReadySeconds, strictly before now.
func (p *Pod) available(minReadySeconds int32, now time.Time) bool {
	if !p.Ready {
		return false
	}
	if minReadySeconds == 0 {
		return true
	}
	return !p.ReadySince.IsZero() && p.ReadySince.Add(seconds(minReadySeconds)).Before(now)
}

// availableAt is when a ready pod becomes available; zero when it is not
// ready or already available.
func (p *Pod) availableAt(minReadySeconds int32, now time.Time) time.Time {
	if !p.Ready || p.available(minReadySeconds, now) || p.ReadySince.IsZero() {
		return time.Time{}
	}
	return p.ReadySince.Add(seconds(minReadySeconds)).Add(time.Nanosecond)
}

// restarts is the highest restart count of the pod's containers.
func (p *Pod) restarts() int32 {
	var n int32
	for _, cs := range p.Pod.Status.InitContainerStatuses {
		n = max(n, cs.RestartCount)
	}
	for _, cs := range p.Pod.Status.ContainerStatuses {
		n = max(n, cs.RestartCount)
	}
	return n
}

func seconds(s int32) time.Duration { return time.Duration(s) * time.Second }

// phaseRank orders phases as the controller's ActivePods does: Pending
// before Unknown before Running.
var phaseRank = map[corev1.PodPhase]int{corev1.PodPending: 0, corev1.PodUnknown: 1, corev1.PodRunning: 2}

// AnnotationDeletionCost is the pod annotation by which a user asks that
// pods of lower cost be deleted first.
const AnnotationDeletionCost = "controller.kubernetes.io/pod-deletion-cost"

// deletionCost is a pod's deletion cost, 0 when unset or not an int32.
func deletionCost(p *corev1.Pod) int32 {
	v, err := parseInt32(p.Annotations[AnnotationDeletionCost])
	if err != nil {
		return 0
	}
	return v
}

// deleteFirst reports whether a should be deleted before b when a
// controller scales down, by the rules of the controller's
// ActivePodsWithRanks on one node: unscheduled before scheduled, Pending
// before Unknown before Running, not ready before ready, lower
// pod-deletion-cost first, ready for less time before longer, more
// restarts before fewer, newer before older, and by name for a stable
// order. Times are compared exactly, not in the logarithmic buckets that
// LogarithmicScaleDown uses to spread deletions over a cluster's nodes.
func deleteFirst(a, b *Pod) bool {
	if a.Unscheduled != b.Unscheduled {
		return a.Unscheduled
	}
	if ra, rb := phaseRank[a.phase()], phaseRank[b.phase()]; ra != rb {
		return ra < rb
	}
	if a.Ready != b.Ready {
		return !a.Ready
	}
	if ca, cb := deletionCost(a.Pod), deletionCost(b.Pod); ca != cb {
		return ca < cb
	}
	if a.Ready && !a.ReadySince.Equal(b.ReadySince) {
		return a.ReadySince.After(b.ReadySince)
	}
	if ra, rb := a.restarts(), b.restarts(); ra != rb {
		return ra > rb
	}
	ca, cb := a.Pod.CreationTimestamp.Time, b.Pod.CreationTimestamp.Time
	if !ca.Equal(cb) {
		return ca.After(cb)
	}
	return a.Pod.Name < b.Pod.Name
}

// toDelete is the n pods of pods to delete first when scaling down.
func toDelete(pods []*Pod, n int) []string {
	ranked := append([]*Pod(nil), pods...)
	sort.SliceStable(ranked, func(i, j int) bool { return deleteFirst(ranked[i], ranked[j]) })
	names := make([]string, 0, n)
	for _, p := range ranked[:min(n, len(ranked))] {
		names = append(names, p.Pod.Name)
	}
	return names
}

// podNames is the set of the names of pods, which new pods must not take.
func podNames(pods []Pod) map[string]bool {
	taken := make(map[string]bool, len(pods))
	for i := range pods {
		taken[pods[i].Pod.Name] = true
	}
	return taken
}

// earliest is the earlier of two times, a zero time counting as none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
