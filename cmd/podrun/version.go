package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time: -ldflags "-X main.version=v0.1.0".
var version = "devel"

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print podrun's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			commit := ""
			if info, ok := debug.ReadBuildInfo(); ok {
				for _, s := range info.Settings {
					if s.Key == "vcs.revision" {
						commit = s.Value
					}
				}
				fmt.Fprintf(cmd.OutOrStdout(), "podrun %s %s (%s)\n", version, commit, info.GoVersion)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "podrun %s\n", version)
			return nil
		},
	}
}
