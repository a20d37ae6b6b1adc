package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner"
)

// manifestFlags are the flags of every verb that takes manifests (apply,
// delete -f, up, render), so that each accepts what apply accepts: the
// same command line works with any of the four.
type manifestFlags struct {
	files           []string
	unsafeHostPaths bool
	unsafeSysctls   []string
}

func (m *manifestFlags) bind(f *pflag.FlagSet) {
	f.StringArrayVarP(&m.files, "filename", "f", nil, "manifest file, directory or - for stdin (repeatable)")
	f.BoolVar(&m.unsafeHostPaths, "allow-unsafe-host-paths", false, "let hostPath volumes mount /, podrun's roots or the runtime's state")
	f.StringSliceVar(&m.unsafeSysctls, "allowed-unsafe-sysctls", nil, "unsafe sysctls (or prefix* patterns) pods may set, as the kubelet's flag")
}

// open reads the manifests once, shows kube's warnings and opens the
// runner with what the flags allow: the first steps of every such verb.
func (m *manifestFlags) open(cmd *cobra.Command, g *globals) (*kube.Set, *runner.Runner, error) {
	src := runner.Manifests{Paths: m.files, Stdin: cmd.InOrStdin(), Namespace: g.namespace}
	set, err := src.Load()
	if err != nil {
		return nil, nil, err
	}
	printWarnings(cmd, set.Warnings)
	cfg, err := g.config()
	if err != nil {
		return nil, nil, err
	}
	cfg.AllowUnsafeHostPaths = m.unsafeHostPaths
	cfg.AllowedUnsafeSysctls = m.unsafeSysctls
	r, err := runner.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	return set, r, nil
}

// printWarnings shows kube's warnings as kubectl shows the API server's.
func printWarnings(cmd *cobra.Command, warnings []string) {
	for _, w := range warnings {
		fmt.Fprintf(cmd.ErrOrStderr(), "Warning: %s\n", w)
	}
}

// printOutcomes says what happened to each object as kubectl does:
// "pod/web created", and `configmap "settings" deleted`.
func printOutcomes(cmd *cobra.Command, done []runner.Outcome) {
	for _, o := range done {
		if o.Action == "deleted" {
			fmt.Fprintf(cmd.OutOrStdout(), "%s %q deleted\n", o.Kind, o.Name)
		} else {
			fmt.Fprintf(cmd.OutOrStdout(), "%s/%s %s\n", o.Kind, o.Name, o.Action)
		}
	}
}
