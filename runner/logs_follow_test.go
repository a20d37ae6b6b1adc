package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podrun/podrun/runner/state"
)

// followFixture is a runner with one recorded pod, p, of one container,
// c, under restartPolicy OnFailure, its monitor this test process.
type followFixture struct {
	r   *Runner
	k   state.Key
	dir *state.PodDir
}

func newFollowFixture(t *testing.T) *followFixture {
	t.Helper()
	r, err := New(Config{Root: t.TempDir(), RunRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	k, err := state.PodKey("default", "p")
	if err != nil {
		t.Fatal(err)
	}
	return &followFixture{r: r, k: k, dir: r.pod(k).dir}
}

// record writes the pod's record with container c as given.
func (f *followFixture) record(t *testing.T, monitorAlive bool, c state.Container) {
	t.Helper()
	pod := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"},
		Spec:       corev1.PodSpec{RestartPolicy: corev1.RestartPolicyOnFailure, Containers: []corev1.Container{{Name: "c", Image: "img"}}},
	}
	manifest, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	st := &state.Pod{Namespace: "default", Name: "p", Manifest: manifest, Containers: []state.Container{c}}
	if monitorAlive {
		if st.Monitor, err = state.Identify(os.Getpid()); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.dir.Write(st); err != nil {
		t.Fatal(err)
	}
}

// run is the path of run n's log.
func (f *followFixture) run(n int) string {
	return filepath.Join(f.r.pod(f.k).layout.Logs("c"), fmt.Sprintf("%d.log", n))
}

// writeRun writes run n's log, lines in the CRI format.
func (f *followFixture) writeRun(t *testing.T, n int, lines ...string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(f.run(n)), 0o755); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "2026-01-02T03:04:05.000000000Z stdout F %s\n", l)
	}
	if err := os.WriteFile(f.run(n), []byte(b.String()), 0o640); err != nil {
		t.Fatal(err)
	}
}

// TestRunning: a run goes on while its monitor lives and has recorded
// neither its end, nor a later run, nor a failed start; also before it
// is recorded as started, its log already made.
func TestRunning(t *testing.T) {
	f := newFollowFixture(t)
	for _, tc := range []struct {
		name    string
		monitor bool
		c       state.Container
		want    bool
	}{
		{"recorded running", true, state.Container{Name: "c", State: state.Running, LogPath: f.run(1), RestartCount: 1}, true},
		{"recorded running, monitor gone", false, state.Container{Name: "c", State: state.Running, LogPath: f.run(1), RestartCount: 1}, false},
		{"exit recorded", true, state.Container{Name: "c", State: state.Terminated, LogPath: f.run(1), RestartCount: 1}, false},
		{"in back-off after it", true, state.Container{Name: "c", State: state.Waiting, LogPath: f.run(1), RestartCount: 1}, false},
		{"a later run recorded", true, state.Container{Name: "c", State: state.Running, LogPath: f.run(2), RestartCount: 2}, false},
		{"not recorded yet, the run before ended", true, state.Container{Name: "c", State: state.Terminated, LogPath: f.run(0)}, true},
		{"not recorded yet, the first run", true, state.Container{Name: "c", State: state.Waiting}, true},
		{"failed to start", true, state.Container{Name: "c", State: state.Terminated, Reason: "StartError", LogPath: f.run(0), RestartCount: 1}, false},
		{"no such container", true, state.Container{Name: "d", State: state.Running, LogPath: f.run(1)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.record(t, tc.monitor, tc.c)
			if got := f.r.running(f.k, "c", f.run(1)); got != tc.want {
				t.Errorf("running = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestLogsLifetime: Lifetime follows every run in order, waiting for a
// run whose log exists before the run is recorded, and returns once the
// pod has finished and the last run is read, or once the pod is gone.
func TestLogsLifetime(t *testing.T) {
	f := newFollowFixture(t)
	f.writeRun(t, 0, "first")
	f.writeRun(t, 1) // made, not yet recorded as started
	f.record(t, true, state.Container{Name: "c", State: state.Terminated, ExitCode: 1, LogPath: f.run(0)})
	opts := LogOptions{Follow: true, AllContainers: true, Prefix: true, Lifetime: true}
	var out strings.Builder
	done := make(chan error, 1)
	go func() { done <- f.r.Logs(context.Background(), "default", "p", opts, &out) }()
	time.Sleep(3 * followPeriod)
	select {
	case err := <-done:
		t.Fatalf("Logs returned before the pod finished: %v, %q", err, out.String())
	default:
	}
	// Run 1 starts, writes and ends; the pod has succeeded.
	f.record(t, true, state.Container{Name: "c", State: state.Running, LogPath: f.run(1), RestartCount: 1})
	f.writeRun(t, 1, "second")
	f.record(t, true, state.Container{Name: "c", State: state.Terminated, LogPath: f.run(1), RestartCount: 1})
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Logs did not return once the pod had succeeded")
	}
	if want := "[pod/p/c] first\n[pod/p/c] second\n"; out.String() != want {
		t.Errorf("Logs wrote %q, want %q", out.String(), want)
	}

	// A pod that waits, then goes: Logs returns.
	f.record(t, false, state.Container{Name: "c", State: state.Waiting, Reason: ReasonContainerCreating})
	if err := os.RemoveAll(filepath.Dir(f.run(0))); err != nil {
		t.Fatal(err)
	}
	go func() { done <- f.r.Logs(context.Background(), "default", "p", opts, &out) }()
	time.Sleep(2 * followPeriod)
	if err := os.RemoveAll(f.dir.Dir); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Logs did not return once the pod was gone")
	}
}
