package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/podrun/podrun/runner/runtime"
)

// version is set at build time: -ldflags "-X main.version=v0.1.0".
var version = "devel"

func newVersionCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print podrun's version and the OCI runtime it uses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if info, ok := debug.ReadBuildInfo(); ok {
				commit := ""
				for _, s := range info.Settings {
					if s.Key == "vcs.revision" {
						commit = " " + s.Value
					}
				}
				fmt.Fprintf(out, "podrun %s%s (%s)\n", version, commit, info.GoVersion)
			} else {
				fmt.Fprintf(out, "podrun %s\n", version)
			}
			binary := g.runtime
			if binary == "" {
				binary = runtime.Default()
			}
			info, err := runtime.Version(contextOf(cmd), binary)
			if err != nil {
				fmt.Fprintf(out, "runtime: %v\n", err)
				return nil
			}
			fmt.Fprintf(out, "runtime: %s\n", info)
			if err := runtime.Floor(info); err != nil {
				fmt.Fprintf(out, "warning: %v\n", err)
			}
			return nil
		},
	}
}
