package main

import (
	"github.com/spf13/cobra"

	"github.com/podrun/podrun/runner"
)

func newLogsCommand(g *globals) *cobra.Command {
	var opts runner.LogOptions
	cmd := &cobra.Command{
		Use:   "logs POD [-c CONTAINER]",
		Short: "Print a container's log",
		Example: `  podrun logs hello -c web
  podrun logs -f hello -c web`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := g.runner()
			if err != nil {
				return err
			}
			return r.Logs(contextOf(cmd), g.ns(), args[0], opts, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Container, "container", "c", "", "container name (needed when the pod has several)")
	f.BoolVarP(&opts.Follow, "follow", "f", false, "keep printing while the container runs")
	f.BoolVarP(&opts.Previous, "previous", "p", false, "print the log of the container's previous run")
	return cmd
}
