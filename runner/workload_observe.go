package runner

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	kcontrollers "github.com/podrun/podrun/kube/controllers"
)

// observedPods are a workload's pods as kube/controllers takes them: what
// a cluster keeps in conditions and timestamps, read from copies of the
// pods as `get pods` shows them. Ready and since when come from the Ready
// condition (kube/controllers itself leaves out pods being deleted),
// Unscheduled from a
// PodScheduled condition that is false, Deleting from the
// deletionTimestamp that delete records, Finished from the last container
// termination of a pod that has Succeeded or Failed. Every controller
// observes its pods through this one function.
func observedPods(pods []corev1.Pod) []kcontrollers.Pod {
	out := make([]kcontrollers.Pod, len(pods))
	for i := range pods {
		p := pods[i].DeepCopy()
		o := kcontrollers.Pod{Pod: p, Deleting: p.DeletionTimestamp != nil}
		for _, c := range p.Status.Conditions {
			switch c.Type {
			case corev1.PodReady:
				o.Ready = c.Status == corev1.ConditionTrue
				if o.Ready {
					o.ReadySince = c.LastTransitionTime.Time
				}
			case corev1.PodScheduled:
				o.Unscheduled = c.Status == corev1.ConditionFalse
			}
		}
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			o.Finished = finishedAt(p)
		}
		out[i] = o
	}
	return out
}

// finishedAt is when the last of a finished pod's containers terminated,
// or its creation when none says.
func finishedAt(p *corev1.Pod) time.Time {
	var t time.Time
	for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, cs := range list {
			if term := cs.State.Terminated; term != nil && term.FinishedAt.After(t) {
				t = term.FinishedAt.Time
			}
		}
	}
	if t.IsZero() {
		t = p.CreationTimestamp.Time
	}
	return t
}

// requeueAfter is how long until at, from now: zero when at is zero.
func requeueAfter(at, now time.Time) time.Duration {
	if at.IsZero() {
		return 0
	}
	return max(at.Sub(now), time.Millisecond)
}
