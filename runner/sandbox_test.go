package runner

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/runner/flock"
	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/translate"
)

// hostPortPod is a manifest publishing hostPort 8080.
func hostPortPod(t *testing.T) json.RawMessage {
	t.Helper()
	pod := corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "c", Ports: []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080}},
	}}}}
	data, err := json.Marshal(&pod)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Teardown and hostPort checks use the ports the state records, not what
// the manifest implies; only a record older than stages is planned again.
func TestRecordedPortsComeFromState(t *testing.T) {
	recorded := []state.Port{{ContainerPort: 53, HostPort: 5353, Protocol: "udp", HostIP: "127.0.0.1"}}
	st := &state.Pod{Stage: state.StageRunning, Manifest: hostPortPod(t), Ports: recorded}
	want := []translate.Port{{ContainerPort: 53, HostPort: 5353, Protocol: "udp", HostIP: "127.0.0.1"}}
	if diff := cmp.Diff(want, recordedPorts(st)); diff != "" {
		t.Errorf("recorded ports (-want +got):\n%s", diff)
	}
	old := &state.Pod{Manifest: hostPortPod(t)}
	want = []translate.Port{{ContainerPort: 80, HostPort: 8080, Protocol: "tcp"}}
	if diff := cmp.Diff(want, recordedPorts(old)); diff != "" {
		t.Errorf("ports of a record without a stage (-want +got):\n%s", diff)
	}
}

// A pod recorded before its monitor started reads as ApplyInterrupted
// only while no command holds its lock.
func TestInterruptedApply(t *testing.T) {
	r, err := New(Config{Root: t.TempDir(), RunRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	k, err := state.PodKey("default", "half")
	if err != nil {
		t.Fatal(err)
	}
	h := r.pod(k)
	if err := os.MkdirAll(h.dir.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	unlock, err := h.lock(context.Background()) // as apply, which makes the lock file
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	manifest, _ := json.Marshal(&corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}})
	for _, tt := range []struct {
		stage state.Stage
		want  bool
	}{
		{"", false}, {state.StageCreated, true}, {state.StageWaiting, false}, {state.StageNetwork, true},
		{state.StageBundles, true}, {state.StageMonitor, false}, {state.StageRunning, false}, {state.StageStopping, false},
	} {
		st := &state.Pod{Name: "half", Namespace: "default", Manifest: manifest, Stage: tt.stage}
		if err := h.dir.Write(st); err != nil {
			t.Fatal(err)
		}
		pod, err := r.status(k, st)
		if err != nil {
			t.Fatal(err)
		}
		if got := pod.Status.Reason == ReasonApplyInterrupted; got != tt.want {
			t.Errorf("stage %q: interrupted %v, want %v (reason %q)", tt.stage, got, tt.want, pod.Status.Reason)
		}
	}
	if unlock, err = h.lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer unlock()
	st := &state.Pod{Name: "half", Namespace: "default", Manifest: manifest, Stage: state.StageNetwork}
	if _, interrupted := interruptedApply(h, st); interrupted {
		t.Error("a pod whose lock is held reads as interrupted")
	}
	if _, err := flock.TryExclusive(h.lockPath); err == nil {
		t.Error("the pod's lock is not held")
	}
}
