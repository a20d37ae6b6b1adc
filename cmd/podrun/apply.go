package main

import (
	"github.com/spf13/cobra"
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
