package runner

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podrun/podrun/kube"
	kc "github.com/podrun/podrun/kube/controllers"
	"github.com/podrun/podrun/runner/supervise"
)

// A standalone ReplicaSet: its supervisor keeps spec.replicas pods of its
// template, named <replicaset>-<5 chars> and owned by it. A Deployment's
// ReplicaSets are not workloads of their own: the Deployment's supervisor
// runs them (deployment_controller.go).

func init() { registerController("replicaset", replicaSetController{}) }

// replicaSetController is the ReplicaSet controller's glue: observe the
// pods, decide with kc.ReplicaSet, act.
type replicaSetController struct{}

func (replicaSetController) Sync(ctx context.Context, w *supervise.Workload, env supervise.Env) (time.Duration, error) {
	var rs appsv1.ReplicaSet
	if err := w.Decode(&rs); err != nil {
		return 0, err
	}
	now := env.Now()
	st, next, err := syncReplicaSet(ctx, env, &rs, observedPods(env.Pods()), now, newRand(), true)
	return requeueAfter(next, now), errors.Join(err, env.SetStatus(st))
}

// syncReplicaSet is one step of rs, owning pods: the pods missing are
// created, the surplus deleted, each with its event when events is set
// (a Deployment's record keeps only its own, ScalingReplicaSet, as
// kubectl describe shows); it returns the status counted and when to
// look again.
func syncReplicaSet(ctx context.Context, env supervise.Env, rs *appsv1.ReplicaSet, pods []kc.Pod, now time.Time, r kc.Rand, events bool) (appsv1.ReplicaSetStatus, time.Time, error) {
	adopted, adoptErr := adoptReplicaSetOrphans(ctx, env, rs)
	if adopted {
		// The next step, woken by the pods' change, counts them.
		st, _ := kc.ReplicaSetStatus(rs, pods, now)
		return st, now.Add(time.Second), nil
	}
	if adoptErr != nil && events {
		env.Event(corev1.EventTypeWarning, "FailedAdopt", adoptErr.Error())
	}
	res := kc.ReplicaSet(rs, pods, now, r)
	event := func(typ, reason, msg string) {
		if events {
			env.Event(typ, reason, msg)
		}
	}
	if len(res.Delete) > 0 {
		for _, n := range res.Delete {
			event(corev1.EventTypeNormal, "SuccessfulDelete", fmt.Sprintf("Deleted pod: %s", n))
		}
		if err := env.DeletePods(ctx, res.Delete...); err != nil {
			return res.Status, res.RequeueAt, fmt.Errorf("replicaset %s: deleting pods: %w", rs.Name, err)
		}
	}
	if len(res.Create) > 0 {
		for _, p := range res.Create {
			event(corev1.EventTypeNormal, "SuccessfulCreate", fmt.Sprintf("Created pod: %s", p.Name))
		}
		if err := env.CreatePods(ctx, res.Create...); err != nil {
			event(corev1.EventTypeWarning, "FailedCreate", fmt.Sprintf("Error creating: %v", err))
			return res.Status, res.RequeueAt, fmt.Errorf("replicaset %s: creating pods: %w", rs.Name, err)
		}
	}
	return res.Status, res.RequeueAt, nil
}

// adoptReplicaSetOrphans adopts the pods a delete --cascade=orphan of
// a Deployment left that rs, the same ReplicaSet made again, would make
// (kc.ReplicaSetAdoptions), instead of making new ones beside them. It
// reports whether it adopted any; when adopting fails, the set goes on as
// without them.
func adoptReplicaSetOrphans(ctx context.Context, env supervise.Env, rs *appsv1.ReplicaSet) (bool, error) {
	oe, ok := env.(supervise.OrphanEnv)
	if !ok {
		return false, nil
	}
	pods := kc.ReplicaSetAdoptions(rs, oe.Orphans())
	if len(pods) == 0 {
		return false, nil
	}
	if err := env.CreatePods(ctx, pods...); err != nil {
		return false, fmt.Errorf("replicaset %s: adopting pod %s: %w", rs.Name, pods[0].Name, err)
	}
	return true, nil
}

// podsOwnedBy are the pods whose controller reference names uid.
func podsOwnedBy(pods []kc.Pod, uid string) []kc.Pod {
	var out []kc.Pod
	for _, p := range pods {
		if ref := metav1.GetControllerOfNoCopy(p.Pod); ref != nil && uid != "" && string(ref.UID) == uid {
			out = append(out, p)
		}
	}
	return out
}

// newRand is a source of pod name suffixes, seeded from the kernel.
func newRand() *rand.Rand {
	var seed [8]byte
	_, _ = crand.Read(seed[:])
	return rand.New(rand.NewSource(int64(binary.LittleEndian.Uint64(seed[:]))))
}

// FirstPod is the pod a standalone ReplicaSet's controller creates first.
func (replicaSetController) FirstPod(w *kube.Workload, now time.Time, r kc.Rand) (*corev1.Pod, error) {
	rs, ok := w.Object.(*appsv1.ReplicaSet)
	if !ok {
		return nil, fmt.Errorf("replicaset %s: got a %T", w.Meta().GetName(), w.Object)
	}
	return firstCreated(kc.ReplicaSet(rs, nil, now, r).Create), nil
}

func firstCreated(pods []*corev1.Pod) *corev1.Pod {
	if len(pods) == 0 {
		return nil
	}
	return pods[0]
}
