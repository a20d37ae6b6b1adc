package monitor

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/runner/state"
)

// syncConditions brings the pod's conditions up to date with its
// containers, as the kubelet computes them, keeping the time each last
// changed.
func syncConditions(s *state.Pod, pod *corev1.Pod, now time.Time) {
	if s.FindCondition(string(corev1.PodScheduled)) == nil {
		s.SetCondition(s.Created, string(corev1.PodScheduled), "True", "", "")
	}
	c := computeConditions(s, pod)
	for _, typ := range []corev1.PodConditionType{corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		v := c[typ]
		s.SetCondition(now, string(typ), v.status, v.reason, v.message)
	}
}

type condition struct{ status, reason, message string }

// computeConditions is the kubelet's Initialized, ContainersReady and
// Ready for a pod record: pure, so a table tests it.
func computeConditions(s *state.Pod, pod *corev1.Pod) map[corev1.PodConditionType]condition {
	var notInit, notReady []string
	completed := len(s.Containers) > 0
	for _, c := range s.Containers {
		sidecar := c.Init && isSidecar(pod, c.Name)
		switch {
		case sidecar:
			if !c.Started {
				notInit = append(notInit, c.Name)
			}
			if !c.Ready {
				notReady = append(notReady, c.Name)
			}
		case c.Init:
			if c.State != state.Terminated || c.ExitCode != 0 {
				notInit = append(notInit, c.Name)
			}
		default:
			if !c.Ready {
				notReady = append(notReady, c.Name)
			}
			if c.State != state.Terminated {
				completed = false
			}
		}
	}
	out := map[corev1.PodConditionType]condition{}
	out[corev1.PodInitialized] = condition{status: "True"}
	if len(notInit) > 0 {
		out[corev1.PodInitialized] = condition{"False", "ContainersNotInitialized", fmt.Sprintf("containers with incomplete status: [%s]", strings.Join(notInit, " "))}
	}
	ready := condition{status: "True"}
	switch {
	case completed && (pod.Spec.RestartPolicy != corev1.RestartPolicyAlways || s.Phase == state.PhaseFailed):
		ready = condition{"False", "PodCompleted", ""}
	case len(notInit) > 0 && len(notReady) > 0:
		ready = condition{"False", "ContainersNotReady", fmt.Sprintf("containers with unready status: [%s]", strings.Join(notReady, " "))}
	case len(notReady) > 0:
		ready = condition{"False", "ContainersNotReady", fmt.Sprintf("containers with unready status: [%s]", strings.Join(notReady, " "))}
	}
	out[corev1.ContainersReady] = ready
	out[corev1.PodReady] = ready
	return out
}

func isSidecar(pod *corev1.Pod, name string) bool {
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
		}
	}
	return false
}
