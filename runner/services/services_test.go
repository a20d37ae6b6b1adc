package services

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/objects"
)

// recorder is a DataPlane that keeps what it was told.
type recorder struct {
	calls    int
	services []*corev1.Service
	slices   []*discoveryv1.EndpointSlice
}

func (r *recorder) Sync(ctx context.Context, services []*corev1.Service, slices []*discoveryv1.EndpointSlice) error {
	r.calls++
	r.services, r.slices = services, slices
	return nil
}

// fixture is a run root with a store, pods the lister reports and a
// recording data plane.
type fixture struct {
	cfg  Config
	pods []corev1.Pod
	dp   *recorder
}

func newFixture(t *testing.T) *fixture {
	root := t.TempDir()
	f := &fixture{dp: &recorder{}}
	f.cfg = Config{
		RunRoot: root,
		Objects: objects.Open(filepath.Join(root, "objects")),
		Pods: func(ctx context.Context, namespace string) ([]corev1.Pod, error) {
			var out []corev1.Pod
			for _, p := range f.pods {
				if namespace == "" || p.Namespace == namespace {
					out = append(out, p)
				}
			}
			return out, nil
		},
		DataPlane: f.dp,
		Now:       func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
	}
	return f
}

func (f *fixture) sync(t *testing.T, ns string) {
	t.Helper()
	if err := Sync(context.Background(), f.cfg, ns); err != nil {
		t.Fatal(err)
	}
}

func service(ns, name string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: "uid-" + "name"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": name},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("http")}},
		},
	}
}

func pod(ns, name, app, ip string, ready bool) corev1.Pod {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": app}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Ports: []corev1.ContainerPort{
			{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}},
	}
}

func (f *fixture) putService(t *testing.T, svc *corev1.Service) {
	t.Helper()
	if _, err := f.cfg.Objects.Services.Put(svc); err != nil {
		t.Fatal(err)
	}
}

// TestSyncIdle: with no Service, Sync takes no lock and writes nothing.
func TestSyncIdle(t *testing.T) {
	f := newFixture(t)
	f.pods = []corev1.Pod{pod("default", "a", "web", "10.1.0.2", true)}
	f.sync(t, "default")
	f.sync(t, "")
	entries, err := os.ReadDir(f.cfg.RunRoot)
	if err != nil || len(entries) != 0 {
		t.Errorf("the run root after an idle sync: %v %v", entries, err)
	}
	if f.dp.calls != 0 {
		t.Errorf("the data plane was told %d times", f.dp.calls)
	}
}

// readySlice returns the ready addresses of the one slice of svc.
func readyAddresses(t *testing.T, f *fixture, ns, svc string) []string {
	t.Helper()
	all, err := f.cfg.Objects.EndpointSlices.Items(ns)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	n := 0
	for _, sl := range all {
		if sl.Labels[kube.LabelServiceName] != svc {
			continue
		}
		n++
		for _, e := range sl.Endpoints {
			if *e.Conditions.Ready {
				out = append(out, e.Addresses...)
			}
		}
	}
	if n != 1 {
		t.Fatalf("service %s/%s has %d slices", ns, svc, n)
	}
	return out
}

// TestSyncWritesOnlyChanges: a sync that changes nothing rewrites no
// file and does not disturb the data plane; one that does, does both.
func TestSyncWritesOnlyChanges(t *testing.T) {
	f := newFixture(t)
	f.putService(t, service("default", "web"))
	f.pods = []corev1.Pod{pod("default", "a", "web", "10.1.0.2", true), pod("default", "b", "web", "10.1.0.3", true)}
	f.sync(t, "default")
	if got := readyAddresses(t, f, "default", "web"); len(got) != 2 {
		t.Fatalf("ready addresses: %v", got)
	}
	if f.dp.calls != 1 || len(f.dp.slices) != 1 || len(f.dp.services) != 1 {
		t.Fatalf("data plane: %+v", f.dp)
	}
	if _, err := os.Stat(LockPath(f.cfg.RunRoot)); err != nil {
		t.Errorf("no lock file: %v", err)
	}
	// Age every file, so that a rewrite shows.
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	files := storedFiles(t, f.cfg.RunRoot)
	for _, p := range files {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	f.sync(t, "default")
	f.sync(t, "")
	for _, p := range files {
		if info, err := os.Stat(p); err != nil || !info.ModTime().Equal(old) {
			t.Errorf("%s was rewritten by a sync that changed nothing (%v)", p, err)
		}
	}
	if f.dp.calls != 1 {
		t.Errorf("the data plane was told %d times", f.dp.calls)
	}
	f.pods[1] = pod("default", "b", "web", "10.1.0.3", false)
	f.sync(t, "default")
	if got := readyAddresses(t, f, "default", "web"); len(got) != 1 || got[0] != "10.1.0.2" {
		t.Errorf("ready addresses after b turned unready: %v", got)
	}
	ep, err := f.cfg.Objects.Endpoints.Get("default", "web")
	if err != nil || len(ep.Subsets) != 1 || len(ep.Subsets[0].Addresses) != 1 || len(ep.Subsets[0].NotReadyAddresses) != 1 {
		t.Errorf("endpoints after b turned unready: %+v, %v", ep, err)
	}
	if f.dp.calls != 2 {
		t.Errorf("the data plane was told %d times, want 2", f.dp.calls)
	}
	// A Service changed: the data plane hears it even if no endpoint did.
	if err := ServicesChanged(context.Background(), f.cfg, "default"); err != nil || f.dp.calls != 3 {
		t.Errorf("ServicesChanged: %v, data plane told %d times", err, f.dp.calls)
	}
}

func storedFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(filepath.Join(root, "objects"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Base(filepath.Dir(filepath.Dir(p))) != "services" {
			files = append(files, p)
		}
		return err
	})
	if err != nil || len(files) != 2 {
		t.Fatalf("stored endpoints: %v, %v", files, err)
	}
	return files
}

// TestSyncDeletesGone: the controllers' objects of a Service deleted go
// at the next sync; the user's Endpoints of a Service without a selector
// stay, mirrored into a slice while the Service exists.
func TestSyncDeletesGone(t *testing.T) {
	f := newFixture(t)
	f.putService(t, service("default", "web"))
	manual := service("default", "manual")
	manual.Spec.Selector = nil
	f.putService(t, manual)
	mine := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "manual", Namespace: "default"},
		Subsets: []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: "10.9.9.9"}}}}}
	if _, err := f.cfg.Objects.Endpoints.Put(mine); err != nil {
		t.Fatal(err)
	}
	f.pods = []corev1.Pod{pod("default", "a", "web", "10.1.0.2", true)}
	f.sync(t, "default")
	if _, err := f.cfg.Objects.Endpoints.Get("default", "web"); err != nil {
		t.Fatal(err)
	}
	if err := f.cfg.Objects.Services.Delete("default", "web"); err != nil {
		t.Fatal(err)
	}
	if err := ServicesChanged(context.Background(), f.cfg, "default"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cfg.Objects.Endpoints.Get("default", "web"); !errors.Is(err, objects.ErrNotFound) {
		t.Errorf("the endpoints of a deleted service: %v", err)
	}
	// What is left is the slice mirroring the user's Endpoints.
	if sl, _ := f.cfg.Objects.EndpointSlices.Items("default"); len(sl) != 1 || sl[0].Labels[kube.LabelServiceName] != "manual" ||
		sl[0].Labels[kube.LabelManagedBy] != kube.ManagedByMirroring || sl[0].Endpoints[0].Addresses[0] != "10.9.9.9" {
		t.Errorf("slices after web's deletion: %+v", sl)
	}
	if got, err := f.cfg.Objects.Endpoints.Get("default", "manual"); err != nil || got.Subsets[0].Addresses[0].IP != "10.9.9.9" {
		t.Errorf("the user's endpoints: %+v, %v", got, err)
	}
	if len(f.dp.slices) != 1 || len(f.dp.services) != 1 {
		t.Errorf("data plane after the delete: %d services, %d slices", len(f.dp.services), len(f.dp.slices))
	}
	// The last Service gone, the next sync is idle again.
	if err := f.cfg.Objects.Services.Delete("default", "manual"); err != nil {
		t.Fatal(err)
	}
	if err := ServicesChanged(context.Background(), f.cfg, "default"); err != nil {
		t.Fatal(err)
	}
	calls := f.dp.calls
	f.sync(t, "")
	if sl, _ := f.cfg.Objects.EndpointSlices.Items("default"); len(sl) != 0 {
		t.Errorf("slices of no service: %d", len(sl))
	}
	if f.dp.calls != calls || len(f.dp.services) != 0 || len(f.dp.slices) != 0 {
		t.Errorf("after the last service went: %d calls then %d, %d services", calls, f.dp.calls, len(f.dp.services))
	}
}

// TestSyncDataPlaneSeesAllNamespaces: a sync of one namespace hands the
// data plane every namespace's Services and slices, and leaves the
// other namespaces' objects alone.
func TestSyncDataPlaneSeesAllNamespaces(t *testing.T) {
	f := newFixture(t)
	f.putService(t, service("a", "web"))
	f.putService(t, service("b", "web"))
	f.pods = []corev1.Pod{pod("a", "p", "web", "10.1.0.2", true), pod("b", "q", "web", "10.1.0.3", true)}
	f.sync(t, "")
	f.pods[1] = pod("b", "q", "web", "10.1.0.3", false)
	f.sync(t, "a") // b's pod changed, but only a is synced
	if got := readyAddresses(t, f, "b", "web"); len(got) != 1 {
		t.Errorf("namespace b was synced by a sync of a: %v", got)
	}
	f.pods[0] = pod("a", "p", "web", "10.1.0.2", false)
	f.sync(t, "a")
	if len(f.dp.services) != 2 || len(f.dp.slices) != 2 {
		t.Fatalf("the data plane saw %d services and %d slices, want 2 and 2", len(f.dp.services), len(f.dp.slices))
	}
	if f.dp.slices[0].Namespace != "a" || f.dp.slices[1].Namespace != "b" {
		t.Errorf("slices: %s, %s", f.dp.slices[0].Namespace, f.dp.slices[1].Namespace)
	}
}

// TestSyncEvents: a pod without the named targetPort is recorded once,
// and forgotten when it is resolved.
func TestSyncEvents(t *testing.T) {
	f := newFixture(t)
	f.putService(t, service("default", "web"))
	p := pod("default", "a", "web", "10.1.0.2", true)
	p.Spec.Containers[0].Ports[0].Name = "web"
	f.pods = []corev1.Pod{p}
	f.sync(t, "default")
	f.cfg.Now = func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }
	f.sync(t, "default")
	events, err := Events(f.cfg.RunRoot, "default", "web")
	if err != nil || len(events) != 1 {
		t.Fatalf("events: %+v, %v", events, err)
	}
	e := events[0]
	if e.Reason != "FailedToFindPort" || e.Type != corev1.EventTypeWarning || e.InvolvedObject.Kind != "Service" || e.FirstTimestamp.Year() != 2026 {
		t.Errorf("event: %+v", e)
	}
	f.pods = []corev1.Pod{pod("default", "a", "web", "10.1.0.2", true)}
	f.sync(t, "default")
	if events, err := Events(f.cfg.RunRoot, "default", "web"); err != nil || len(events) != 0 {
		t.Errorf("events once resolved: %+v, %v", events, err)
	}
}

// TestSyncConcurrent: syncs from many callers at once (monitors of the
// pods of one Service) serialise on the lock and agree.
func TestSyncConcurrent(t *testing.T) {
	f := newFixture(t)
	f.cfg.DataPlane = nil
	f.putService(t, service("default", "web"))
	for i := range 20 {
		f.pods = append(f.pods, pod("default", fmt.Sprintf("p%d", i), "web", fmt.Sprintf("10.1.0.%d", i+2), i%2 == 0))
	}
	errs := make(chan error, 8)
	for range cap(errs) {
		go func() { errs <- Sync(context.Background(), f.cfg, "default") }()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := readyAddresses(t, f, "default", "web"); len(got) != 10 {
		t.Errorf("ready addresses: %v", got)
	}
}
