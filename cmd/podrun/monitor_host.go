package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/podrun/podrun/runner"
	"github.com/podrun/podrun/runner/monitor"
)

// newMonitorHostCommand runs several pods' monitors in one process, under
// runner.MonitorHostEnv: an experiment for benchmarks, not for users.
func newMonitorHostCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:    runner.MonitorHostCommand,
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			listening := os.NewFile(3, "listening")
			if listening == nil {
				return fmt.Errorf("the monitor host is started by podrun apply, not by hand")
			}
			r, err := g.runner()
			if err != nil {
				return err
			}
			if err := monitor.ProtectFromOOM(); err != nil {
				g.logger().Warn("the monitor host cannot protect itself from the OOM killer", "error", err)
			}
			// SIGTERM stops one pod, not the host: no context cancelled by it.
			return r.HostMonitors(context.WithoutCancel(cmd.Context()), listening, g.logger())
		},
	}
}
