package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Container states for the STATUS column table.
func runningState() corev1.ContainerState {
	return corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
}

func terminatedState(code int32, reason string, signal int32) corev1.ContainerState {
	return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason, Signal: signal}}
}

func waitingState(reason string) corev1.ContainerState {
	return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}
}

// statusPod is a pod with len(apps) app containers and len(inits) init
// containers in its spec, and statuses in those states.
func statusPod(phase corev1.PodPhase, inits, apps []corev1.ContainerState) *corev1.Pod {
	p := &corev1.Pod{Status: corev1.PodStatus{Phase: phase}}
	for i, s := range inits {
		name := "init" + string(rune('a'+i))
		p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: name})
		p.Status.InitContainerStatuses = append(p.Status.InitContainerStatuses, corev1.ContainerStatus{Name: name, State: s})
	}
	for i, s := range apps {
		name := "app" + string(rune('a'+i))
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: name})
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses,
			corev1.ContainerStatus{Name: name, State: s, Ready: s.Running != nil})
	}
	return p
}

func withReady(p *corev1.Pod, status corev1.ConditionStatus) *corev1.Pod {
	p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady, Status: status})
	return p
}

func TestPodStatusReason(t *testing.T) {
	type states = []corev1.ContainerState
	done := terminatedState(0, "Completed", 0)
	deleting := statusPod(corev1.PodRunning, nil, states{runningState()})
	deleting.DeletionTimestamp = &metav1.Time{Time: time.Now()}
	notReadyContainer := statusPod(corev1.PodRunning, nil, states{done, runningState()})
	notReadyContainer.Status.ContainerStatuses[1].Ready = false

	tests := []struct {
		name string
		pod  *corev1.Pod
		want string
	}{
		{"pending, no statuses", &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending}}, "Pending"},
		{"running", withReady(statusPod(corev1.PodRunning, nil, states{runningState()}), corev1.ConditionTrue), "Running"},
		{"completed", statusPod(corev1.PodSucceeded, nil, states{done}), "Completed"},
		{"error", statusPod(corev1.PodFailed, nil, states{terminatedState(1, "Error", 0)}), "Error"},
		{"start error", statusPod(corev1.PodFailed, nil, states{terminatedState(128, "StartError", 0)}), "StartError"},
		{"process gone", statusPod(corev1.PodFailed, nil, states{terminatedState(137, "ContainerStatusUnknown", 0)}), "ContainerStatusUnknown"},
		{"exit code without a reason", statusPod(corev1.PodFailed, nil, states{terminatedState(3, "", 0)}), "ExitCode:3"},
		{"signal without a reason", statusPod(corev1.PodFailed, nil, states{terminatedState(137, "", 9)}), "Signal:9"},
		{"waiting", statusPod(corev1.PodPending, nil, states{waitingState("ContainerCreating")}), "ContainerCreating"},
		{"waiting without a reason", statusPod(corev1.PodPending, nil, states{waitingState("")}), "Pending"},
		{"first container's reason wins", statusPod(corev1.PodFailed, nil, states{terminatedState(2, "Error", 0), done}), "Error"},
		{"first init running", statusPod(corev1.PodPending, states{runningState(), waitingState("PodInitializing")},
			states{waitingState("PodInitializing")}), "Init:0/2"},
		{"second init running", statusPod(corev1.PodPending, states{done, runningState()},
			states{waitingState("PodInitializing")}), "Init:1/2"},
		{"init waiting to initialize", statusPod(corev1.PodPending, states{waitingState("PodInitializing")},
			states{waitingState("PodInitializing")}), "Init:0/1"},
		{"init waiting with a reason", statusPod(corev1.PodPending, states{waitingState("CrashLoopBackOff")},
			states{waitingState("PodInitializing")}), "Init:CrashLoopBackOff"},
		{"init failed", statusPod(corev1.PodFailed, states{done, terminatedState(1, "Error", 0)},
			states{waitingState("PodInitializing")}), "Init:Error"},
		{"init failed without a reason", statusPod(corev1.PodFailed, states{terminatedState(2, "", 0)},
			states{waitingState("PodInitializing")}), "Init:ExitCode:2"},
		{"inits done, app running", withReady(statusPod(corev1.PodRunning, states{done}, states{runningState()}), corev1.ConditionTrue), "Running"},
		{"one completed, one running, pod ready", withReady(statusPod(corev1.PodRunning, nil,
			states{done, runningState()}), corev1.ConditionTrue), "Running"},
		{"one completed, one running, pod not ready", withReady(statusPod(corev1.PodRunning, nil,
			states{done, runningState()}), corev1.ConditionFalse), "NotReady"},
		{"one completed, one running but not ready", notReadyContainer, "Completed"},
		{"being deleted", deleting, "Terminating"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := podStatusReason(tt.pod); got != tt.want {
				t.Errorf("podStatusReason = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadinessAndRestarts(t *testing.T) {
	p := statusPod(corev1.PodRunning, []corev1.ContainerState{terminatedState(0, "Completed", 0)},
		[]corev1.ContainerState{runningState(), terminatedState(1, "Error", 0), runningState()})
	p.Status.InitContainerStatuses[0].RestartCount = 7 // not counted: kubectl counts app containers once initialised
	p.Status.ContainerStatuses[0].RestartCount = 2
	p.Status.ContainerStatuses[1].RestartCount = 3
	if got := readiness(p); got != "2/3" {
		t.Errorf("readiness = %q, want 2/3", got)
	}
	if got := restarts(p); got != "5" {
		t.Errorf("restarts = %q, want 5", got)
	}
	// Before any status: every container of the spec counts.
	fresh := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}, {Name: "b"}}}}
	if got := readiness(fresh); got != "0/2" {
		t.Errorf("readiness of a pod without statuses = %q, want 0/2", got)
	}
	if got := restarts(fresh); got != "0" {
		t.Errorf("restarts of a pod without statuses = %q, want 0", got)
	}
}

func TestAge(t *testing.T) {
	tests := []struct {
		ago  time.Duration
		want string
	}{
		{3*time.Hour + 30*time.Minute + 10*time.Second, "3h30m"},
		{50 * time.Hour, "2d2h"},
		{400 * 24 * time.Hour, "400d"},
		{3 * 365 * 24 * time.Hour, "3y"},
		{-time.Hour, "<invalid>"}, // a clock that went back
	}
	for _, tt := range tests {
		if got := age(time.Now().Add(-tt.ago)); got != tt.want {
			t.Errorf("age(%v ago) = %q, want %q", tt.ago, got, tt.want)
		}
	}
	if got := age(time.Time{}); got != "<unknown>" {
		t.Errorf("age(zero) = %q, want <unknown>", got)
	}
}

func tablePods() []corev1.Pod {
	web := withReady(statusPod(corev1.PodRunning, nil, []corev1.ContainerState{runningState()}), corev1.ConditionTrue)
	web.Name, web.Namespace = "web", "default"
	web.CreationTimestamp = metav1.NewTime(time.Now().Add(-3*time.Hour - 30*time.Minute - 10*time.Second))
	web.Status.PodIP = "10.88.0.5"
	web.Spec.NodeName = "box"
	job := statusPod(corev1.PodSucceeded, nil, []corev1.ContainerState{terminatedState(0, "Completed", 0)})
	job.Name, job.Namespace = "job", "batch"
	return []corev1.Pod{*web, *job}
}

func TestPrintTable(t *testing.T) {
	tests := []struct {
		name        string
		wide, allNS bool
		header, web []string
		job         []string
	}{
		{
			name:   "default",
			header: []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE"},
			web:    []string{"web", "1/1", "Running", "0", "3h30m"},
			job:    []string{"job", "0/1", "Completed", "0", "<unknown>"},
		},
		{
			name: "all namespaces", allNS: true,
			header: []string{"NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"},
			web:    []string{"default", "web", "1/1", "Running", "0", "3h30m"},
			job:    []string{"batch", "job", "0/1", "Completed", "0", "<unknown>"},
		},
		{
			name: "wide", wide: true,
			header: []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"},
			web:    []string{"web", "1/1", "Running", "0", "3h30m", "10.88.0.5", "box"},
			job:    []string{"job", "0/1", "Completed", "0", "<unknown>", "<none>", "<none>"},
		},
		{
			name: "wide, all namespaces", wide: true, allNS: true,
			header: []string{"NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"},
			web:    []string{"default", "web", "1/1", "Running", "0", "3h30m", "10.88.0.5", "box"},
			job:    []string{"batch", "job", "0/1", "Completed", "0", "<unknown>", "<none>", "<none>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := printTable(&b, tablePods(), tt.wide, tt.allNS); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
			if len(lines) != 3 {
				t.Fatalf("%d lines, want 3:\n%s", len(lines), b.String())
			}
			for i, want := range [][]string{tt.header, tt.web, tt.job} {
				if got := strings.Fields(lines[i]); strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("line %d = %q, want the fields %q", i, lines[i], want)
				}
			}
			// Columns line up: each header starts where its values do.
			col := strings.Index(lines[0], "STATUS")
			if !strings.HasPrefix(lines[1][col:], "Running") || !strings.HasPrefix(lines[2][col:], "Completed") {
				t.Errorf("STATUS column not aligned:\n%s", b.String())
			}
		})
	}
}

func TestPrintTableEmpty(t *testing.T) {
	for _, output := range []string{"", "wide"} {
		var b bytes.Buffer
		if err := printPods(&b, nil, output, true, false); err != nil {
			t.Fatal(err)
		}
		if b.String() != "No resources found.\n" {
			t.Errorf("-o %q of no pods printed %q", output, b.String())
		}
	}
}

func TestPrintPodsStructured(t *testing.T) {
	pods := tablePods()
	tests := []struct {
		name   string
		pods   []corev1.Pod
		single bool
		kind   string
		names  []string
	}{
		{"one pod asked for by name", pods[:1], true, "Pod", []string{"web"}},
		{"one pod listed", pods[:1], false, "PodList", []string{"web"}},
		{"several pods", pods, false, "PodList", []string{"web", "job"}},
		{"a name found in two namespaces", pods, true, "PodList", []string{"web", "job"}},
		{"no pods", nil, false, "PodList", nil},
	}
	decoders := map[string]func([]byte, any) error{
		"json": json.Unmarshal,
		"yaml": func(data []byte, v any) error { return yaml.Unmarshal(data, v) },
	}
	for format, decode := range decoders {
		for _, tt := range tests {
			t.Run(format+"/"+tt.name, func(t *testing.T) {
				var b bytes.Buffer
				if err := printPods(&b, tt.pods, format, false, tt.single); err != nil {
					t.Fatal(err)
				}
				if !strings.HasSuffix(b.String(), "\n") {
					t.Errorf("output does not end in a newline: %q", b.String())
				}
				var head metav1.TypeMeta
				if err := decode(b.Bytes(), &head); err != nil {
					t.Fatalf("decoding %s: %v\n%s", format, err, b.String())
				}
				if head.APIVersion != "v1" || head.Kind != tt.kind {
					t.Errorf("apiVersion %q kind %q, want v1 %s", head.APIVersion, head.Kind, tt.kind)
				}
				var got []corev1.Pod
				if tt.kind == "Pod" {
					var p corev1.Pod
					if err := decode(b.Bytes(), &p); err != nil {
						t.Fatal(err)
					}
					got = []corev1.Pod{p}
				} else {
					var l corev1.PodList
					if err := decode(b.Bytes(), &l); err != nil {
						t.Fatal(err)
					}
					got = l.Items
				}
				if len(got) != len(tt.names) {
					t.Fatalf("%d pods, want %d", len(got), len(tt.names))
				}
				for i, p := range got {
					if p.Name != tt.names[i] || p.Kind != "Pod" || p.APIVersion != "v1" {
						t.Errorf("item %d: %s/%s %q, want v1/Pod %q", i, p.APIVersion, p.Kind, p.Name, tt.names[i])
					}
					if p.Status.Phase != pods[i].Status.Phase {
						t.Errorf("item %d: phase %q, want %q", i, p.Status.Phase, pods[i].Status.Phase)
					}
				}
			})
		}
	}
}

func TestPrintPodsUnknownFormat(t *testing.T) {
	for _, format := range []string{"xml", "JSON", "name", "jsonpath={.items}"} {
		var b bytes.Buffer
		err := printPods(&b, tablePods(), format, false, false)
		if err == nil || !strings.Contains(err.Error(), format) {
			t.Errorf("-o %s: error %v, want one naming the format", format, err)
		}
		if b.Len() != 0 {
			t.Errorf("-o %s printed %q", format, b.String())
		}
	}
}
