package runner

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kcontrollers "github.com/podrun/podrun/kube/controllers"
)

func TestObservedPods(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ready := readyPod(&corev1.Pod{}, at)
	notReady := ready
	notReady.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: metav1.NewTime(at)}}
	deleting := ready
	deleting.DeletionTimestamp = &metav1.Time{Time: at}
	pending := corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable"}}}}
	done := corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodSucceeded, ContainerStatuses: []corev1.ContainerStatus{
		{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{FinishedAt: metav1.NewTime(at.Add(time.Minute))}}},
		{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{FinishedAt: metav1.NewTime(at.Add(time.Second))}}},
	}}}
	got := observedPods([]corev1.Pod{ready, notReady, deleting, pending, done})
	want := []kcontrollers.Pod{
		{Ready: true, ReadySince: at},
		{},
		{Ready: true, ReadySince: at, Deleting: true},
		{Unscheduled: true},
		{Finished: at.Add(time.Minute)},
	}
	for i := range want {
		g := got[i]
		g.Pod = nil
		if g != want[i] {
			t.Errorf("pod %d: got %+v, want %+v", i, g, want[i])
		}
	}
}
