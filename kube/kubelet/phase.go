package kubelet

import corev1 "k8s.io/api/core/v1"

// Phase is the pod's phase by the kubelet's getPhase (k8s.io/kubernetes
// pkg/kubelet/kubelet_pods.go), from the container statuses in
// pod.Status and the pod's restart policy. A container that terminated
// and will be restarted never makes the pod Failed: only a terminal pod
// (one whose containers will not run again, such as a deleted one) or a
// Never pod can fail. A sidecar's end does not count; a regular init
// container that failed fails the pod under Never and keeps it Pending
// otherwise.
func Phase(pod *corev1.Pod, terminal bool) corev1.PodPhase {
	spec := &pod.Spec
	pendingInits, failedInits := initCounts(pod)
	c := containerCounts(pod)
	switch {
	case failedInits > 0 && spec.RestartPolicy == corev1.RestartPolicyNever:
		return corev1.PodFailed
	case pendingInits > 0 || (c.pendingSidecars > 0 && !anyAppStarted(pod)) || c.waiting > 0:
		return corev1.PodPending
	case c.running > 0 && c.unknown == 0:
		return corev1.PodRunning
	case c.running > 0 || c.stopped == 0 || c.unknown > 0:
		return corev1.PodPending
	case terminal && c.stopped == c.succeeded:
		return corev1.PodSucceeded
	case terminal:
		return corev1.PodFailed
	case spec.RestartPolicy == corev1.RestartPolicyAlways:
		return corev1.PodRunning // every container is being restarted
	case c.stopped == c.succeeded:
		return corev1.PodSucceeded
	case spec.RestartPolicy == corev1.RestartPolicyNever:
		return corev1.PodFailed
	}
	return corev1.PodRunning // OnFailure: the failed ones are being restarted
}

// initCounts counts the regular init containers that have not finished
// yet, and those whose last run failed.
func initCounts(pod *corev1.Pod) (pending, failed int) {
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if IsSidecar(c) {
			continue
		}
		cs, ok := status(pod.Status.InitContainerStatuses, c.Name)
		switch end := lastEnd(cs); {
		case !ok || cs.State.Running != nil:
			pending++
		case end != nil && end.ExitCode != 0:
			failed++
		case end == nil:
			pending++
		}
	}
	return pending, failed
}

type counts struct {
	running, waiting, stopped, succeeded, unknown int
	pendingSidecars                               int
}

// containerCounts counts the sidecars and app containers by state, as
// getPhase does. A sidecar that has stopped does not count.
func containerCounts(pod *corev1.Pod) counts {
	var n counts
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if !IsSidecar(c) {
			continue
		}
		cs, ok := status(pod.Status.InitContainerStatuses, c.Name)
		switch {
		case !ok:
			n.unknown++
		case cs.State.Running != nil:
			n.running++
			if cs.Started == nil || !*cs.Started {
				n.pendingSidecars++
			}
		case cs.State.Terminated != nil || lastEnd(cs) != nil:
		case cs.State.Waiting != nil:
			n.waiting++
			n.pendingSidecars++
		default:
			n.unknown++
			n.pendingSidecars++
		}
	}
	for _, c := range pod.Spec.Containers {
		cs, ok := status(pod.Status.ContainerStatuses, c.Name)
		switch end := lastEnd(cs); {
		case !ok:
			n.unknown++
		case cs.State.Running != nil:
			n.running++
		case end != nil:
			n.stopped++
			if cs.State.Terminated != nil && end.ExitCode == 0 {
				n.succeeded++
			}
		case cs.State.Waiting != nil:
			n.waiting++
		default:
			n.unknown++
		}
	}
	return n
}

// anyAppStarted is the kubelet's HasAnyActiveRegularContainerStarted: an
// app container is running or has run, so the pod has been initialized
// even if a sidecar is restarting.
func anyAppStarted(pod *corev1.Pod) bool {
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.State.Running != nil || lastEnd(cs) != nil {
			return true
		}
	}
	return false
}

// lastEnd is how a container's last run ended: its terminated state, or,
// while it waits to run again, its last termination; nil if it has not
// ended.
func lastEnd(cs corev1.ContainerStatus) *corev1.ContainerStateTerminated {
	switch {
	case cs.State.Terminated != nil:
		return cs.State.Terminated
	case cs.State.Waiting != nil:
		return cs.LastTerminationState.Terminated
	}
	return nil
}

func status(statuses []corev1.ContainerStatus, name string) (corev1.ContainerStatus, bool) {
	for _, cs := range statuses {
		if cs.Name == name {
			return cs, true
		}
	}
	return corev1.ContainerStatus{}, false
}
