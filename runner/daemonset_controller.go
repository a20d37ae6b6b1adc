package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	goruntime "runtime"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	kcontrollers "github.com/podrun/podrun/kube/controllers"
	"github.com/podrun/podrun/runner/supervise"
)

func init() { registerController("daemonset", daemonSetController{}) }

// daemonSetController is the DaemonSet controller's glue on this one
// node: it hands the set, this node and the set's pods to
// controllers.DaemonSet and carries out the result.
type daemonSetController struct {
	node func() (kcontrollers.Node, error)
	rand kcontrollers.Rand
}

func (c daemonSetController) withRunner(*Runner) supervise.Controller {
	c.node = thisNode
	c.rand = rand.New(rand.NewSource(time.Now().UnixNano()))
	return c
}

// thisNode is this machine as the cluster's one node: named after its
// host name, with the labels the kubelet gives every node, and no taints.
func thisNode() (kcontrollers.Node, error) {
	name, err := os.Hostname()
	if err != nil {
		return kcontrollers.Node{}, fmt.Errorf("reading the host name: %w", err)
	}
	return kcontrollers.Node{Name: name, Labels: map[string]string{
		"kubernetes.io/hostname": name,
		"kubernetes.io/os":       goruntime.GOOS,
		"kubernetes.io/arch":     goruntime.GOARCH,
	}}, nil
}

func (c daemonSetController) Sync(ctx context.Context, w *supervise.Workload, env supervise.Env) (time.Duration, error) {
	if c.node == nil {
		return 0, errors.New("the DaemonSet controller runs in a supervisor only")
	}
	var ds appsv1.DaemonSet
	if err := w.Decode(&ds); err != nil {
		return 0, err
	}
	var before *appsv1.DaemonSetStatus
	if len(w.Status) > 0 {
		before = &appsv1.DaemonSetStatus{}
		if err := json.Unmarshal(w.Status, before); err != nil {
			return 0, fmt.Errorf("decoding the status of %s: %w", w.Key, err)
		}
		ds.Status = *before
	}
	node, err := c.node()
	if err != nil {
		return 0, err
	}
	adopted, adoptErr := adoptDaemonOrphans(ctx, &ds, node, env)
	if adopted {
		// The next step, woken by the pods' change, counts them.
		return time.Second, nil
	}
	now := env.Now()
	res := kcontrollers.DaemonSet(&ds, node, observedPods(env.Pods()), now, c.rand)
	if res.Unschedulable != "" && (before == nil || before.DesiredNumberScheduled != 0) {
		env.Event(corev1.EventTypeWarning, "FailedPlacement",
			fmt.Sprintf("failed to place pod on %q: %s", node.Name, res.Unschedulable))
	}
	errs := []error{adoptErr}
	if len(res.Create) > 0 {
		err := env.CreatePods(ctx, res.Create...)
		if err != nil {
			env.Event(corev1.EventTypeWarning, "FailedCreate", fmt.Sprintf("Error creating: %v", err))
		} else {
			env.Event(corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: "+res.Create[0].Name)
		}
		errs = append(errs, err)
	}
	if len(res.Delete) > 0 {
		err := env.DeletePods(ctx, res.Delete...)
		if err == nil {
			for _, n := range res.Delete {
				env.Event(corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: "+n)
			}
		}
		errs = append(errs, err)
	}
	errs = append(errs, env.SetStatus(res.DaemonSet.Status))
	return requeueAfter(res.RequeueAt, now), errors.Join(errs...)
}

// adoptDaemonOrphans adopts the pods left by a delete --cascade=orphan
// of the set that its selector matches, as the controller claims them,
// instead of making a second pod beside them. It reports whether it
// adopted any; when adopting fails, the set goes on as without them.
func adoptDaemonOrphans(ctx context.Context, ds *appsv1.DaemonSet, node kcontrollers.Node, env supervise.Env) (bool, error) {
	oe, ok := env.(supervise.OrphanEnv)
	if !ok {
		return false, nil
	}
	pods := kcontrollers.DaemonSetAdoptions(ds, node, oe.Orphans())
	if len(pods) == 0 {
		return false, nil
	}
	if err := env.CreatePods(ctx, pods...); err != nil {
		env.Event(corev1.EventTypeWarning, "FailedAdopt", fmt.Sprintf("Error adopting pod %s: %v", pods[0].Name, err))
		return false, fmt.Errorf("adopting pod %s: %w", pods[0].Name, err)
	}
	return true, nil
}
