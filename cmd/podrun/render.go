package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newRenderCommand(g *globals) *cobra.Command {
	var (
		m   manifestFlags
		out string
	)
	cmd := &cobra.Command{
		Use:   "render -f FILE -o DIR",
		Short: "Write every pod's OCI bundles (config.json) without running anything",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, r, err := m.open(cmd, g)
			if err != nil {
				return err
			}
			dirs, err := r.Render(contextOf(cmd), set, out)
			for _, d := range dirs {
				fmt.Fprintln(cmd.OutOrStdout(), d)
			}
			return err
		},
	}
	m.bind(cmd.Flags())
	m.bindPull(cmd.Flags())
	cmd.Flags().StringVarP(&out, "output", "o", "", "directory to write the bundles into")
	_ = cmd.MarkFlagRequired("filename")
	_ = cmd.MarkFlagRequired("output")
	return cmd
}
