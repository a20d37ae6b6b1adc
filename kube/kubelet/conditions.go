package kubelet

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Condition reasons, as the kubelet words them (k8s.io/kubernetes
// pkg/kubelet/status/generate.go).
const (
	ReasonPodCompleted             = "PodCompleted"
	ReasonPodFailed                = "PodFailed"
	ReasonContainersNotReady       = "ContainersNotReady"
	ReasonContainersNotInitialized = "ContainersNotInitialized"
)

// Conditions are the kubelet's Initialized, Ready, ContainersReady and
// PodScheduled conditions of pod, in the order the API server shows them,
// from the container statuses and the phase in pod.Status. Their
// LastTransitionTime is left zero: the caller keeps when each changed.
func Conditions(pod *corev1.Pod) []corev1.PodCondition {
	ready := containersReady(pod)
	podReady := ready
	podReady.Type = corev1.PodReady
	return []corev1.PodCondition{
		initialized(pod),
		podReady,
		ready,
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
	}
}

// initialized is the kubelet's GeneratePodInitializedCondition: every
// regular init container succeeded and every sidecar started, or the pod
// has gone past its init containers (an app container ran).
func initialized(pod *corev1.Pod) corev1.PodCondition {
	c := corev1.PodCondition{Type: corev1.PodInitialized, Status: corev1.ConditionTrue}
	if pod.Status.Phase == corev1.PodSucceeded {
		c.Reason = ReasonPodCompleted
		return c
	}
	if anyAppStarted(pod) {
		return c
	}
	var incomplete []string
	for i := range pod.Spec.InitContainers {
		ic := &pod.Spec.InitContainers[i]
		cs, ok := status(pod.Status.InitContainerStatuses, ic.Name)
		if !ok || !initDone(ic, cs) {
			incomplete = append(incomplete, ic.Name)
		}
	}
	if len(incomplete) > 0 {
		c.Status, c.Reason = corev1.ConditionFalse, ReasonContainersNotInitialized
		c.Message = fmt.Sprintf("containers with incomplete status: [%s]", strings.Join(incomplete, " "))
	}
	return c
}

// initDone reports whether an init container no longer holds the pod
// back: a sidecar once started, a regular one once it succeeded.
func initDone(c *corev1.Container, cs corev1.ContainerStatus) bool {
	if IsSidecar(c) {
		return cs.Started != nil && *cs.Started
	}
	t := cs.State.Terminated
	return cs.Ready || (t != nil && t.ExitCode == 0)
}

// containersReady is the kubelet's GenerateContainersReadyCondition: every
// sidecar and app container ready, and false in a finished pod.
func containersReady(pod *corev1.Pod) corev1.PodCondition {
	c := corev1.PodCondition{Type: corev1.ContainersReady, Status: corev1.ConditionFalse}
	switch pod.Status.Phase {
	case corev1.PodSucceeded:
		c.Reason = ReasonPodCompleted
		return c
	case corev1.PodFailed:
		c.Reason = ReasonPodFailed
		return c
	}
	var unready []string
	for i := range pod.Spec.InitContainers {
		if ic := &pod.Spec.InitContainers[i]; IsSidecar(ic) && !isReady(pod.Status.InitContainerStatuses, ic.Name) {
			unready = append(unready, ic.Name)
		}
	}
	for _, ac := range pod.Spec.Containers {
		if !isReady(pod.Status.ContainerStatuses, ac.Name) {
			unready = append(unready, ac.Name)
		}
	}
	if len(unready) == 0 {
		c.Status = corev1.ConditionTrue
		return c
	}
	c.Reason = ReasonContainersNotReady
	c.Message = fmt.Sprintf("containers with unready status: [%s]", strings.Join(unready, " "))
	return c
}

func isReady(statuses []corev1.ContainerStatus, name string) bool {
	cs, ok := status(statuses, name)
	return ok && cs.Ready
}
