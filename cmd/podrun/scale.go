package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/podrun/podrun/runner"
	"github.com/podrun/podrun/runner/supervise"
)

func newScaleCommand(g *globals) *cobra.Command {
	var replicas int32 = -1
	cmd := &cobra.Command{
		Use:   "scale KIND/NAME --replicas N",
		Short: "Set the replicas of a Deployment, ReplicaSet or StatefulSet",
		Example: `  podrun scale deployment/web --replicas 5
  podrun scale rs web-x7k2 --replicas 0`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if replicas < 0 {
				return fmt.Errorf("--replicas N is required, N >= 0")
			}
			ref, err := g.workloadArg(args)
			if err != nil {
				return err
			}
			r, err := g.runner()
			if err != nil {
				return err
			}
			out, err := r.ScaleWorkload(contextOf(cmd), ref.res.kind, ref.namespace, ref.name, replicas)
			if err != nil {
				return ref.notFound(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s/%s scaled\n", ref.printed(), out.Name)
			return nil
		},
	}
	cmd.Flags().Int32Var(&replicas, "replicas", -1, "the new number of replicas")
	return cmd
}

// workloadRef names one workload from the command line.
type workloadRef struct {
	res             *workloadResource
	namespace, name string
}

// printed is the resource as kubectl prints it: "deployment.apps".
func (w workloadRef) printed() string { return w.res.kind + "." + w.res.apiGroup }

// notFound words ErrWorkloadNotFound as kubectl does.
func (w workloadRef) notFound(err error) error {
	if isWorkloadNotFound(err) {
		return fmt.Errorf("%s.%s %q not found", w.res.plural, w.res.apiGroup, w.name)
	}
	return err
}

// workloadArg reads KIND/NAME or KIND NAME (kubectl's names: deployment,
// deploy, deployments.apps, rs...).
func (g *globals) workloadArg(args []string) (workloadRef, error) {
	kind, name, ok := strings.Cut(args[0], "/")
	switch {
	case ok && len(args) == 1:
	case !ok && len(args) == 2:
		name = args[1]
	default:
		return workloadRef{}, fmt.Errorf("name one workload: KIND/NAME or KIND NAME")
	}
	res := findWorkloadResource(kind)
	if res == nil {
		return workloadRef{}, fmt.Errorf("unknown workload kind %q: want deployment, replicaset, statefulset, daemonset, job or cronjob", kind)
	}
	if name == "" {
		return workloadRef{}, fmt.Errorf("name the %s", res.kind)
	}
	// Checked before anything is opened: a name is a path in the store.
	if _, err := supervise.NewKey(res.kind, g.ns(), name); err != nil {
		return workloadRef{}, err
	}
	return workloadRef{res: res, namespace: g.ns(), name: name}, nil
}

func isWorkloadNotFound(err error) bool { return errors.Is(err, runner.ErrWorkloadNotFound) }
