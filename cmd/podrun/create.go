package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/podrun/podrun/runner"
)

// newCreateCommand is kubectl's create, for what podrun can create
// without a manifest: a Job from a CronJob's template.
func newCreateCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "create", Short: "Create an object from the command line"}
	var from string
	job := &cobra.Command{
		Use:     "job NAME --from=cronjob/CRONJOB",
		Short:   "Run a CronJob's Job now",
		Example: "  podrun create job backup-now --from=cronjob/backup",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, cronJob, ok := strings.Cut(from, "/")
			if !ok || cronJob == "" || (kind != "cronjob" && kind != "cj" && kind != "cronjobs" && kind != "cronjob.batch") {
				return fmt.Errorf("--from must be cronjob/NAME, not %q", from)
			}
			r, err := g.runner()
			if err != nil {
				return err
			}
			out, err := r.CreateJobFromCronJob(contextOf(cmd), g.ns(), cronJob, args[0])
			if err != nil {
				return err
			}
			printOutcomes(cmd, []runner.Outcome{out})
			return nil
		},
	}
	job.Flags().StringVar(&from, "from", "", "the CronJob whose template to run: cronjob/NAME")
	_ = job.MarkFlagRequired("from")
	cmd.AddCommand(job)
	return cmd
}
