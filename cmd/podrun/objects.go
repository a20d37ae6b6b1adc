package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner"
)

// printWarnings shows kube's warnings as kubectl shows the API server's.
func printWarnings(cmd *cobra.Command, warnings []string) {
	for _, w := range warnings {
		fmt.Fprintf(cmd.ErrOrStderr(), "Warning: %s\n", w)
	}
}

// openSet reads the manifests in files, shows kube's warnings and opens
// the runner: the first steps of every verb that takes -f.
func openSet(cmd *cobra.Command, g *globals, files []string) (*kube.Set, *runner.Runner, error) {
	set, err := loadSet(g, files)
	if err != nil {
		return nil, nil, err
	}
	printWarnings(cmd, set.Warnings)
	r, err := g.runner()
	if err != nil {
		return nil, nil, err
	}
	return set, r, nil
}

// storeObjects stores the set's ConfigMaps, Secrets and claims, before
// any pod that uses them starts.
func storeObjects(cmd *cobra.Command, r *runner.Runner, set *kube.Set) error {
	if err := applyObjects(cmd, r, set); err != nil {
		return err
	}
	return applyClaims(cmd, r, set.Claims)
}

// applyObjects stores the set's ConfigMaps and Secrets before any pod
// that reads them starts, and says what it did as kubectl does.
func applyObjects(cmd *cobra.Command, r *runner.Runner, set *kube.Set) error {
	done, err := r.ApplyObjects(set)
	for _, o := range done {
		fmt.Fprintf(cmd.OutOrStdout(), "%s/%s %s\n", o.Kind, o.Name, o.Action)
	}
	refreshVolumes(cmd, r, done)
	return err
}

// deleteObjects removes the ConfigMaps and Secrets that files name.
func deleteObjects(cmd *cobra.Command, g *globals, r *runner.Runner, files []string) error {
	if len(files) == 0 {
		return nil
	}
	set, err := loadSet(g, files)
	if err != nil {
		return err
	}
	done, err := r.DeleteObjects(set)
	for _, o := range done {
		fmt.Fprintf(cmd.OutOrStdout(), "%s %q deleted\n", o.Kind, o.Name)
	}
	return err
}
