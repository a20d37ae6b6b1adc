package supervise

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/podrun/podrun/runner/state"
)

// fakeWorld keeps pods in memory, and makes a directory in the pods store
// for each, as the runner would.
type fakeWorld struct {
	mu      sync.Mutex
	podsDir string
	pods    map[string]corev1.Pod
}

func (w *fakeWorld) ListPods(_ context.Context, ns string) ([]corev1.Pod, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []corev1.Pod
	for _, p := range w.pods {
		if p.Namespace == ns {
			out = append(out, p)
		}
	}
	return out, nil
}

func (w *fakeWorld) ApplyPods(_ context.Context, pods []*corev1.Pod) error {
	for _, p := range pods {
		w.put(*p)
	}
	return nil
}

func (w *fakeWorld) put(p corev1.Pod) {
	w.mu.Lock()
	w.pods[p.Name] = p
	w.mu.Unlock()
	os.MkdirAll(filepath.Join(w.podsDir, p.Namespace+"_"+p.Name), 0o700)
}

func (w *fakeWorld) DeletePods(_ context.Context, ns string, names []string) error {
	for _, n := range names {
		w.remove(ns, n)
	}
	return nil
}

func (w *fakeWorld) remove(ns, name string) {
	w.mu.Lock()
	delete(w.pods, name)
	w.mu.Unlock()
	os.RemoveAll(filepath.Join(w.podsDir, ns+"_"+name))
}

// keepOne is a controller that keeps one pod named "<name>-0" and reports
// each step.
type keepOne struct{ steps chan int }

func (c keepOne) Sync(ctx context.Context, w *Workload, env Env) (time.Duration, error) {
	defer func() { c.steps <- len(env.Pods()) }()
	if err := env.SetStatus(map[string]int{"replicas": len(env.Pods())}); err != nil {
		return 0, err
	}
	if len(env.Pods()) > 0 {
		return 0, nil
	}
	yes := true
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: w.Key.Name() + "-0", OwnerReferences: []metav1.OwnerReference{
		{Kind: "Test", Name: w.Key.Name(), UID: types.UID(w.UID), Controller: &yes}}}}
	env.Event("Normal", "SuccessfulCreate", "Created pod: "+pod.Name)
	return 0, env.CreatePods(ctx, pod)
}

// startRun runs a supervisor for a workload of this process, with a
// resync too long to matter: every step the test sees was woken.
func startRun(t *testing.T) (d *Dir, w *fakeWorld, steps chan int, done chan error, cancel func()) {
	t.Helper()
	root := t.TempDir()
	k, _ := NewKey("test", "default", "web")
	d = Store{Dir: filepath.Join(root, "workloads")}.Workload(k)
	if err := d.Create(); err != nil {
		t.Fatal(err)
	}
	d.WriteObject([]byte(`{"metadata":{"name":"web","uid":"u-1"}}`))
	self, _ := state.Identify(os.Getpid())
	d.Write(&Record{Supervisor: self})
	w = &fakeWorld{podsDir: filepath.Join(root, "pods"), pods: map[string]corev1.Pod{}}
	steps = make(chan int, 100)
	readyR, readyW, _ := os.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done = make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Dir: d, PodsDir: w.podsDir, Controller: keepOne{steps}, World: w, Ready: readyW, Resync: time.Hour})
	}()
	line, err := bufio.NewReader(readyR).ReadBytes('\n')
	if err != nil || string(line) != "{}\n" {
		t.Fatalf("ready line %q, %v", line, err)
	}
	t.Cleanup(cancel)
	return d, w, steps, done, cancel
}

func next(t *testing.T, steps chan int) int {
	t.Helper()
	select {
	case n := <-steps:
		return n
	case <-time.After(20 * time.Second):
		t.Fatal("no step")
		return 0
	}
}

func TestRunWakes(t *testing.T) {
	d, w, steps, done, cancel := startRun(t)
	if n := next(t, steps); n != 0 {
		t.Fatalf("first step saw %d pods", n)
	}
	// Its own pod's directory appearing woke it.
	if n := next(t, steps); n != 1 {
		t.Fatalf("second step saw %d pods", n)
	}
	// The step's status and events are written just after it.
	for end := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		rec, _ := d.Read()
		var st map[string]int
		json.Unmarshal(rec.Status, &st)
		if st["replicas"] == 1 && len(rec.Events) == 1 {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("record %s %+v", rec.Status, rec.Events)
		}
	}
	// A pod's state file replaced wakes it.
	pod := filepath.Join(w.podsDir, "default_web-0")
	state.WriteFile(filepath.Join(pod, "state.json"), []byte("{}"), 0o600)
	next(t, steps)
	// A re-apply wakes it.
	d.WriteObject([]byte(`{"metadata":{"name":"web","uid":"u-1","generation":2}}`))
	next(t, steps)
	// A pod deleted behind its back is made again.
	w.remove("default", "web-0")
	if n := next(t, steps); n != 0 {
		t.Fatalf("step after delete saw %d pods", n)
	}
	if n := next(t, steps); n != 1 {
		t.Fatalf("step after re-create saw %d pods", n)
	}
	// Its own record written wakes nothing; SIGTERM (ctx) ends it.
	d.Update(context.Background(), func(r *Record) error { r.Starts = 7; return nil })
	select {
	case n := <-steps:
		t.Errorf("woken by its record: step saw %d", n)
	case <-time.After(300 * time.Millisecond):
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestRunStops(t *testing.T) {
	for name, change := range map[string]func(d *Dir){
		"deleted": func(d *Dir) { d.Remove() },
		"deleting": func(d *Dir) {
			d.Update(context.Background(), func(r *Record) error { r.Deleting = time.Now(); return nil })
			d.WriteObject([]byte(`{}`))
		},
		"superseded": func(d *Dir) {
			d.Update(context.Background(), func(r *Record) error { r.Supervisor = state.Process{Pid: 1}; return nil })
			d.WriteObject([]byte(`{}`))
		},
	} {
		t.Run(name, func(t *testing.T) {
			d, _, steps, done, _ := startRun(t)
			next(t, steps)
			next(t, steps)
			change(d)
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the supervisor goes on")
			}
		})
	}
}

func TestOwned(t *testing.T) {
	ref := func(uid string) []metav1.OwnerReference {
		return []metav1.OwnerReference{{UID: types.UID(uid)}}
	}
	pods := []corev1.Pod{
		{ObjectMeta: metav1.ObjectMeta{Name: "a", OwnerReferences: ref("u1")}},
		{ObjectMeta: metav1.ObjectMeta{Name: "b", OwnerReferences: ref("u2")}},
		{ObjectMeta: metav1.ObjectMeta{Name: "c"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "d", OwnerReferences: ref("")}},
	}
	got := Owned(pods, "u1", "u2", "")
	if len(got) != 2 || got[0].Name != "a" || got[1].Name != "b" {
		data, _ := json.Marshal(got)
		t.Errorf("owned: %s", data)
	}
}

// TestRunOwnedObjects: a pod owned by an object the workload owns is the
// workload's.
func TestRunOwnedObjects(t *testing.T) {
	root := t.TempDir()
	k, _ := NewKey("test", "default", "web")
	d := Store{Dir: filepath.Join(root, "workloads")}.Workload(k)
	d.Create()
	d.WriteObject([]byte(`{"metadata":{"name":"web","uid":"u-1"}}`))
	self, _ := state.Identify(os.Getpid())
	d.Write(&Record{Supervisor: self})
	w := &fakeWorld{podsDir: filepath.Join(root, "pods"), pods: map[string]corev1.Pod{}}
	seen := make(chan int, 10)
	c := ControllerFunc(func(ctx context.Context, wl *Workload, env Env) (time.Duration, error) {
		seen <- len(env.Pods())
		if len(wl.Owned) > 0 {
			return 0, nil
		}
		data, err := env.PutOwned(ctx, "replicaset", "web-1", map[string]any{"metadata": map[string]any{"name": "web-1"}})
		if err != nil {
			return 0, err
		}
		uid, _ := objectUID(data)
		return 0, env.CreatePods(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1-a",
			OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web-1", UID: types.UID(uid)}}}})
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Dir: d, PodsDir: w.podsDir, Controller: c, World: w, Resync: time.Hour})
	}()
	if n := next(t, seen); n != 0 {
		t.Fatalf("first step saw %d pods", n)
	}
	if n := next(t, seen); n != 1 {
		t.Fatalf("second step saw %d pods", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestRunRemovesItself: a controller that removes its workload (a Job
// past its time to live) leaves no directory, and its supervisor stops.
func TestRunRemovesItself(t *testing.T) {
	root := t.TempDir()
	k, _ := NewKey("test", "default", "web")
	d := Store{Dir: filepath.Join(root, "workloads")}.Workload(k)
	d.Create()
	d.WriteObject([]byte(`{"metadata":{"name":"web","uid":"u-1"}}`))
	self, _ := state.Identify(os.Getpid())
	d.Write(&Record{Supervisor: self})
	w := &fakeWorld{podsDir: filepath.Join(root, "pods"), pods: map[string]corev1.Pod{}}
	c := ControllerFunc(func(ctx context.Context, wl *Workload, env Env) (time.Duration, error) {
		env.Event("Normal", "Test", "lost with the workload")
		return 0, env.(Remover).RemoveWorkload(ctx)
	})
	done := make(chan error, 1)
	go func() {
		done <- Run(context.Background(), Config{Dir: d, PodsDir: w.podsDir, Controller: c, World: w, Resync: time.Hour})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the supervisor did not stop once its workload was removed")
	}
	if _, err := os.Stat(d.Path); !os.IsNotExist(err) {
		t.Errorf("the workload's directory is left: %v", err)
	}
}
