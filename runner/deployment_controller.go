package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"

	"github.com/podrun/podrun/kube"
	kc "github.com/podrun/podrun/kube/controllers"
	"github.com/podrun/podrun/runner/supervise"
)

// A Deployment: its supervisor runs the Deployment controller and, in the
// same step, the controller of each ReplicaSet it owns. The ReplicaSets
// are objects the Deployment owns (owned/replicaset_<name>.json, named
// <deployment>-<pod-template-hash>), stored with their status; their
// pods, <replicaset>-<5 chars>, name the ReplicaSet's uid in their
// ownerReferences.

func init() { registerController("deployment", deploymentController{}) }

// OwnedReplicaSet is the kind, in the workload store, of a Deployment's
// ReplicaSets.
const OwnedReplicaSet = "replicaset"

type deploymentController struct{}

func (deploymentController) Sync(ctx context.Context, w *supervise.Workload, env supervise.Env) (time.Duration, error) {
	d, err := decodeDeployment(w)
	if err != nil {
		return 0, err
	}
	rses, err := OwnedReplicaSets(w.Owned)
	if err != nil {
		return 0, err
	}
	now := env.Now()
	pods := observedPods(env.Pods())
	res := kc.Deployment(d, rses, pods, now)
	current, err := storeReplicaSets(ctx, env, rses, res)
	if err != nil {
		return 0, err
	}
	// A ReplicaSet whose pods cannot start (a hostPort held) does not
	// hold the others back, nor the Deployment's status: its progress
	// deadline is counted from it.
	next := res.RequeueAt
	r := newRand()
	var errs []error
	for _, rs := range current {
		st, at, err := syncReplicaSet(ctx, env, rs, podsOwnedBy(pods, string(rs.UID)), now, r, false)
		errs = append(errs, err)
		next = earliestTime(next, at)
		errs = append(errs, storeReplicaSetStatus(ctx, env, rs, st))
	}
	errs = append(errs, env.SetStatus(res.Deployment.Status))
	return requeueAfter(next, now), errors.Join(errs...)
}

// decodeDeployment is the Deployment as applied, with the status its
// controller last recorded: what the controller reads its progress from.
func decodeDeployment(w *supervise.Workload) (*appsv1.Deployment, error) {
	var d appsv1.Deployment
	if err := w.Decode(&d); err != nil {
		return nil, err
	}
	if len(w.Status) > 0 {
		if err := json.Unmarshal(w.Status, &d.Status); err != nil {
			return nil, fmt.Errorf("decoding the status of %s: %w", w.Key, err)
		}
	}
	return &d, nil
}

// OwnedReplicaSets decodes the ReplicaSets among a Deployment's owned
// objects.
func OwnedReplicaSets(owned []supervise.OwnedObject) ([]*appsv1.ReplicaSet, error) {
	var out []*appsv1.ReplicaSet
	for _, o := range owned {
		if o.Kind != OwnedReplicaSet {
			continue
		}
		var rs appsv1.ReplicaSet
		if err := json.Unmarshal(o.Object, &rs); err != nil {
			return nil, fmt.Errorf("decoding replicaset %s: %w", o.Name, err)
		}
		out = append(out, &rs)
	}
	return out, nil
}

// storeReplicaSets carries out the Deployment controller's decision on
// its ReplicaSets: it stores those created and updated (a created one
// gets its uid there, which its pods then name), deletes those past the
// history limit, records kubectl's ScalingReplicaSet events, and returns
// the ReplicaSets as stored now.
func storeReplicaSets(ctx context.Context, env supervise.Env, rses []*appsv1.ReplicaSet, res kc.DeploymentResult) ([]*appsv1.ReplicaSet, error) {
	byName := map[string]*appsv1.ReplicaSet{}
	var order []string
	for _, rs := range rses {
		byName[rs.Name] = rs
		order = append(order, rs.Name)
	}
	for _, rs := range append(append([]*appsv1.ReplicaSet(nil), res.Create...), res.Update...) {
		old := byName[rs.Name]
		stored, err := putReplicaSet(ctx, env, rs)
		if err != nil {
			return nil, err
		}
		if old == nil {
			order = append(order, rs.Name)
		}
		scalingEvent(env, old, stored)
		byName[rs.Name] = stored
	}
	for _, name := range res.Delete {
		if err := env.DeleteOwned(ctx, OwnedReplicaSet, name); err != nil {
			return nil, err
		}
		delete(byName, name)
	}
	var out []*appsv1.ReplicaSet
	for _, n := range order {
		if rs := byName[n]; rs != nil {
			out = append(out, rs)
		}
	}
	return out, nil
}

// putReplicaSet stores rs and returns it as stored: with its uid,
// creation time and generation.
func putReplicaSet(ctx context.Context, env supervise.Env, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	data, err := env.PutOwned(ctx, OwnedReplicaSet, rs.Name, rs)
	if err != nil {
		return nil, fmt.Errorf("storing replicaset %s: %w", rs.Name, err)
	}
	var stored appsv1.ReplicaSet
	if err := json.Unmarshal(data, &stored); err != nil {
		return nil, fmt.Errorf("decoding replicaset %s: %w", rs.Name, err)
	}
	return &stored, nil
}

// storeReplicaSetStatus stores the status counted for rs when it changed.
func storeReplicaSetStatus(ctx context.Context, env supervise.Env, rs *appsv1.ReplicaSet, st appsv1.ReplicaSetStatus) error {
	if apiequality.Semantic.DeepEqual(rs.Status, st) {
		return nil
	}
	rs.Status = st
	_, err := putReplicaSet(ctx, env, rs)
	return err
}

// scalingEvent records the controller's "Scaled up replica set web-abc
// from 0 to 3" when a ReplicaSet's replicas change.
func scalingEvent(env supervise.Env, old, rs *appsv1.ReplicaSet) {
	from := int32(0)
	if old != nil {
		from = replicasOf(old.Spec.Replicas)
	}
	to := replicasOf(rs.Spec.Replicas)
	switch {
	case to > from:
		env.Event(corev1.EventTypeNormal, "ScalingReplicaSet", fmt.Sprintf("Scaled up replica set %s from %d to %d", rs.Name, from, to))
	case to < from:
		env.Event(corev1.EventTypeNormal, "ScalingReplicaSet", fmt.Sprintf("Scaled down replica set %s from %d to %d", rs.Name, from, to))
	}
}

func replicasOf(n *int32) int32 {
	if n == nil {
		return 1
	}
	return *n
}

// FirstPod is the pod a Deployment's controllers create first: that of
// the ReplicaSet its controller creates for its template, for render,
// which gives the ReplicaSet a uid as the API server would.
func (deploymentController) FirstPod(w *kube.Workload, now time.Time, r kc.Rand) (*corev1.Pod, error) {
	d, ok := w.Object.(*appsv1.Deployment)
	if !ok {
		return nil, fmt.Errorf("deployment %s: got a %T", w.Meta().GetName(), w.Object)
	}
	res := kc.Deployment(d, nil, nil, now)
	if len(res.Create) == 0 {
		return nil, nil
	}
	rs := res.Create[0]
	rs.UID = RenderUID("ReplicaSet", rs.Namespace, rs.Name)
	return firstCreated(kc.ReplicaSet(rs, nil, now, r).Create), nil
}
