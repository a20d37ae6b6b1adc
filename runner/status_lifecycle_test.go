package runner

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestPhaseRestarting: a container waiting to be restarted counts by how
// its last run ended, as the kubelet's getPhase counts it; sidecars do not
// hold the pod pending.
func TestPhaseRestarting(t *testing.T) {
	backoff := func(code int32) corev1.ContainerStatus {
		return corev1.ContainerStatus{
			State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}},
		}
	}
	named := func(name string, cs corev1.ContainerStatus) corev1.ContainerStatus { cs.Name = name; return cs }
	always := corev1.ContainerRestartPolicyAlways
	type sts = []corev1.ContainerStatus
	tests := []struct {
		name   string
		policy corev1.RestartPolicy
		inits  sts
		apps   sts
		want   corev1.PodPhase
	}{
		{"crash loop, Always", corev1.RestartPolicyAlways, nil, sts{backoff(1)}, corev1.PodRunning},
		{"crash loop, OnFailure", corev1.RestartPolicyOnFailure, nil, sts{backoff(1)}, corev1.PodRunning},
		{"crash loop and running", corev1.RestartPolicyAlways, nil, sts{backoff(1), running}, corev1.PodRunning},
		{"init in back-off, OnFailure", corev1.RestartPolicyOnFailure, sts{backoff(2)}, sts{waiting}, corev1.PodPending},
		{"sidecar running, app running", corev1.RestartPolicyAlways, sts{succeeded, named("side", running)}, sts{running}, corev1.PodRunning},
		{"sidecar running, job done", corev1.RestartPolicyNever, sts{named("side", running)}, sts{succeeded}, corev1.PodSucceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{
				Spec: corev1.PodSpec{RestartPolicy: tt.policy, InitContainers: []corev1.Container{
					{Name: "init"}, {Name: "side", RestartPolicy: &always},
				}},
				Status: corev1.PodStatus{InitContainerStatuses: tt.inits, ContainerStatuses: tt.apps},
			}
			if got := phase(pod); got != tt.want {
				t.Errorf("phase = %s, want %s", got, tt.want)
			}
		})
	}
}
