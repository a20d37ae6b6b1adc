package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/runner"
)

func newWaitCommand(g *globals) *cobra.Command {
	var (
		forCond string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "wait --for=condition=Ready|delete|jsonpath=EXPR=VALUE pod/NAME...|KIND/NAME...",
		Short: "Wait until pods or workloads meet a condition, are deleted, or a field has a value",
		Example: `  podrun wait --for=condition=Ready pod/hello --timeout 60s
  podrun wait --for=condition=Available deployment/web
  podrun wait --for=jsonpath='{.status.phase}'=Succeeded pod/job
  podrun wait --for=delete pod/hello`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if refs, ok, err := g.workloadArgs(args); ok {
				return g.waitForWorkloads(cmd, refs, forCond, timeout, err)
			}
			check, err := parseFor(forCond)
			if err != nil {
				return err
			}
			names, err := podNames(args)
			if err != nil {
				return err
			}
			var refs []podRef
			for _, n := range names {
				ref, err := g.podRef(n)
				if err != nil {
					return err
				}
				refs = append(refs, ref)
			}
			r, err := g.runner()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(contextOf(cmd), timeout)
			defer cancel()
			return waitPods(ctx, r, refs, check, cmd.OutOrStdout(), "condition met")
		},
	}
	cmd.Flags().StringVar(&forCond, "for", "", "condition=NAME[=VALUE], delete, or jsonpath={.path}=VALUE")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "how long to wait")
	_ = cmd.MarkFlagRequired("for")
	return cmd
}

// podNames reads "pod/NAME", "pods/NAME" or "pod NAME..." arguments.
func podNames(args []string) ([]string, error) {
	if isPodKind(args[0]) && !strings.Contains(args[0], "/") {
		args = args[1:]
	}
	var names []string
	for _, a := range args {
		kind, name, ok := strings.Cut(a, "/")
		if !ok {
			kind, name = "pod", a
		}
		if !isPodKind(kind) || name == "" {
			return nil, fmt.Errorf("podrun waits for pods only: %q", a)
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("name the pods to wait for: pod/NAME")
	}
	return names, nil
}

// podCheck says whether a pod (nil: it does not exist) is as wanted; an
// error means it never will be.
type podCheck func(*corev1.Pod) (bool, error)

// parseFor reads kubectl wait's --for.
func parseFor(s string) (podCheck, error) {
	switch {
	case s == "delete":
		return func(p *corev1.Pod) (bool, error) { return p == nil, nil }, nil
	case strings.HasPrefix(s, "condition="):
		name, want, ok := strings.Cut(strings.TrimPrefix(s, "condition="), "=")
		if !ok {
			want = "true"
		}
		return func(p *corev1.Pod) (bool, error) {
			if p == nil {
				return false, nil
			}
			for _, c := range p.Status.Conditions {
				if strings.EqualFold(string(c.Type), name) {
					return strings.EqualFold(string(c.Status), want), nil
				}
			}
			return false, nil
		}, nil
	case strings.HasPrefix(s, "jsonpath="):
		expr := strings.TrimPrefix(s, "jsonpath=")
		i := strings.LastIndex(expr, "}=")
		if !strings.HasPrefix(expr, "{") || i < 0 {
			return nil, fmt.Errorf("--for=jsonpath wants {.path}=VALUE, not %q", expr)
		}
		path, want := expr[1:i], expr[i+2:]
		return func(p *corev1.Pod) (bool, error) {
			if p == nil {
				return false, nil
			}
			got, err := jsonPath(p, path)
			return err == nil && got == want, nil
		}, nil
	}
	return nil, fmt.Errorf("--for must be condition=NAME, delete or jsonpath={.path}=VALUE, not %q", s)
}

// jsonPath evaluates a simple JSONPath (.a.b[0].c) on v as JSON.
func jsonPath(v any, path string) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	var cur any
	if err := json.Unmarshal(data, &cur); err != nil {
		return "", err
	}
	for _, part := range strings.Split(strings.TrimPrefix(path, "."), ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key != "" {
			m, ok := cur.(map[string]any)
			if !ok {
				return "", fmt.Errorf("%s: not an object", key)
			}
			cur = m[key]
		}
		for rest != "" {
			idx, after, ok := strings.Cut(rest, "]")
			n, err := strconv.Atoi(idx)
			list, isList := cur.([]any)
			if !ok || err != nil || !isList || n < 0 || n >= len(list) {
				return "", fmt.Errorf("%s: no index %s", part, idx)
			}
			cur, rest = list[n], strings.TrimPrefix(after, "[")
		}
	}
	switch x := cur.(type) {
	case string:
		return x, nil
	case nil:
		return "", nil
	default:
		data, _ := json.Marshal(x)
		return string(data), nil
	}
}

// waitPods polls the pods until check holds for each, printing
// "pod/NAME <what>" for each as it does, until ctx ends.
func waitPods(ctx context.Context, r *runner.Runner, refs []podRef, check podCheck, out io.Writer, what string) error {
	pending := slices.Clone(refs)
	for {
		var still []podRef
		for _, ref := range pending {
			pod, err := r.Get(ctx, ref.namespace, ref.name)
			if errors.Is(err, runner.ErrPodNotFound) {
				pod, err = nil, nil
			}
			if err != nil {
				return err
			}
			done, err := check(pod)
			if err != nil {
				return fmt.Errorf("pod/%s: %w", ref.name, err)
			}
			if done {
				fmt.Fprintf(out, "pod/%s %s\n", ref.name, what)
			} else {
				still = append(still, ref)
			}
		}
		if pending = still; len(pending) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out waiting for the condition on %s", podList(pending))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// podList names pods as kubectl's timeout message does: "pods/a, pods/b".
func podList(refs []podRef) string {
	names := make([]string, len(refs))
	for i, ref := range refs {
		names[i] = "pods/" + ref.name
	}
	return strings.Join(names, ", ")
}

// readyOrDone is apply --wait's check: a pod that restarts Always (a
// service) is done once Ready; any other (a job) once Succeeded. Failed,
// or Unknown (its monitor gone), is an error.
func readyOrDone(p *corev1.Pod) (bool, error) {
	if p == nil {
		return false, errors.New("the pod is gone")
	}
	switch p.Status.Phase {
	case corev1.PodSucceeded:
		return true, nil
	case corev1.PodFailed, corev1.PodUnknown:
		reason := p.Status.Reason
		if reason == "" {
			reason = podStatusReason(p)
		}
		return false, fmt.Errorf("pod %s: %s", p.Status.Phase, reason)
	}
	if p.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		return false, nil
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return true, nil
		}
	}
	return false, nil
}

// applyWait is apply's --wait: until every pod applied is Ready (or has
// Succeeded), failing at once when one fails, for CI pipelines. --timeout
// is one deadline for the whole command, applying and waiting, whatever
// the pods' namespaces.
type applyWait struct {
	enabled bool
	timeout time.Duration
}

func (w *applyWait) bind(f *pflag.FlagSet) {
	f.BoolVar(&w.enabled, "wait", false, "wait until every pod is Ready (restartPolicy Always) or Succeeded (others) and every workload is done (a Deployment rolled out, a Job complete, every replica of a ReplicaSet, StatefulSet or DaemonSet updated and ready); fail if a pod or Job fails, a Deployment's progress deadline passes, or --timeout passes")
	f.DurationVar(&w.timeout, "timeout", 5*time.Minute, "with --wait, how long the whole command may take, applying and waiting")
}

// deadline bounds ctx by --timeout when apply waits.
func (w *applyWait) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if !w.enabled {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, w.timeout)
}

// pods waits, until ctx ends, for the pods among done.
func (w *applyWait) pods(ctx context.Context, cmd *cobra.Command, r *runner.Runner, done []runner.Outcome) error {
	var refs []podRef
	for _, o := range done {
		if o.Kind == "pod" {
			refs = append(refs, podRef{o.Namespace, o.Name})
		}
	}
	return waitPods(ctx, r, refs, readyOrDone, cmd.OutOrStdout(), "condition met")
}
