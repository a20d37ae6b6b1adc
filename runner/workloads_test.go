package runner

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podrun/podrun/runner/network"
	"github.com/podrun/podrun/runner/supervise"
)

func deployment(replicas int32, labels map[string]string) *appsv1.Deployment {
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Labels: labels},
		Spec:       appsv1.DeploymentSpec{Replicas: &replicas},
		Status:     appsv1.DeploymentStatus{Replicas: 9},
	}
}

func TestSuperviseArgs(t *testing.T) {
	r, err := New(Config{Root: "/r", RunRoot: "/run/p", Runtime: "runc", PullPolicy: corev1.PullNever,
		Network: network.Config{Name: "net", ConfDir: "/etc/cni", PluginDirs: []string{"/a", "/b"}}})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := supervise.NewKey("deployment", "ns", "web")
	got := strings.Join(r.SuperviseArgs(k), " ")
	for _, want := range []string{"--root /r --run-root /run/p --runtime runc", "--network net", "--cni-config-dir /etc/cni", "--cni-plugin-dir /a:/b",
		"supervise deployment ns web", "--pull-policy Never"} {
		if !strings.Contains(got, want) {
			t.Errorf("args %q lack %q", got, want)
		}
	}
}

// TestDeleteWorkloadMissing: deleting what is not there is
// ErrWorkloadNotFound, and a bad cascade is refused before anything.
func TestDeleteWorkloadMissing(t *testing.T) {
	r, err := New(Config{Root: t.TempDir(), RunRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := r.DeleteWorkload(ctx, "deployment", "default", "web", DeleteWorkloadOptions{}); !errors.Is(err, ErrWorkloadNotFound) {
		t.Errorf("delete of nothing: %v", err)
	}
	if err := r.DeleteWorkload(ctx, "deployment", "default", "web", DeleteWorkloadOptions{Cascade: "sideways"}); err == nil || errors.Is(err, ErrWorkloadNotFound) {
		t.Errorf("bad cascade: %v", err)
	}
	if err := r.EnsureSupervisors(ctx); err != nil {
		t.Errorf("EnsureSupervisors with no workloads: %v", err)
	}
}

// TestApplyWorkloadRollsBack: when no supervisor can start, a first apply
// leaves nothing, and a re-apply puts the object back.
func TestApplyWorkloadRollsBack(t *testing.T) {
	r, err := New(Config{Root: t.TempDir(), RunRoot: t.TempDir(), Self: filepath.Join(t.TempDir(), "no-podrun")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := r.ApplyWorkload(ctx, "deployment", deployment(1, nil)); err == nil {
		t.Fatal("apply without a podrun binary succeeded")
	}
	if keys, _ := r.Workloads().List(); len(keys) != 0 {
		t.Errorf("a failed first apply left %v", keys)
	}
	k, _ := supervise.NewKey("deployment", "default", "web")
	d := r.Workloads().Workload(k)
	d.Create()
	old, _, _ := supervise.Stamp(nil, deployment(1, nil), time.Now())
	d.WriteObject(old)
	if _, err := r.ApplyWorkload(ctx, "deployment", deployment(5, nil)); err == nil {
		t.Fatal("re-apply without a podrun binary succeeded")
	}
	if now, _ := d.ReadObject(); !slices.Equal(now, old) {
		t.Errorf("a failed re-apply left %s", now)
	}
	if _, err := os.Stat(d.Path); err != nil {
		t.Errorf("a failed re-apply removed the workload: %v", err)
	}
}

// TestGetWorkload: the object as applied with the status recorded.
func TestGetWorkload(t *testing.T) {
	r, err := New(Config{Root: t.TempDir(), RunRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.GetWorkload("deployment", "default", "web"); !errors.Is(err, ErrWorkloadNotFound) {
		t.Errorf("get of nothing: %v", err)
	}
	k, _ := supervise.NewKey("deployment", "default", "web")
	d := r.Workloads().Workload(k)
	d.Create()
	obj, _, _ := supervise.Stamp(nil, deployment(2, nil), time.Now())
	d.WriteObject(obj)
	d.Write(&supervise.Record{Status: []byte(`{"replicas":2,"readyReplicas":1}`)})
	w, err := r.GetWorkload("deployment", "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	var got appsv1.Deployment
	if err := json.Unmarshal(w.Object, &got); err != nil {
		t.Fatal(err)
	}
	if got.Status.ReadyReplicas != 1 || *got.Spec.Replicas != 2 || w.Supervised || w.Deleting {
		t.Errorf("got %+v, status %+v", w, got.Status)
	}
	list, err := r.ListWorkloads("deployment", "")
	if err != nil || len(list) != 1 || list[0].Name != "web" {
		t.Errorf("list: %+v %v", list, err)
	}
	if list, _ := r.ListWorkloads("job", ""); len(list) != 0 {
		t.Errorf("jobs: %+v", list)
	}
}

// TestDeleteWorkloadFinishes: a workload whose delete was cut short is
// refused by apply, left alone by EnsureSupervisors, and finished by the
// next delete.
func TestDeleteWorkloadFinishes(t *testing.T) {
	r, err := New(Config{Root: t.TempDir(), RunRoot: t.TempDir(), Self: filepath.Join(t.TempDir(), "no-podrun")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	k, _ := supervise.NewKey("deployment", "default", "web")
	d := r.Workloads().Workload(k)
	d.Create()
	obj, _, _ := supervise.Stamp(nil, deployment(2, nil), time.Now())
	d.WriteObject(obj)
	d.Write(&supervise.Record{Deleting: time.Now()})
	if _, err := r.ApplyWorkload(ctx, "deployment", deployment(3, nil)); err == nil || !strings.Contains(err.Error(), "being deleted") {
		t.Errorf("apply of a workload being deleted: %v", err)
	}
	if now, _ := d.ReadObject(); !slices.Equal(now, obj) {
		t.Errorf("a refused apply left %s", now)
	}
	if err := r.EnsureSupervisors(ctx); err != nil {
		t.Errorf("EnsureSupervisors tried to start a workload being deleted: %v", err)
	}
	if err := r.DeleteWorkload(ctx, "deployment", "default", "web", DeleteWorkloadOptions{}); err != nil {
		t.Fatal(err)
	}
	if keys, _ := r.Workloads().List(); len(keys) != 0 {
		t.Errorf("left %v", keys)
	}
}
