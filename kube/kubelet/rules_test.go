package kubelet

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestConditions(t *testing.T) {
	ready := func(cs corev1.ContainerStatus) corev1.ContainerStatus { cs.Ready = true; return cs }
	type cond struct{ Status, Reason, Message string }
	tests := []struct {
		name                 string
		pod                  *corev1.Pod
		phase                corev1.PodPhase
		initialized, isReady cond
	}{
		{"running and ready", testPod(always, nil, app(ready(running))), corev1.PodRunning,
			cond{"True", "", ""}, cond{"True", "", ""}},
		{"running, not ready", testPod(always, nil, app(running)), corev1.PodRunning,
			cond{"True", "", ""}, cond{"False", ReasonContainersNotReady, "containers with unready status: [app]"}},
		{"init running", testPod(always, ctrs{{"a", succeeded}, {"b", running}}, app(waiting)), corev1.PodPending,
			cond{"False", ReasonContainersNotInitialized, "containers with incomplete status: [b]"},
			cond{"False", ReasonContainersNotReady, "containers with unready status: [app]"}},
		{"sidecar not started", testPod(always, ctrs{{"side", starting}}, app(waiting)), corev1.PodPending,
			cond{"False", ReasonContainersNotInitialized, "containers with incomplete status: [side]"},
			cond{"False", ReasonContainersNotReady, "containers with unready status: [side app]"}},
		{"sidecar started and ready", testPod(always, ctrs{{"side", ready(running)}}, app(ready(running))), corev1.PodRunning,
			cond{"True", "", ""}, cond{"True", "", ""}},
		{"sidecar restarting after init", testPod(always, ctrs{{"side", starting}}, app(ready(running))), corev1.PodRunning,
			cond{"True", "", ""}, cond{"False", ReasonContainersNotReady, "containers with unready status: [side]"}},
		{"succeeded", testPod(never, ctrs{{"init", succeeded}}, app(succeeded)), corev1.PodSucceeded,
			cond{"True", ReasonPodCompleted, ""}, cond{"False", ReasonPodCompleted, ""}},
		{"failed", testPod(never, nil, app(failed)), corev1.PodFailed,
			cond{"True", "", ""}, cond{"False", ReasonPodFailed, ""}},
		{"init failed", testPod(never, ctrs{{"init", failed}}, app(waiting)), corev1.PodFailed,
			cond{"False", ReasonContainersNotInitialized, "containers with incomplete status: [init]"}, cond{"False", ReasonPodFailed, ""}},
		{"OnFailure, restarting", testPod(onFailure, nil, app(failed)), corev1.PodRunning,
			cond{"True", "", ""}, cond{"False", ReasonContainersNotReady, "containers with unready status: [app]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.pod.Status.Phase = tt.phase
			got := map[corev1.PodConditionType]cond{}
			var order []corev1.PodConditionType
			for _, c := range Conditions(tt.pod) {
				got[c.Type] = cond{string(c.Status), c.Reason, c.Message}
				order = append(order, c.Type)
			}
			want := map[corev1.PodConditionType]cond{
				corev1.PodInitialized: tt.initialized, corev1.PodReady: tt.isReady,
				corev1.ContainersReady: tt.isReady, corev1.PodScheduled: {"True", "", ""},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]corev1.PodConditionType{corev1.PodInitialized, corev1.PodReady, corev1.ContainersReady, corev1.PodScheduled}, order); diff != "" {
				t.Errorf("order (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStopSignal(t *testing.T) {
	tests := []struct {
		name      string
		lifecycle corev1.Signal
		image     string
		want      string
	}{
		{"neither: SIGTERM", "", "", "SIGTERM"},
		{"the image's", "", "SIGQUIT", "SIGQUIT"},
		{"the image's, short", "", "quit", "SIGQUIT"},
		{"the image's, a number", "", "3", "3"},
		{"the image's, real-time", "", "SIGRTMIN+3", "SIGRTMIN+3"},
		{"the container's beats the image's", corev1.SIGUSR1, "SIGQUIT", "SIGUSR1"},
		{"the container's alone", corev1.SIGRTMAXMINUS1, "", "SIGRTMAX-1"},
		{"an unknown container signal is passed over", "SIGNOPE", "SIGQUIT", "SIGQUIT"},
		{"an unknown image signal is passed over", "", "SIGNOPE", "SIGTERM"},
		{"a number out of range is passed over", "", "99", "SIGTERM"},
		{"a real-time offset out of range is passed over", "", "SIGRTMIN+31", "SIGTERM"},
		{"a real-time offset the wrong way is passed over", "", "SIGRTMIN-1", "SIGTERM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &corev1.Container{}
			if tt.lifecycle != "" {
				c.Lifecycle = &corev1.Lifecycle{StopSignal: &tt.lifecycle}
			}
			if got := StopSignal(c, tt.image); got != tt.want {
				t.Errorf("StopSignal = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestGracePeriod(t *testing.T) {
	five, zero := 5*time.Second, time.Duration(0)
	tests := []struct {
		name     string
		pod      *int64
		override *time.Duration
		probe    *int64
		want     time.Duration
		probeTo  time.Duration
	}{
		{"default", nil, nil, nil, 30 * time.Second, 30 * time.Second},
		{"the pod's", ptr(int64(7)), nil, nil, 7 * time.Second, 7 * time.Second},
		{"delete's override", ptr(int64(7)), &five, nil, five, 7 * time.Second},
		{"an override of zero kills at once", nil, &zero, nil, 0, 30 * time.Second},
		{"the probe's", ptr(int64(7)), nil, ptr(int64(2)), 7 * time.Second, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := &corev1.PodSpec{TerminationGracePeriodSeconds: tt.pod}
			if got := GracePeriod(spec, tt.override); got != tt.want {
				t.Errorf("GracePeriod = %v, want %v", got, tt.want)
			}
			if got := ProbeGracePeriod(spec, &corev1.Probe{TerminationGracePeriodSeconds: tt.probe}); got != tt.probeTo {
				t.Errorf("ProbeGracePeriod = %v, want %v", got, tt.probeTo)
			}
		})
	}
}

func TestShouldRestart(t *testing.T) {
	tests := []struct {
		policy  corev1.RestartPolicy
		role    Role
		code    int
		restart bool
	}{
		{always, App, 0, true}, {always, App, 1, true},
		{onFailure, App, 0, false}, {onFailure, App, 1, true},
		{never, App, 0, false}, {never, App, 1, false},
		{always, Init, 0, false}, {always, Init, 1, true},
		{onFailure, Init, 0, false}, {onFailure, Init, 1, true},
		{never, Init, 0, false}, {never, Init, 1, false},
		{always, Sidecar, 0, true}, {onFailure, Sidecar, 0, true}, {never, Sidecar, 0, true}, {never, Sidecar, 137, true},
	}
	for _, tt := range tests {
		if got := ShouldRestart(tt.policy, tt.role, tt.code); got != tt.restart {
			t.Errorf("ShouldRestart(%s, role %d, exit %d) = %v, want %v", tt.policy, tt.role, tt.code, got, tt.restart)
		}
	}
}

func TestRoleOf(t *testing.T) {
	spec := &testPod(never, ctrs{{"init", waiting}, {"side", waiting}}, app(waiting)).Spec
	for name, want := range map[string]Role{"init": Init, "side": Sidecar, "app": App} {
		if got := RoleOf(spec, name); got != want {
			t.Errorf("RoleOf(%q) = %d, want %d", name, got, want)
		}
	}
	if IsSidecar(&corev1.Container{}) {
		t.Error("an init container without restartPolicy is a sidecar")
	}
}

func TestBackoff(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	tests := []struct {
		name  string
		base  time.Duration
		exits []time.Duration // offsets from t0
		want  []time.Duration
	}{
		{"first restart is immediate", 0, []time.Duration{0}, []time.Duration{0}},
		{"doubling from 10s", 0,
			[]time.Duration{0, time.Second, 20 * time.Second, time.Minute},
			[]time.Duration{0, 10 * time.Second, 20 * time.Second, 40 * time.Second}},
		{"capped at five minutes", 0,
			[]time.Duration{0, 1, 2, 3, 4, 5, 6, 7, 8},
			[]time.Duration{0, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 300 * time.Second, 300 * time.Second, 300 * time.Second}},
		{"reset after ten minutes without an exit", 0,
			[]time.Duration{0, time.Second, time.Second + 10*time.Minute + time.Second},
			[]time.Duration{0, 10 * time.Second, 0}},
		{"not reset at ten minutes exactly", 0,
			[]time.Duration{0, time.Second, time.Second + 10*time.Minute},
			[]time.Duration{0, 10 * time.Second, 20 * time.Second}},
		{"scaled base for tests", 100 * time.Millisecond,
			[]time.Duration{0, 1, 2},
			[]time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Backoff{Base: tt.base}
			for i, off := range tt.exits {
				if got := b.Next(t0.Add(off)); got != tt.want[i] {
					t.Errorf("exit %d: wait %v, want %v", i, got, tt.want[i])
				}
			}
		})
	}
}

func TestPullPolicy(t *testing.T) {
	tests := []struct {
		image  string
		policy corev1.PullPolicy
		want   corev1.PullPolicy
	}{
		{"busybox", "", corev1.PullAlways},
		{"busybox:latest", "", corev1.PullAlways},
		{"busybox:1.36", "", corev1.PullIfNotPresent},
		{"registry:5000/busybox", "", corev1.PullAlways},
		{"registry:5000/busybox:1.36", "", corev1.PullIfNotPresent},
		{"busybox@sha256:0123", "", corev1.PullIfNotPresent},
		{"busybox:1.36@sha256:0123", "", corev1.PullIfNotPresent},
		{"busybox:latest@sha256:0123", "", corev1.PullAlways},
		{"busybox", corev1.PullNever, corev1.PullNever},
		{"busybox:1.36", corev1.PullAlways, corev1.PullAlways},
	}
	for _, tt := range tests {
		if got := PullPolicy(&corev1.Container{Image: tt.image, ImagePullPolicy: tt.policy}); got != tt.want {
			t.Errorf("PullPolicy(%q, %q) = %q, want %q", tt.image, tt.policy, got, tt.want)
		}
	}
}

func TestImageTag(t *testing.T) {
	tests := []struct{ image, tag string }{
		{"nginx", "latest"},
		{"nginx:1.27", "1.27"},
		{"nginx:latest", "latest"},
		{"localhost:5000/nginx", "latest"},
		{"localhost:5000/nginx:v2", "v2"},
		{"nginx@sha256:abcd", ""},
		{"nginx:latest@sha256:abcd", "latest"},
	}
	for _, tt := range tests {
		if got := ImageTag(tt.image); got != tt.tag {
			t.Errorf("ImageTag(%q) = %q, want %q", tt.image, got, tt.tag)
		}
	}
}

// TestSignal: signals as pods and image configs name them, read as the
// runtime's ParseSignal takes them.
func TestSignal(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"SIGTERM", "SIGTERM", true},
		{"TERM", "SIGTERM", true},
		{"term", "SIGTERM", true},
		{"sigterm", "SIGTERM", true},
		{"INT", "SIGINT", true},
		{"SIGWINCH", "SIGWINCH", true},
		{"SIGIOT", "SIGIOT", true},
		{"15", "15", true},
		{"64", "64", true},
		{"SIGRTMIN", "SIGRTMIN", true},
		{"RTMIN+3", "SIGRTMIN+3", true},
		{"sigrtmin+30", "SIGRTMIN+30", true},
		{"SIGRTMAX-1", "SIGRTMAX-1", true},
		// Not signals.
		{"0", "", false},
		{"65", "", false},
		{"-15", "", false},
		{"", "", false},
		{"SIG", "", false},
		{"bogus", "", false},
		{"SIGBOGUS", "", false},
		{" SIGTERM", "", false},
		{"SIGRTMIN+31", "", false},
		{"SIGRTMIN-1", "", false},
		{"SIGRTMIN3", "", false},
		{"SIGRTMAX+1", "", false},
	}
	for _, tt := range tests {
		got, ok := Signal(tt.in)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("Signal(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNodeAllocatable(t *testing.T) {
	got := NodeAllocatable(4, 8<<30, 100<<30)
	if c := got[corev1.ResourceCPU]; c.Value() != 4 {
		t.Errorf("cpu %v", c.String())
	}
	if m := got[corev1.ResourceMemory]; m.String() != "8Gi" {
		t.Errorf("memory %v", m.String())
	}
	if d := got[corev1.ResourceEphemeralStorage]; d.String() != "100Gi" {
		t.Errorf("ephemeral-storage %v", d.String())
	}
	if got := NodeAllocatable(2, 0, 0); len(got) != 1 {
		t.Errorf("unknown capacities are listed: %v", got)
	}
}
