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
		Long: `Write every pod's OCI bundles (config.json) without running anything.

render reaches apply's verdict by apply's own code: a pod apply would
refuse is an error with apply's message (and a non-zero exit), and each
container apply would leave waiting is one warning line on stderr, with
the reason and message get would show. A pod that waits for a ConfigMap,
Secret or claim gets no bundles, as apply makes none for it. Nor does a
pod the node would not take (a hostPort another pod publishes, a
nodeSelector this node does not match): one line says why it would be
Pending.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, r, err := m.open(cmd, g)
			if err != nil {
				return err
			}
			pods, err := r.Render(contextOf(cmd), set, out)
			for _, p := range pods {
				if p.Pending != "" {
					fmt.Fprintln(cmd.ErrOrStderr(), p.Pending)
				}
				for _, w := range p.Warnings {
					fmt.Fprintf(cmd.ErrOrStderr(), "Warning: %s\n", w)
				}
				for _, w := range p.Waiting {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: pod %s: container %s would wait: %s: %s\n",
						w.Source, p.Name, w.Container, w.Reason, w.Message)
				}
				if p.Dir != "" {
					fmt.Fprintln(cmd.OutOrStdout(), p.Dir)
				}
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
