package kubelet

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// Container states, as the statuses in these tests name them.
var (
	running   = corev1.ContainerStatus{State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}, Started: ptr(true)}
	starting  = corev1.ContainerStatus{State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}, Started: ptr(false)}
	waiting   = corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}}
	succeeded = corev1.ContainerStatus{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0}}}
	failed    = corev1.ContainerStatus{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}}}
	// backingOff waits to be restarted after a failed run.
	backingOff = corev1.ContainerStatus{
		State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}},
	}
)

func ptr[T any](v T) *T { return &v }

// testPod builds a pod under policy with init containers (name "side*"
// are sidecars) and app containers, each in the state given.
type ctrs []struct {
	name string
	cs   corev1.ContainerStatus
}

func testPod(policy corev1.RestartPolicy, inits, apps ctrs) *corev1.Pod {
	pod := &corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: policy}}
	for _, c := range inits {
		spec := corev1.Container{Name: c.name}
		if len(c.name) >= 4 && c.name[:4] == "side" {
			spec.RestartPolicy = ptr(corev1.ContainerRestartPolicyAlways)
		}
		pod.Spec.InitContainers = append(pod.Spec.InitContainers, spec)
		cs := c.cs
		cs.Name = c.name
		pod.Status.InitContainerStatuses = append(pod.Status.InitContainerStatuses, cs)
	}
	for _, c := range apps {
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: c.name})
		cs := c.cs
		cs.Name = c.name
		pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, cs)
	}
	return pod
}

func app(cs corev1.ContainerStatus) ctrs { return ctrs{{"app", cs}} }

const (
	never     = corev1.RestartPolicyNever
	onFailure = corev1.RestartPolicyOnFailure
	always    = corev1.RestartPolicyAlways
)

// TestPhase follows the kubelet's getPhase (pkg/kubelet/kubelet_pods.go)
// and its table tests.
func TestPhase(t *testing.T) {
	tests := []struct {
		name     string
		pod      *corev1.Pod
		terminal bool
		want     corev1.PodPhase
	}{
		// App containers: every policy, exit 0 and non-zero.
		{"Never, running", testPod(never, nil, app(running)), false, corev1.PodRunning},
		{"Never, exit 0", testPod(never, nil, app(succeeded)), false, corev1.PodSucceeded},
		{"Never, exit 1", testPod(never, nil, app(failed)), false, corev1.PodFailed},
		{"OnFailure, exit 0", testPod(onFailure, nil, app(succeeded)), false, corev1.PodSucceeded},
		{"OnFailure, exit 1: being restarted", testPod(onFailure, nil, app(failed)), false, corev1.PodRunning},
		{"OnFailure, exit 1, backing off", testPod(onFailure, nil, app(backingOff)), false, corev1.PodRunning},
		{"OnFailure, exit 1, terminal", testPod(onFailure, nil, app(failed)), true, corev1.PodFailed},
		{"OnFailure, one failed one done", testPod(onFailure, nil, ctrs{{"a", failed}, {"b", succeeded}}), false, corev1.PodRunning},
		{"OnFailure, one failed one running", testPod(onFailure, nil, ctrs{{"a", failed}, {"b", running}}), false, corev1.PodRunning},
		{"Always, exit 0: being restarted", testPod(always, nil, app(succeeded)), false, corev1.PodRunning},
		{"Always, exit 1: being restarted", testPod(always, nil, app(failed)), false, corev1.PodRunning},
		{"Always, exit 0, terminal", testPod(always, nil, app(succeeded)), true, corev1.PodSucceeded},
		{"Always, exit 1, terminal", testPod(always, nil, app(failed)), true, corev1.PodFailed},
		{"Always, backing off", testPod(always, nil, app(backingOff)), false, corev1.PodRunning},
		{"Never, one failed one running", testPod(never, nil, ctrs{{"a", failed}, {"b", running}}), false, corev1.PodRunning},
		{"Never, one failed one done", testPod(never, nil, ctrs{{"a", failed}, {"b", succeeded}}), false, corev1.PodFailed},
		{"waiting to start", testPod(always, nil, app(waiting)), false, corev1.PodPending},
		{"one waiting one running", testPod(always, nil, ctrs{{"a", waiting}, {"b", running}}), false, corev1.PodPending},
		{"one backing off, one running", testPod(always, nil, ctrs{{"a", backingOff}, {"b", running}}), false, corev1.PodRunning},
		{"app without a state", testPod(always, nil, ctrs{{"a", running}, {"b", corev1.ContainerStatus{}}}), false, corev1.PodPending},
		{"no status yet", &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}}}, false, corev1.PodPending},

		// Regular init containers.
		{"init running", testPod(never, ctrs{{"init", running}}, app(waiting)), false, corev1.PodPending},
		{"init done, app running", testPod(never, ctrs{{"init", succeeded}}, app(running)), false, corev1.PodRunning},
		{"init failed, Never", testPod(never, ctrs{{"init", failed}}, app(waiting)), false, corev1.PodFailed},
		{"second init failed, Never", testPod(never, ctrs{{"a", succeeded}, {"b", failed}}, app(waiting)), false, corev1.PodFailed},
		{"init failed, OnFailure", testPod(onFailure, ctrs{{"init", failed}}, app(waiting)), false, corev1.PodPending},
		{"init backing off, OnFailure", testPod(onFailure, ctrs{{"init", backingOff}}, app(waiting)), false, corev1.PodPending},
		{"init failed, Always", testPod(always, ctrs{{"init", failed}}, app(waiting)), false, corev1.PodPending},
		{"init without a state", testPod(never, ctrs{{"init", corev1.ContainerStatus{}}}, app(waiting)), false, corev1.PodPending},
		{"inits done, no app status", &corev1.Pod{
			Spec:   corev1.PodSpec{InitContainers: []corev1.Container{{Name: "init"}}, Containers: []corev1.Container{{Name: "app"}}},
			Status: corev1.PodStatus{InitContainerStatuses: []corev1.ContainerStatus{{Name: "init", State: succeeded.State}}},
		}, false, corev1.PodPending},
		{"init not started", testPod(always, ctrs{{"init", waiting}}, app(waiting)), false, corev1.PodPending},

		// Sidecars.
		{"sidecar starting", testPod(never, ctrs{{"side", starting}}, app(waiting)), false, corev1.PodPending},
		{"sidecar started, init running", testPod(never, ctrs{{"side", running}, {"init", running}}, app(waiting)), false, corev1.PodPending},
		{"sidecar and app running", testPod(never, ctrs{{"side", running}, {"init", succeeded}}, app(running)), false, corev1.PodRunning},
		{"sidecar restarting after init", testPod(never, ctrs{{"side", starting}}, app(running)), false, corev1.PodRunning},
		{"sidecar backing off after init", testPod(always, ctrs{{"side", backingOff}}, app(running)), false, corev1.PodRunning},
		{"sidecar running, app done, Never", testPod(never, ctrs{{"side", running}}, app(succeeded)), false, corev1.PodRunning},
		{"sidecar stopped, app done, Never", testPod(never, ctrs{{"side", failed}}, app(succeeded)), false, corev1.PodSucceeded},
		{"sidecar stopped, app failed, Never", testPod(never, ctrs{{"side", succeeded}}, app(failed)), false, corev1.PodFailed},
		{"sidecar stopped, app done, OnFailure", testPod(onFailure, ctrs{{"side", failed}}, app(succeeded)), false, corev1.PodSucceeded},
		{"sidecar stopped, app failed, OnFailure", testPod(onFailure, ctrs{{"side", failed}}, app(failed)), false, corev1.PodRunning},
		{"sidecar running, app failed, OnFailure", testPod(onFailure, ctrs{{"side", running}}, app(failed)), false, corev1.PodRunning},
		{"sidecar failed, Never: does not fail the pod", testPod(never, ctrs{{"side", failed}}, app(running)), false, corev1.PodRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Phase(tt.pod, tt.terminal); got != tt.want {
				t.Errorf("Phase = %s, want %s", got, tt.want)
			}
		})
	}
}
