package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/podrun/podrun/runner"
)

func newLogsCommand(g *globals) *cobra.Command {
	var (
		opts     runner.LogOptions
		tail     int64
		selector string
	)
	cmd := &cobra.Command{
		Use:   "logs POD|pod/POD|KIND/NAME|-l SELECTOR [-c CONTAINER]",
		Short: "Print a container's log",
		Example: `  podrun logs hello -c web
  podrun logs -f hello -c web
  podrun logs hello -c web --previous --tail 20 --timestamps
  podrun logs hello --all-containers --since 5m
  podrun logs -f hello --all-containers --prefix
  podrun logs deployment/web
  podrun logs -l app=web`,
		Args: cobra.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (len(args) == 1) == (selector != "") {
				return fmt.Errorf("name one pod (POD, pod/POD, KIND/NAME) or give a selector (-l), not both")
			}
			var ref podRef
			workload, err := g.logsWorkloadArg(args)
			if err == nil && workload == nil && selector == "" {
				ref, err = g.podArg(args[0])
			}
			if err != nil {
				return err
			}
			if err := checkContainer(opts.Container); err != nil {
				return err
			}
			r, err := g.runner()
			if err != nil {
				return err
			}
			if tail >= 0 {
				opts.Tail = &tail
			}
			ctx := contextOf(cmd)
			switch {
			case selector != "":
				return selectedLogs(ctx, r, g.ns(), selector, opts, cmd.OutOrStdout())
			case workload != nil:
				if ref, err = workloadPod(ctx, r, *workload, cmd.ErrOrStderr()); err != nil {
					return err
				}
			}
			return r.Logs(ctx, ref.namespace, ref.name, opts, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Container, "container", "c", "", "container name (needed when the pod has several)")
	f.BoolVarP(&opts.Follow, "follow", "f", false, "keep printing while the container runs")
	f.BoolVarP(&opts.Previous, "previous", "p", false, "print the log of the container's previous run")
	f.Int64Var(&tail, "tail", -1, "print only the last N lines (-1: all)")
	f.DurationVar(&opts.Since, "since", 0, "print only lines newer than this (5s, 2m, 3h)")
	f.BoolVar(&opts.Timestamps, "timestamps", false, "start each line with its time (RFC 3339)")
	f.BoolVar(&opts.AllContainers, "all-containers", false, "print the logs of every container, init containers first (with -f, all at once)")
	f.BoolVar(&opts.Prefix, "prefix", false, "start each line with [pod/<pod>/<container>]")
	f.StringVarP(&selector, "selector", "l", "", "print the logs of every pod with these labels (app=web), each line prefixed")
	return cmd
}
