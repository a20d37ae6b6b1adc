package runner

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/objects"
)

// setYAML holds one object of every kind a set has.
const setYAML = `apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers: [{name: c, image: busybox}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {MODE: fast}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {PASSWORD: hunter2}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
`

// eofCounter counts how often a reader is read to its end.
type eofCounter struct {
	r    io.Reader
	eofs int
}

func (c *eofCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		c.eofs++
	}
	return n, err
}

// TestManifestsLoadStdinOnce: standard input is read once, into one set
// holding every kind, and cannot be named twice.
func TestManifestsLoadStdinOnce(t *testing.T) {
	stdin := &eofCounter{r: strings.NewReader(setYAML)}
	set, err := Manifests{Paths: []string{"-"}, Stdin: stdin, Namespace: "team"}.Load()
	if err != nil {
		t.Fatal(err)
	}
	if stdin.eofs != 1 {
		t.Errorf("stdin read to its end %d times, want 1", stdin.eofs)
	}
	if len(set.Pods) != 1 || len(set.ConfigMaps) != 1 || len(set.Secrets) != 1 || len(set.Claims) != 1 {
		t.Errorf("set = %d pods, %d configmaps, %d secrets, %d claims; want one of each",
			len(set.Pods), len(set.ConfigMaps), len(set.Secrets), len(set.Claims))
	}
	if ns := set.Pods[0].Pod.Namespace; ns != "team" {
		t.Errorf("pod namespace = %q, want the -n namespace", ns)
	}
	_, err = Manifests{Paths: []string{"-", "-"}, Stdin: strings.NewReader(setYAML)}.Load()
	if err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("stdin named twice: %v", err)
	}
}

// TestKindsOrder: Namespaces and definitions apply first, what pods use
// and what admission reads before the pods; DeleteSet walks the same
// table backwards.
func TestKindsOrder(t *testing.T) {
	var got []string
	for _, k := range kinds {
		got = append(got, k.resource())
	}
	if want := []string{"namespace+customresourcedefinition", "persistentvolumeclaim", "configmap", "secret", "kept", "service", "pod", "workload"}; !slices.Equal(got, want) {
		t.Errorf("kinds = %v, want %v", got, want)
	}
}

// fakeKind records what the set engine asks of it.
type fakeKind struct {
	name string
	log  *[]string
	fail bool
}

func (f fakeKind) resource() string { return f.name }

func (f fakeKind) apply(context.Context, *Runner, *kube.Set) ([]Outcome, error) {
	*f.log = append(*f.log, "apply "+f.name)
	if f.fail {
		return nil, errors.New(f.name + " failed")
	}
	return []Outcome{{f.name, "default", "x", "created"}}, nil
}

func (f fakeKind) remove(context.Context, *Runner, *kube.Set, DeleteSetOptions) ([]Outcome, error) {
	*f.log = append(*f.log, "delete "+f.name)
	if f.fail {
		return nil, errors.New(f.name + " failed")
	}
	return []Outcome{{f.name, "default", "x", "deleted"}}, nil
}

// TestSetEngine: apply goes kind by kind and stops at the first kind that
// fails, so no pod starts without its objects; delete goes backwards and
// deletes what it can past a failure.
func TestSetEngine(t *testing.T) {
	var log []string
	ks := func(failing string) []kind {
		var out []kind
		for _, n := range []string{"claim", "configmap", "pod"} {
			out = append(out, fakeKind{n, &log, n == failing})
		}
		return out
	}
	r := &Runner{}
	done, err := r.applyKinds(context.Background(), &kube.Set{}, ks(""))
	if err != nil || len(done) != 3 || !slices.Equal(log, []string{"apply claim", "apply configmap", "apply pod"}) {
		t.Errorf("apply: %v, %v, %v", log, done, err)
	}
	log = nil
	done, err = r.applyKinds(context.Background(), &kube.Set{}, ks("configmap"))
	if err == nil || len(done) != 1 || !slices.Equal(log, []string{"apply claim", "apply configmap"}) {
		t.Errorf("apply with a failing configmap: %v, %v, %v", log, done, err)
	}
	log = nil
	done, err = r.deleteKinds(context.Background(), &kube.Set{}, DeleteSetOptions{}, ks("configmap"))
	if err == nil || len(done) != 2 || !slices.Equal(log, []string{"delete pod", "delete configmap", "delete claim"}) {
		t.Errorf("delete with a failing configmap: %v, %v, %v", log, done, err)
	}
}

// TestApplyAndDeleteSet applies a set whose pod cannot start (no runtime)
// and deletes it: its objects are stored before the pod is tried, and
// deleted, after its pods, in the reverse order; the claim's data stays.
func TestApplyAndDeleteSet(t *testing.T) {
	r, err := New(Config{Root: t.TempDir(), RunRoot: t.TempDir(), Runtime: filepath.Join(t.TempDir(), "no-runtime")})
	if err != nil {
		t.Fatal(err)
	}
	set, err := Manifests{Paths: []string{"-"}, Stdin: strings.NewReader(setYAML)}.Load()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	done, err := r.ApplySet(ctx, set)
	if err == nil || !strings.Contains(err.Error(), "no-runtime") {
		t.Errorf("apply without a runtime: %v", err)
	}
	want := []Outcome{
		{"persistentvolumeclaim", "default", "data", "created"},
		{"configmap", "default", "settings", "created"},
		{"secret", "default", "creds", "created"},
	}
	if !slices.Equal(done, want) {
		t.Errorf("apply = %v, want %v", done, want)
	}
	if _, err := r.Objects().Secrets.Get("default", "creds"); err != nil {
		t.Errorf("the secret is not stored: %v", err)
	}

	done, err = r.DeleteSet(ctx, set, DeleteSetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want = []Outcome{
		{"secret", "default", "creds", "deleted"},
		{"configmap", "default", "settings", "deleted"},
		{"persistentvolumeclaim", "default", "data", "deleted"},
	}
	if !slices.Equal(done, want) {
		t.Errorf("delete = %v, want %v (the pod, never started, is not reported)", done, want)
	}
	if _, err := r.Objects().ConfigMaps.Get("default", "settings"); !errors.Is(err, objects.ErrNotFound) {
		t.Errorf("the configmap is still stored: %v", err)
	}
	vol, err := r.Claims().Claimed("default", "data")
	if err != nil || vol.Bound() {
		t.Errorf("the claim's volume after delete: %+v, %v; want it kept, released", vol, err)
	}
	if done, err := r.DeleteSet(ctx, set, DeleteSetOptions{}); err != nil || len(done) != 0 {
		t.Errorf("deleting again: %v, %v; want nothing, as kubectl delete -f of what is gone", done, err)
	}
}

// TestEveryWorkloadKindHasItsController: every workload kind kube
// accepts is run by a registered controller, so none is accepted and
// then left without one.
func TestEveryWorkloadKindHasItsController(t *testing.T) {
	for _, kind := range kube.WorkloadKinds() {
		if _, ok := Controller(strings.ToLower(kind)); !ok {
			t.Errorf("no controller registered for workload kind %s", kind)
		}
	}
}
