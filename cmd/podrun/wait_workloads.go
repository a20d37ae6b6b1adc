package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/podrun/podrun/runner"
)

// wait and apply --wait for workloads: `wait --for=condition=X KIND/NAME`
// reads the workload's status.conditions whatever its kind (a
// Deployment's Available, a Job's Complete), `--for=jsonpath` and
// `--for=delete` work as for pods, and apply --wait waits for each kind
// as its entry in workloadDone says.

// workloadCheck says whether a workload's object (nil: it does not exist)
// is as wanted; an error means it never will be.
type workloadCheck func(obj map[string]any) (bool, error)

// parseWorkloadFor reads kubectl wait's --for for a workload. A condition
// is met once the status says so for the current generation: a status
// whose observedGeneration is older is not looked at, as kubectl does.
func parseWorkloadFor(s string) (workloadCheck, error) {
	switch {
	case s == "delete":
		return func(obj map[string]any) (bool, error) { return obj == nil, nil }, nil
	case strings.HasPrefix(s, "condition="):
		name, want, ok := strings.Cut(strings.TrimPrefix(s, "condition="), "=")
		if !ok {
			want = "true"
		}
		return func(obj map[string]any) (bool, error) {
			if obj == nil || !observed(obj) {
				return false, nil
			}
			conds, _, _ := unstructured.NestedSlice(obj, "status", "conditions")
			for _, c := range conds {
				m, _ := c.(map[string]any)
				if typ, _ := m["type"].(string); strings.EqualFold(typ, name) {
					status, _ := m["status"].(string)
					return strings.EqualFold(status, want), nil
				}
			}
			return false, nil
		}, nil
	case strings.HasPrefix(s, "jsonpath="):
		if _, err := parseFor(s); err != nil {
			return nil, err
		}
		path, want := jsonPathFor(s)
		return func(obj map[string]any) (bool, error) {
			if obj == nil {
				return false, nil
			}
			got, err := jsonPath(obj, path)
			return err == nil && got == want, nil
		}, nil
	}
	return nil, fmt.Errorf("--for must be condition=NAME, delete or jsonpath={.path}=VALUE, not %q", s)
}

// jsonPathFor splits --for=jsonpath={.path}=VALUE, which parseFor has
// checked.
func jsonPathFor(s string) (path, want string) {
	expr := strings.TrimPrefix(s, "jsonpath=")
	i := strings.LastIndex(expr, "}=")
	return expr[1:i], expr[i+2:]
}

// observed reports whether the object's status is of its current spec:
// status.observedGeneration, when there is one, is at least
// metadata.generation.
func observed(obj map[string]any) bool {
	seen, ok, _ := unstructured.NestedFieldNoCopy(obj, "status", "observedGeneration")
	if !ok {
		return true
	}
	gen, _, _ := unstructured.NestedFieldNoCopy(obj, "metadata", "generation")
	s, _ := seen.(float64)
	g, _ := gen.(float64)
	return s >= g
}

// workloadArgs reads wait's arguments when they name workloads
// (deployment/web, job/pi); ok is false when they name pods.
func (g *globals) workloadArgs(args []string) (refs []workloadRef, ok bool, err error) {
	kind, _, _ := strings.Cut(args[0], "/")
	if findWorkloadResource(kind) == nil {
		return nil, false, nil
	}
	if !strings.Contains(args[0], "/") {
		for _, name := range args[1:] {
			ref, err := g.workloadArg([]string{kind, name})
			if err != nil {
				return nil, true, err
			}
			refs = append(refs, ref)
		}
	} else {
		for _, a := range args {
			ref, err := g.workloadArg([]string{a})
			if err != nil {
				return nil, true, err
			}
			refs = append(refs, ref)
		}
	}
	if len(refs) == 0 {
		return nil, true, fmt.Errorf("name the %s to wait for", kind)
	}
	return refs, true, nil
}

// waitWorkloads polls the workloads until check holds for each, printing
// "deployment.apps/web condition met" for each as it does, until ctx
// ends.
func waitWorkloads(ctx context.Context, r *runner.Runner, refs []workloadRef, check workloadCheck, out io.Writer, what string) error {
	pending := refs
	for {
		var still []workloadRef
		for _, ref := range pending {
			obj, err := workloadObject(r, ref)
			if err != nil {
				return err
			}
			done, err := check(obj)
			if err != nil {
				return fmt.Errorf("%s/%s: %w", ref.printed(), ref.name, err)
			}
			if done {
				fmt.Fprintf(out, "%s/%s %s\n", ref.printed(), ref.name, what)
			} else {
				still = append(still, ref)
			}
		}
		if pending = still; len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			names := make([]string, len(pending))
			for i, ref := range pending {
				names[i] = ref.res.plural + "." + ref.res.apiGroup + "/" + ref.name
			}
			return fmt.Errorf("timed out waiting for the condition on %s", strings.Join(names, ", "))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// workloadObject is the workload as get -o json shows it, nil when it
// does not exist.
func workloadObject(r *runner.Runner, ref workloadRef) (map[string]any, error) {
	w, err := r.GetWorkload(ref.res.kind, ref.namespace, ref.name)
	if errors.Is(err, runner.ErrWorkloadNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var obj map[string]any
	if err := json.Unmarshal(w.Object, &obj); err != nil {
		return nil, fmt.Errorf("decoding %s %s: %w", ref.res.kind, ref.name, err)
	}
	return obj, nil
}

// workloadDone is apply --wait's check of each workload kind, by the
// store's kind; each kind's file adds its own. A kind without one is not
// waited for.
var workloadDone = map[string]workloadCheck{}

// workloads waits, until ctx ends, for the workloads among done whose kind
// has a check in workloadDone.
func (w *applyWait) workloads(ctx context.Context, cmd *cobra.Command, r *runner.Runner, done []runner.Outcome) error {
	for _, o := range done {
		kind, _, _ := strings.Cut(o.Kind, ".")
		check, ok := workloadDone[kind]
		res := findWorkloadResource(kind)
		if !ok || res == nil {
			continue
		}
		ref := workloadRef{res: res, namespace: o.Namespace, name: o.Name}
		if err := waitWorkloads(ctx, r, []workloadRef{ref}, check, cmd.OutOrStdout(), "condition met"); err != nil {
			return err
		}
	}
	return nil
}

// waitForWorkloads is wait's RunE for workloads; argErr is what reading
// the arguments found wrong.
func (g *globals) waitForWorkloads(cmd *cobra.Command, refs []workloadRef, forCond string, timeout time.Duration, argErr error) error {
	if argErr != nil {
		return argErr
	}
	check, err := parseWorkloadFor(forCond)
	if err != nil {
		return err
	}
	r, err := g.runner()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(contextOf(cmd), timeout)
	defer cancel()
	return waitWorkloads(ctx, r, refs, check, cmd.OutOrStdout(), "condition met")
}
