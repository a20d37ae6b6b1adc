package monitor

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/runner/state"
)

// TestSyncConditions: the conditions recorded from the containers'
// records, by kubelet.Conditions.
func TestSyncConditions(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	pod := func(policy corev1.RestartPolicy) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{
			RestartPolicy:  policy,
			InitContainers: []corev1.Container{{Name: "init"}, {Name: "side", RestartPolicy: &always}},
			Containers:     []corev1.Container{{Name: "app"}},
		}}
	}
	initDone := state.Container{Name: "init", Init: true, State: state.Terminated}
	sideUp := state.Container{Name: "side", Init: true, State: state.Running, Started: true, Ready: true}
	appReady := state.Container{Name: "app", State: state.Running, Started: true, Ready: true}
	tests := []struct {
		name                  string
		policy                corev1.RestartPolicy
		phase                 string
		containers            []state.Container
		initialized, ready    string
		readyReason, readyMsg string
	}{
		{"all up", corev1.RestartPolicyAlways, "", []state.Container{initDone, sideUp, appReady}, "True", "True", "", ""},
		{"init running", corev1.RestartPolicyAlways, "",
			[]state.Container{{Name: "init", Init: true, State: state.Running}, {Name: "side", Init: true, State: state.Waiting}, {Name: "app", State: state.Waiting}},
			"False", "False", "ContainersNotReady", "containers with unready status: [side app]"},
		{"init failed", corev1.RestartPolicyNever, "",
			[]state.Container{{Name: "init", Init: true, State: state.Terminated, ExitCode: 1}, {Name: "side", Init: true}, {Name: "app", State: state.Waiting}},
			"False", "False", "PodFailed", ""},
		{"init failed, OnFailure", corev1.RestartPolicyOnFailure, "",
			[]state.Container{{Name: "init", Init: true, State: state.Terminated, ExitCode: 1}, {Name: "side", Init: true}, {Name: "app", State: state.Waiting}},
			"False", "False", "ContainersNotReady", "containers with unready status: [side app]"},
		{"app unready", corev1.RestartPolicyAlways, "",
			[]state.Container{initDone, sideUp, {Name: "app", State: state.Running, Started: true}},
			"True", "False", "ContainersNotReady", "containers with unready status: [app]"},
		{"sidecar unready", corev1.RestartPolicyAlways, "",
			[]state.Container{initDone, {Name: "side", Init: true, State: state.Running, Started: true}, appReady},
			"True", "False", "ContainersNotReady", "containers with unready status: [side]"},
		{"job done, sidecar still running", corev1.RestartPolicyNever, "",
			[]state.Container{initDone, sideUp, {Name: "app", State: state.Terminated}},
			"True", "False", "ContainersNotReady", "containers with unready status: [app]"},
		{"job completed", corev1.RestartPolicyNever, "",
			[]state.Container{initDone, {Name: "side", Init: true, State: state.Terminated, ExitCode: 143}, {Name: "app", State: state.Terminated}},
			"True", "False", "PodCompleted", ""},
		{"deadline exceeded", corev1.RestartPolicyAlways, state.PhaseFailed,
			[]state.Container{initDone, sideUp, {Name: "app", State: state.Terminated, ExitCode: 137}},
			"True", "False", "PodFailed", ""},
		{"app failed, OnFailure: to be restarted", corev1.RestartPolicyOnFailure, "",
			[]state.Container{initDone, sideUp, {Name: "app", State: state.Terminated, ExitCode: 1}},
			"True", "False", "ContainersNotReady", "containers with unready status: [app]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &state.Pod{Containers: tt.containers, Phase: tt.phase}
			syncConditions(s, pod(tt.policy), false, time.Unix(1000, 0))
			if c := s.FindCondition(string(corev1.PodInitialized)); c == nil || c.Status != tt.initialized {
				t.Errorf("Initialized %+v, want %s", c, tt.initialized)
			}
			for _, typ := range []corev1.PodConditionType{corev1.PodReady, corev1.ContainersReady} {
				if c := s.FindCondition(string(typ)); c == nil || c.Status != tt.ready || c.Reason != tt.readyReason || c.Message != tt.readyMsg {
					t.Errorf("%s %+v, want %s %s %q", typ, c, tt.ready, tt.readyReason, tt.readyMsg)
				}
			}
		})
	}
}

func TestSyncConditionsKeepsTransitionTimes(t *testing.T) {
	t0 := time.Unix(1000, 0)
	pod := &corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyAlways, Containers: []corev1.Container{{Name: "app"}}}}
	s := &state.Pod{Created: t0, Containers: []state.Container{{Name: "app", State: state.Running}}}
	syncConditions(s, pod, false, t0.Add(time.Second))
	s.Containers[0].Ready = true
	syncConditions(s, pod, false, t0.Add(2*time.Second))
	syncConditions(s, pod, false, t0.Add(3*time.Second))
	want := map[string]time.Time{"PodScheduled": t0, "Initialized": t0.Add(time.Second), "Ready": t0.Add(2 * time.Second), "ContainersReady": t0.Add(2 * time.Second)}
	for typ, at := range want {
		c := s.FindCondition(typ)
		if c == nil || !c.LastTransitionTime.Equal(at) {
			t.Errorf("%s: %+v, want changed at %v", typ, c, at)
		}
	}
}
