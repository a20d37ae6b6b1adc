package runner

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podrun/podrun/runner/supervise"
)

// TestOwnedWorkloads: a Deployment's ReplicaSet is listed and got as a
// replicaset beside standalone ones, with its status, and scaling it is
// refused with its owner named.
func TestOwnedWorkloads(t *testing.T) {
	r, err := New(Config{Root: t.TempDir(), RunRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	put := func(kind, name string, obj any) *supervise.Dir {
		k, _ := supervise.NewKey(kind, "default", name)
		d := r.Workloads().Workload(k)
		if err := d.Create(); err != nil {
			t.Fatal(err)
		}
		data, _, err := supervise.Stamp(nil, obj, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		if err := d.WriteObject(data); err != nil {
			t.Fatal(err)
		}
		return d
	}
	web := put("deployment", "web", deployment(1, nil))
	yes := true
	owned := &appsv1.ReplicaSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: metav1.ObjectMeta{Name: "web-abc", Namespace: "default", OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "web", Controller: &yes}}},
		Status:     appsv1.ReplicaSetStatus{Replicas: 1},
	}
	if _, err := web.PutOwned(OwnedReplicaSet, "web-abc", owned); err != nil {
		t.Fatal(err)
	}
	put("replicaset", "solo", &appsv1.ReplicaSet{TypeMeta: owned.TypeMeta, ObjectMeta: metav1.ObjectMeta{Name: "solo", Namespace: "default"}})

	list, err := r.ListWorkloads("replicaset", "default")
	if err != nil || len(list) != 2 || list[0].Name != "solo" || list[1].Name != "web-abc" {
		t.Fatalf("ListWorkloads: %+v %v", list, err)
	}
	if other, _ := r.ListWorkloads("replicaset", "other"); len(other) != 0 {
		t.Errorf("another namespace lists %+v", other)
	}
	w, err := r.GetWorkload("replicaset", "default", "web-abc")
	if err != nil {
		t.Fatal(err)
	}
	var rs appsv1.ReplicaSet
	if err := json.Unmarshal(w.Object, &rs); err != nil || rs.Status.Replicas != 1 {
		t.Errorf("got %s, %v", w.Object, err)
	}
	if _, err := r.GetWorkload("replicaset", "default", "web-zzz"); !errors.Is(err, ErrWorkloadNotFound) {
		t.Errorf("a missing ReplicaSet: %v", err)
	}
	if _, err := r.ScaleWorkload(t.Context(), "replicaset", "default", "web-abc", 3); err == nil || err.Error() != "replicaset web-abc is owned by deployment web: scale its owner" {
		t.Errorf("scaling an owned ReplicaSet: %v", err)
	}
}
