package monitor

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podrun/podrun/runner/state"
)

// TestUpdateSyncsEndpoints: the monitor calls Config.Endpoints after an
// update that changes what Services see of the pod (its readiness, a
// container's exit), with the change already on disk, and not after one
// that does not (an event).
func TestUpdateSyncsEndpoints(t *testing.T) {
	store := state.Store{Dir: t.TempDir()}
	k, err := state.PodKey("default", "p")
	if err != nil {
		t.Fatal(err)
	}
	dir := store.Pod(k)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}, RestartPolicy: corev1.RestartPolicyAlways},
	}
	manifest, _ := json.Marshal(pod)
	if err := dir.Create(context.Background(), &state.Pod{Name: "p", Namespace: "default", Manifest: manifest, PodIP: "10.1.0.2",
		Containers: []state.Container{{Name: "c", State: state.Running, Started: true}}}); err != nil {
		t.Fatal(err)
	}
	var seen []string // the Ready condition on disk at each call
	m := &monitor{pod: pod, halting: make(chan struct{}), cfg: Config{Pod: dir, Log: slog.New(slog.DiscardHandler), Endpoints: func(ctx context.Context) {
		st, err := dir.Read()
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, st.FindCondition(string(corev1.PodReady)).Status)
	}}}
	setReady := func(ready bool) {
		m.update(func(s *state.Pod) { s.Containers[0].Ready = ready })
	}
	setReady(true)
	setReady(true)
	m.event(corev1.EventTypeNormal, "Pulled", "", "nothing Services see")
	setReady(false)
	m.update(func(s *state.Pod) {
		s.Containers[0].State, s.Containers[0].FinishedAt = state.Terminated, time.Now()
	})
	want := []string{"True", "False", "False"}
	if len(seen) != len(want) || seen[0] != want[0] || seen[1] != want[1] || seen[2] != want[2] {
		t.Errorf("Endpoints called with Ready %v on disk, want %v", seen, want)
	}
}
