package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func newVolumeCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "volume",
		Short: "Manage the named volumes that back PersistentVolumeClaims",
		Long: `Each PersistentVolumeClaim applied becomes a named volume under --root that
outlives its pods: deleting a pod never removes it, and deleting the claim
keeps the data (as a PersistentVolume with the Retain policy) until
'podrun volume rm' or 'podrun volume prune' removes it.`,
	}
	cmd.AddCommand(newVolumeListCommand(g), newVolumeRemoveCommand(g), newVolumePruneCommand(g))
	return cmd
}

func newVolumeListCommand(g *globals) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List named volumes, their claims and the pods using them",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := g.runner()
			if err != nil {
				return err
			}
			vols, err := r.Volumes()
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 3, ' ', 0)
			fmt.Fprintln(w, "NAMESPACE\tNAME\tSTATUS\tPODS\tPATH")
			for _, v := range vols {
				if !all && v.Namespace != g.ns() {
					continue
				}
				status := v.Status()
				pods := strings.Join(v.Pods, ",")
				if pods == "" {
					pods = "<none>"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", v.Namespace, v.Name, status, pods, v.Path)
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "list the volumes of every namespace")
	return cmd
}

func newVolumeRemoveCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "rm NAME...",
		Aliases: []string{"remove"},
		Short:   "Remove named volumes and their data (refused while a pod uses one)",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.checkClaims(args); err != nil {
				return err
			}
			r, err := g.runner()
			if err != nil {
				return err
			}
			for _, name := range args {
				if err := r.RemoveVolume(g.ns(), name); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), name)
			}
			return nil
		},
	}
}

func newVolumePruneCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "prune",
		Short: "Remove every named volume whose claim was deleted and that no pod uses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := g.runner()
			if err != nil {
				return err
			}
			removed, err := r.PruneVolumes()
			for _, name := range removed {
				fmt.Fprintln(cmd.OutOrStdout(), name)
			}
			return err
		},
	}
}
