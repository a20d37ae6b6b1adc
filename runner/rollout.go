package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	kc "github.com/podrun/podrun/kube/controllers"
	"github.com/podrun/podrun/runner/supervise"
)

// kubectl's scale and rollout verbs: each reads the object as applied,
// changes its spec as kubectl would, and applies it again through
// ApplyWorkload, so that the supervisor sees a new generation. A later
// apply of the file puts the file's spec back, as with kubectl.

// ScaleWorkload sets spec.replicas of workload kind namespace/name. An
// object a workload owns (a Deployment's ReplicaSet) is its owner's to
// scale: ErrWorkloadNotFound, as for one that does not exist.
func (r *Runner) ScaleWorkload(ctx context.Context, kind, namespace, name string, replicas int32) (Outcome, error) {
	if replicas < 0 {
		return Outcome{}, fmt.Errorf("scaling %s %s: replicas %d must be greater than or equal to 0", kind, name, replicas)
	}
	obj, err := r.appliedObject(kind, namespace, name)
	if errors.Is(err, ErrWorkloadNotFound) {
		if owned, oerr := r.findOwned(kind, namespace, name); oerr == nil {
			return Outcome{}, fmt.Errorf("%s %s is owned by %s: scale its owner", kind, name, ownerOf(owned.Object))
		}
	}
	if err != nil {
		return Outcome{}, err
	}
	if _, ok, _ := unstructured.NestedFieldNoCopy(obj.Object, "spec"); !ok {
		return Outcome{}, fmt.Errorf("scaling %s %s: it has no spec", kind, name)
	}
	if err := unstructured.SetNestedField(obj.Object, int64(replicas), "spec", "replicas"); err != nil {
		return Outcome{}, err
	}
	return r.ApplyWorkload(ctx, kind, obj)
}

// ownerOf names the controller of an object, "deployment web".
func ownerOf(data []byte) string {
	var meta metav1.PartialObjectMetadata
	if json.Unmarshal(data, &meta) != nil {
		return "another object"
	}
	if ref := metav1.GetControllerOfNoCopy(&meta); ref != nil {
		return strings.ToLower(ref.Kind) + " " + ref.Name
	}
	return "another object"
}

// appliedObject is workload kind namespace/name as last applied.
func (r *Runner) appliedObject(kind, namespace, name string) (*unstructured.Unstructured, error) {
	k, err := supervise.NewKey(kind, namespace, name)
	if err != nil {
		return nil, err
	}
	data, err := r.Workloads().Workload(k).ReadObject()
	if err != nil {
		return nil, err
	}
	var obj unstructured.Unstructured
	if err := obj.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("decoding workload %s: %w", k, err)
	}
	return &obj, nil
}

// deploymentAndHistory is Deployment namespace/name as applied, with its
// status, and the ReplicaSets it owns.
func (r *Runner) deploymentAndHistory(namespace, name string) (*appsv1.Deployment, []*appsv1.ReplicaSet, error) {
	w, err := r.GetWorkload("deployment", namespace, name)
	if err != nil {
		return nil, nil, err
	}
	var d appsv1.Deployment
	if err := json.Unmarshal(w.Object, &d); err != nil {
		return nil, nil, fmt.Errorf("decoding deployment %s: %w", name, err)
	}
	rses, err := OwnedReplicaSets(w.Owned)
	return &d, rses, err
}

// RolloutRestart is kubectl's rollout restart: the Deployment's template
// gets a restartedAt annotation, which rolls every pod out.
func (r *Runner) RolloutRestart(ctx context.Context, namespace, name string, now time.Time) (Outcome, error) {
	d, _, err := r.deploymentAndHistory(namespace, name)
	if err != nil {
		return Outcome{}, err
	}
	d, err = kc.Restart(d, now)
	if err != nil {
		return Outcome{}, err
	}
	return r.ApplyWorkload(ctx, "deployment", d)
}

// RolloutUndo is kubectl's rollout undo: the Deployment takes the
// template of revision toRevision (0: the one before the current).
func (r *Runner) RolloutUndo(ctx context.Context, namespace, name string, toRevision int64) (Outcome, error) {
	d, rses, err := r.deploymentAndHistory(namespace, name)
	if err != nil {
		return Outcome{}, err
	}
	d, err = kc.Rollback(d, rses, toRevision)
	if err != nil {
		return Outcome{}, err
	}
	return r.ApplyWorkload(ctx, "deployment", d)
}

// RolloutHistory is the Deployment's revisions, oldest first.
func (r *Runner) RolloutHistory(namespace, name string) ([]kc.Revision, error) {
	d, rses, err := r.deploymentAndHistory(namespace, name)
	if err != nil {
		return nil, err
	}
	return kc.History(d, rses), nil
}
