package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/podrun/podrun/runner"
	"github.com/podrun/podrun/runner/monitor"
	"github.com/podrun/podrun/runner/state"
)

// newMonitorCommand is the per-pod monitor that apply starts; not for users.
func newMonitorCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:    runner.MonitorCommand + " NAMESPACE NAME",
		Hidden: true,
		Args:   cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ready := os.NewFile(3, "ready")
			if ready == nil {
				return fmt.Errorf("the monitor is started by podrun apply, not by hand")
			}
			if _, err := state.PodKey(args[0], args[1]); err != nil {
				return err
			}
			r, err := g.runner()
			if err != nil {
				return err
			}
			// The monitor outlives its workload: the OOM killer takes it last.
			if err := monitor.ProtectFromOOM(); err != nil {
				g.logger().Warn("the pod monitor cannot protect itself from the OOM killer", "error", err)
			}
			return r.Monitor(contextOf(cmd), args[0], args[1], runner.MonitorOptions{Ready: ready})
		},
	}
}
