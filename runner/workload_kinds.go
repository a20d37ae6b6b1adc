package runner

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/supervise"
)

// Workload kinds in a set: each is recorded and handed to a supervisor
// running its kind's controller (workloads.go), which makes its pods.

// workloadControllers are the workload controllers by the kind the store names
// ("deployment"); each kind's file registers its own in an init.
var workloadControllers = map[string]supervise.Controller{}

// registerController makes c the controller of workloads of kind.
func registerController(kind string, c supervise.Controller) { workloadControllers[kind] = c }

// Controller returns the controller of workloads of kind, as the store
// names it ("deployment").
func Controller(kind string) (supervise.Controller, bool) {
	c, ok := workloadControllers[kind]
	return c, ok
}

// storeKind is how the store names a workload's kind: "deployment".
func storeKind(w *kube.Workload) string { return strings.ToLower(w.Kind) }

// printedKind is a workload's resource as kubectl prints it:
// "deployment.apps", "job.batch".
func printedKind(w *kube.Workload) string {
	gvk := w.Object.GetObjectKind().GroupVersionKind()
	return storeKind(w) + "." + gvk.Group
}

// workloadKind records workloads and starts their supervisors, and
// deletes them with what they own.
type workloadKind struct{}

func (workloadKind) resource() string { return "workload" }

func (workloadKind) apply(ctx context.Context, r *Runner, set *kube.Set) ([]Outcome, error) {
	if err := r.refusedUpdates(set); err != nil {
		return nil, err
	}
	var done []Outcome
	for i := range set.Workloads {
		w := &set.Workloads[i]
		out, err := r.ApplyWorkload(ctx, storeKind(w), w.Meta())
		if err != nil {
			return done, fmt.Errorf("%s: %s %s: %w", w.Source, storeKind(w), w.Meta().GetName(), err)
		}
		out.Kind = printedKind(w)
		done = append(done, out)
	}
	return done, nil
}

func (workloadKind) remove(ctx context.Context, r *Runner, set *kube.Set, opts DeleteSetOptions) ([]Outcome, error) {
	var done []Outcome
	var errs []error
	for i := range set.Workloads {
		w := &set.Workloads[i]
		m := w.Meta()
		err := r.DeleteWorkload(ctx, storeKind(w), m.GetNamespace(), m.GetName(), DeleteWorkloadOptions{Cascade: opts.Cascade, Pods: opts.Pods})
		switch {
		case errors.Is(err, ErrWorkloadNotFound):
			continue
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %s %s: %w", w.Source, storeKind(w), m.GetName(), err))
			continue
		}
		done = append(done, Outcome{Kind: printedKind(w), Namespace: m.GetNamespace(), Name: m.GetName(), Action: "deleted"})
	}
	return done, errors.Join(errs...)
}
