package runner

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podrun/podrun/runner/state"
)

// liveProcess is this test process, which is certainly running.
func liveProcess(t *testing.T) state.Process {
	t.Helper()
	p, err := state.Identify(os.Getpid())
	if err != nil {
		t.Fatalf("identifying this process: %v", err)
	}
	return p
}

// absentPid is a pid no process can hold: pids stay below pid_max.
func absentPid(t *testing.T) int {
	t.Helper()
	data, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		t.Fatalf("reading pid_max: %v", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("parsing pid_max %q: %v", data, err)
	}
	return n
}

func manifestJSON(t *testing.T, pod corev1.Pod) json.RawMessage {
	t.Helper()
	data, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestPodStatus(t *testing.T) {
	created := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	started := created.Add(2 * time.Second)
	finished := created.Add(5 * time.Second)
	live := liveProcess(t)
	reused := live
	reused.StartTime++ // the pid is alive, but it is another process
	gone := state.Process{Pid: absentPid(t), StartTime: 1}

	manifest := func(policy corev1.RestartPolicy, inits ...string) corev1.Pod {
		p := corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", CreationTimestamp: metav1.NewTime(created)},
			Spec: corev1.PodSpec{
				RestartPolicy: policy,
				Containers:    []corev1.Container{{Name: "app", Image: "busybox"}},
			},
		}
		for _, n := range inits {
			p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: n, Image: "busybox"})
		}
		return p
	}
	app := func(s string, pid state.Process) state.Container {
		return state.Container{Name: "app", Image: "docker.io/library/busybox:latest", ID: "default_web_app", State: s,
			StartedAt: started, Pid: pid, RestartCount: 2}
	}
	readyApp := func(c state.Container) state.Container { c.Ready, c.Started = true, true; return c }
	unknown := &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "ContainerStatusUnknown",
		Message:   "The container could not be located when the pod was inspected",
		StartedAt: metav1.NewTime(started)}

	tests := []struct {
		name       string
		pod        corev1.Pod
		record     state.Pod
		phase      corev1.PodPhase
		ready      corev1.ConditionStatus
		inits      int
		app        corev1.ContainerState // the app container's state
		appReady   bool
		appStarted bool
	}{
		{
			name:   "running with a live process, ready as the monitor recorded",
			pod:    manifest(corev1.RestartPolicyAlways),
			record: state.Pod{Containers: []state.Container{readyApp(app(state.Running, live))}},
			phase:  corev1.PodRunning, ready: corev1.ConditionTrue,
			app:      corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(started)}},
			appReady: true, appStarted: true,
		},
		{
			name:   "recorded running, pid gone, restartPolicy Never",
			pod:    manifest(corev1.RestartPolicyNever),
			record: state.Pod{Containers: []state.Container{app(state.Running, gone)}},
			phase:  corev1.PodFailed, ready: corev1.ConditionFalse,
			app: corev1.ContainerState{Terminated: unknown},
		},
		{
			name:   "recorded running, pid reused by another process",
			pod:    manifest(corev1.RestartPolicyNever),
			record: state.Pod{Containers: []state.Container{app(state.Running, reused)}},
			phase:  corev1.PodFailed, ready: corev1.ConditionFalse,
			app: corev1.ContainerState{Terminated: unknown},
		},
		{
			name:   "recorded running, no pid at all",
			pod:    manifest(corev1.RestartPolicyOnFailure),
			record: state.Pod{Containers: []state.Container{app(state.Running, state.Process{})}},
			phase:  corev1.PodFailed, ready: corev1.ConditionFalse,
			app: corev1.ContainerState{Terminated: unknown},
		},
		{
			name: "init done, app terminated in success",
			pod:  manifest(corev1.RestartPolicyNever, "setup"),
			record: state.Pod{Containers: []state.Container{
				{Name: "setup", Init: true, State: state.Terminated, Reason: "Completed", StartedAt: created, FinishedAt: started},
				{Name: "app", State: state.Terminated, Reason: "Completed", StartedAt: started, FinishedAt: finished, RestartCount: 2},
			}},
			phase: corev1.PodSucceeded, ready: corev1.ConditionFalse, inits: 1,
			app: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed",
				StartedAt: metav1.NewTime(started), FinishedAt: metav1.NewTime(finished)}},
		},
		{
			name: "init running, app waiting",
			pod:  manifest(corev1.RestartPolicyAlways, "setup"),
			record: state.Pod{Containers: []state.Container{
				{Name: "setup", Init: true, State: state.Running, Pid: live},
				{Name: "app", State: state.Waiting, Reason: "PodInitializing", RestartCount: 2},
			}},
			phase: corev1.PodPending, ready: corev1.ConditionFalse, inits: 1,
			app: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tt.record
			rec.Name, rec.Namespace = tt.pod.Name, tt.pod.Namespace
			rec.Manifest = manifestJSON(t, tt.pod)
			rec.Created = created
			rec.PodIP, rec.HostIP = "10.88.0.5", "192.0.2.10"
			pod, err := podStatus(&rec)
			if err != nil {
				t.Fatal(err)
			}
			st := pod.Status
			if pod.Name != "web" || len(pod.Spec.Containers) != 1 {
				t.Errorf("the manifest was not carried over: name %q, %d containers", pod.Name, len(pod.Spec.Containers))
			}
			if st.Phase != tt.phase {
				t.Errorf("phase = %s, want %s", st.Phase, tt.phase)
			}
			if st.PodIP != "10.88.0.5" || len(st.PodIPs) != 1 || st.PodIPs[0].IP != "10.88.0.5" {
				t.Errorf("podIP %q, podIPs %v", st.PodIP, st.PodIPs)
			}
			if st.HostIP != "192.0.2.10" || len(st.HostIPs) != 1 || st.HostIPs[0].IP != "192.0.2.10" {
				t.Errorf("hostIP %q, hostIPs %v", st.HostIP, st.HostIPs)
			}
			if st.StartTime == nil || !st.StartTime.Time.Equal(created) {
				t.Errorf("startTime = %v, want %v", st.StartTime, created)
			}
			if st.QOSClass != corev1.PodQOSBestEffort {
				t.Errorf("qosClass = %s, want BestEffort", st.QOSClass)
			}
			if len(st.InitContainerStatuses) != tt.inits {
				t.Errorf("%d init container statuses, want %d", len(st.InitContainerStatuses), tt.inits)
			}
			for _, cs := range st.InitContainerStatuses {
				if cs.Name != "setup" {
					t.Errorf("init container status for %q, want setup", cs.Name)
				}
			}
			if len(st.ContainerStatuses) != 1 {
				t.Fatalf("%d container statuses, want 1", len(st.ContainerStatuses))
			}
			cs := st.ContainerStatuses[0]
			if cs.Name != "app" || cs.RestartCount != 2 {
				t.Errorf("status name %q restarts %d, want app and 2", cs.Name, cs.RestartCount)
			}
			if !equalJSON(t, cs.State, tt.app) {
				t.Errorf("state = %s, want %s", mustJSON(t, cs.State), mustJSON(t, tt.app))
			}
			if cs.Ready != tt.appReady || cs.Started == nil || *cs.Started != tt.appStarted {
				t.Errorf("ready %v started %v, want %v and %v", cs.Ready, cs.Started, tt.appReady, tt.appStarted)
			}
			var ready corev1.ConditionStatus
			for _, c := range st.Conditions {
				if c.Type == corev1.PodReady {
					ready = c.Status
				}
			}
			if ready != tt.ready {
				t.Errorf("Ready condition %q, want %q", ready, tt.ready)
			}
		})
	}
}

func TestPodStatusIdentity(t *testing.T) {
	rec := state.Pod{
		Name: "web",
		Manifest: manifestJSON(t, corev1.Pod{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: "busybox"}}}}),
		Containers: []state.Container{{Name: "app", Image: "docker.io/library/busybox:latest", ID: "ns_web_app", State: state.Waiting}},
	}
	pod, err := podStatus(&rec)
	if err != nil {
		t.Fatal(err)
	}
	st := pod.Status
	if st.PodIP != "" || st.PodIPs != nil || st.HostIP != "" || st.HostIPs != nil {
		t.Errorf("a pod without addresses reports podIP %q %v, hostIP %q %v", st.PodIP, st.PodIPs, st.HostIP, st.HostIPs)
	}
	if st.StartTime != nil {
		t.Errorf("a pod without a creation time has startTime %v", st.StartTime)
	}
	cs := st.ContainerStatuses[0]
	if cs.ContainerID != "podrun://ns_web_app" {
		t.Errorf("containerID = %q", cs.ContainerID)
	}
	if cs.Image != "docker.io/library/busybox:latest" || cs.ImageID != cs.Image {
		t.Errorf("image %q, imageID %q", cs.Image, cs.ImageID)
	}
}

func TestPodStatusBadManifest(t *testing.T) {
	for _, manifest := range []string{`{"spec":`, `[]`, `{"spec":{"containers":"app"}}`} {
		rec := state.Pod{Name: "web", Manifest: json.RawMessage(manifest)}
		if pod, err := podStatus(&rec); err == nil || !strings.Contains(err.Error(), "web") {
			t.Errorf("manifest %s: got %v, %v; want an error naming the pod", manifest, pod, err)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	return mustJSON(t, a) == mustJSON(t, b)
}
