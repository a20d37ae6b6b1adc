package runner

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8stypes "k8s.io/apimachinery/pkg/types"
)

// TestControllerPods: what the controllers see of pods as get shows them.
func TestControllerPods(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) metav1.Time { return metav1.NewTime(t0.Add(time.Duration(s) * time.Second)) }
	cond := func(typ corev1.PodConditionType, status corev1.ConditionStatus, s int) corev1.PodCondition {
		return corev1.PodCondition{Type: typ, Status: status, LastTransitionTime: at(s)}
	}
	exited := func(s int) corev1.ContainerStatus {
		return corev1.ContainerStatus{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{FinishedAt: at(s)}}}
	}
	pod := func(phase corev1.PodPhase, conds ...corev1.PodCondition) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: at(0)}, Status: corev1.PodStatus{Phase: phase, Conditions: conds}}
	}
	ready := pod(corev1.PodRunning, cond(corev1.PodScheduled, corev1.ConditionTrue, 0), cond(corev1.PodReady, corev1.ConditionTrue, 7))
	notReady := pod(corev1.PodRunning, cond(corev1.PodReady, corev1.ConditionFalse, 9))
	unscheduled := pod(corev1.PodPending, cond(corev1.PodScheduled, corev1.ConditionFalse, 1))
	terminating := pod(corev1.PodRunning, cond(corev1.PodReady, corev1.ConditionTrue, 3))
	terminating.DeletionTimestamp = &metav1.Time{Time: t0.Add(10 * time.Second)}
	failed := pod(corev1.PodFailed)
	failed.Status.ContainerStatuses = []corev1.ContainerStatus{exited(4), exited(12)}
	succeededNoExit := pod(corev1.PodSucceeded)

	got := observedPods([]corev1.Pod{ready, notReady, unscheduled, terminating, failed, succeededNoExit})
	tests := []struct {
		name                         string
		ready, unscheduled, deleting bool
		readySince, finished         time.Time
	}{
		{name: "ready since the condition's transition", ready: true, readySince: at(7).Time},
		{name: "not ready"},
		{name: "unscheduled", unscheduled: true},
		{name: "terminating: deleting (the controllers leave it out), its condition as it is", ready: true, readySince: at(3).Time, deleting: true},
		{name: "failed: finished at its last exit", finished: at(12).Time},
		{name: "succeeded without an exit: finished at creation", finished: at(0).Time},
	}
	for i, tt := range tests {
		p := got[i]
		if p.Ready != tt.ready || p.Unscheduled != tt.unscheduled || p.Deleting != tt.deleting ||
			(tt.ready && !p.ReadySince.Equal(tt.readySince)) || !p.Finished.Equal(tt.finished) {
			t.Errorf("%s: got ready %v since %v, unscheduled %v, deleting %v, finished %v", tt.name, p.Ready, p.ReadySince, p.Unscheduled, p.Deleting, p.Finished)
		}
	}
	if got[0].Pod == &ready {
		t.Error("the pod is not copied")
	}
}

// TestPodsOwnedBy: a ReplicaSet's pods are those whose controller
// reference names its uid.
func TestPodsOwnedBy(t *testing.T) {
	yes := true
	owned := func(name, uid string, controller bool) corev1.Pod {
		ref := metav1.OwnerReference{Kind: "ReplicaSet", Name: "web-abc", UID: k8stypes.UID("u-" + uid)}
		if controller {
			ref.Controller = &yes
		}
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, OwnerReferences: []metav1.OwnerReference{ref}}}
	}
	pods := observedPods([]corev1.Pod{owned("a", "1", true), owned("b", "2", true), owned("c", "1", false), {ObjectMeta: metav1.ObjectMeta{Name: "d"}}})
	got := podsOwnedBy(pods, "u-1")
	if len(got) != 1 || got[0].Pod.Name != "a" {
		t.Errorf("owned by u-1: %v", got)
	}
	if got := podsOwnedBy(pods, ""); len(got) != 0 {
		t.Errorf("owned by no uid: %v", got)
	}
}
