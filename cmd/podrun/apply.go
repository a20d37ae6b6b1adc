package main

import (
	"fmt"

	"github.com/podrun/podrun/kube"
	"github.com/spf13/cobra"
	batchv1 "k8s.io/api/batch/v1"
)

func newApplyCommand(g *globals) *cobra.Command {
	var m manifestFlags
	var wait applyWait
	cmd := &cobra.Command{
		Use:   "apply -f FILE|DIR|-",
		Short: "Start the pods that manifests describe, and return once they run",
		Example: `  podrun apply -f pod.yaml
  podrun apply -f manifests/
  cat pod.yaml | podrun apply -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := wait.deadline(contextOf(cmd))
			defer cancel()
			set, r, err := m.open(cmd, g)
			if err != nil {
				return err
			}
			done, err := r.ApplySet(ctx, set)
			printApplied(cmd, set, done)
			printPending(cmd, r, set, done)
			printManagedElsewhere(cmd, set)
			if err == nil && wait.enabled {
				err = wait.pods(ctx, cmd, r, done)
				if err == nil {
					err = wait.workloads(ctx, cmd, r, done)
				}
			}
			return err
		},
	}
	m.bind(cmd.Flags())
	m.bindPull(cmd.Flags())
	wait.bind(cmd.Flags())
	_ = cmd.MarkFlagRequired("filename")
	return cmd
}

// printManagedElsewhere says, in one line on standard error for each Job
// whose spec.managedBy names another controller, that podrun's leaves it
// alone, as the built-in Job controller does.
func printManagedElsewhere(cmd *cobra.Command, set *kube.Set) {
	for _, w := range set.Workloads {
		if j, ok := w.Object.(*batchv1.Job); ok && kube.JobManagedElsewhere(j) != "" {
			fmt.Fprintf(cmd.ErrOrStderr(), "job.batch/%s: spec.managedBy is %q: podrun's Job controller leaves it to that controller and runs no pods for it\n",
				j.Name, kube.JobManagedElsewhere(j))
		}
	}
}
