package monitor

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podrun/podrun/kube/kubelet"
	"github.com/podrun/podrun/runner/state"
)

// PodStatus fills pod.Status's container statuses, phase, reason and
// message from the pod's record s, as the kubelet reports them; status
// turns each record into its API status. A phase the monitor recorded
// (DeadlineExceeded, Evicted) stands; any other is kubelet.Phase, with
// terminal saying that no container will run again. Conditions are the
// caller's.
func PodStatus(s *state.Pod, pod *corev1.Pod, terminal bool, status func(state.Container) corev1.ContainerStatus) {
	pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses = nil, nil
	for _, c := range s.Containers {
		if c.Init {
			pod.Status.InitContainerStatuses = append(pod.Status.InitContainerStatuses, status(c))
		} else {
			pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, status(c))
		}
	}
	pod.Status.Phase = kubelet.Phase(pod, terminal)
	if s.Phase != "" {
		pod.Status.Phase = corev1.PodPhase(s.Phase)
		pod.Status.Reason, pod.Status.Message = s.Reason, s.Message
	}
}

// ContainerStatus is a container's API status from its record.
func ContainerStatus(c state.Container) corev1.ContainerStatus {
	cs := corev1.ContainerStatus{
		Name:         c.Name,
		Image:        c.Image,
		ImageID:      c.Image,
		ContainerID:  "podrun://" + c.ID,
		RestartCount: int32(c.RestartCount),
		Started:      ptr(false),
	}
	if l := c.LastState; l != nil {
		cs.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{
			ExitCode: int32(l.ExitCode), Signal: int32(l.Signal), Reason: l.Reason, Message: l.Message,
			StartedAt: metav1.NewTime(l.StartedAt), FinishedAt: metav1.NewTime(l.FinishedAt),
		}
	}
	switch c.State {
	case state.Running:
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(c.StartedAt)}
		cs.Ready = c.Ready
		cs.Started = ptr(c.Started)
	case state.Terminated:
		cs.State.Terminated = &corev1.ContainerStateTerminated{
			ExitCode:   int32(c.ExitCode),
			Signal:     int32(c.Signal),
			Reason:     c.Reason,
			Message:    c.Message,
			StartedAt:  metav1.NewTime(c.StartedAt),
			FinishedAt: metav1.NewTime(c.FinishedAt),
		}
	default:
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: c.Reason, Message: c.Message}
	}
	return cs
}

// syncConditions brings the pod's recorded conditions up to date with its
// containers by kubelet.Conditions, keeping the time each last changed
// (PodScheduled: when the pod was created).
func syncConditions(s *state.Pod, pod *corev1.Pod, terminal bool, now time.Time) {
	view := corev1.Pod{Spec: pod.Spec}
	PodStatus(s, &view, terminal, ContainerStatus)
	for _, c := range kubelet.Conditions(&view) {
		at := now
		if c.Type == corev1.PodScheduled {
			at = s.Created
		}
		s.SetCondition(at, string(c.Type), string(c.Status), c.Reason, c.Message)
	}
}

func ptr[T any](v T) *T { return &v }
