package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/podrun/podrun/kube"
)

func newApplyCommand(g *globals) *cobra.Command {
	var files []string
	var wait applyWait
	var unsafeHostPaths bool
	var unsafeSysctls []string
	cmd := &cobra.Command{
		Use:   "apply -f FILE|DIR|-",
		Short: "Start the pods that manifests describe, and return once they run",
		Example: `  podrun apply -f pod.yaml
  podrun apply -f manifests/
  cat pod.yaml | podrun apply -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, r, err := openSet(cmd, g, files)
			if err != nil {
				return err
			}
			if unsafeHostPaths {
				r.AllowUnsafeHostPaths()
			}
			r.AllowUnsafeSysctls(unsafeSysctls)
			if err := storeObjects(cmd, r, set); err != nil {
				return err
			}
			pods, err := withWaiting(r, set.Pods)
			if err != nil {
				return err
			}
			done, err := r.Apply(contextOf(cmd), pods)
			for _, o := range done {
				fmt.Fprintf(cmd.OutOrStdout(), "pod/%s %s\n", o.Name, o.Action)
			}
			if err == nil && wait.enabled {
				err = wait.pods(cmd, r, done)
			}
			return err
		},
	}
	wait.flags(cmd)
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "manifest file, directory or - for stdin (repeatable)")
	cmd.Flags().BoolVar(&unsafeHostPaths, "allow-unsafe-host-paths", false, "let hostPath volumes mount /, podrun's roots or the runtime's state")
	cmd.Flags().StringSliceVar(&unsafeSysctls, "allowed-unsafe-sysctls", nil, "unsafe sysctls (or prefix* patterns) pods may set, as the kubelet's flag")
	_ = cmd.MarkFlagRequired("filename")
	return cmd
}

// loadPods reads, validates and defaults the pods in files.
func loadPods(g *globals, files []string) ([]kube.Pod, error) {
	objs, err := kube.Load(files, os.Stdin)
	if err != nil {
		return nil, err
	}
	return kube.Pods(objs, kube.Options{Namespace: g.namespace})
}
