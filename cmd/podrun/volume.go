package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner"
	"github.com/podrun/podrun/runner/volume"
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

// loadSet reads, validates and defaults every object in files.
func loadSet(g *globals, files []string) (*kube.Set, error) {
	objs, err := kube.Load(files, os.Stdin)
	if err != nil {
		return nil, err
	}
	return kube.Expand(objs, kube.Options{Namespace: g.namespace})
}

// applyClaims binds the PersistentVolumeClaims to named volumes before
// any pod that mounts them starts.
func applyClaims(cmd *cobra.Command, r *runner.Runner, claims []kube.Claim) error {
	var list []*corev1.PersistentVolumeClaim
	for _, c := range claims {
		list = append(list, c.Claim)
	}
	done, err := r.ApplyClaims(list)
	for _, o := range done {
		fmt.Fprintf(cmd.OutOrStdout(), "persistentvolumeclaim/%s %s\n", o.Name, o.Action)
	}
	return err
}

// refreshVolumes rewrites the volumes of running pods that project the
// objects just stored. A failure is a warning, as the kubelet's is an
// event: the objects are stored, the volumes keep their last contents.
func refreshVolumes(cmd *cobra.Command, r *runner.Runner, done []runner.ObjectOutcome) {
	if err := r.RefreshVolumes(contextOf(cmd), done); err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "Warning: %v\n", err)
	}
}

// withWaiting adds to pods those recorded waiting for a claim, ConfigMap
// or Secret that now exists, so that apply starts them, as the kubelet
// does once the object appears.
func withWaiting(r *runner.Runner, pods []kube.Pod) ([]kube.Pod, error) {
	waiting, err := r.WaitingPods()
	if err != nil {
		return nil, err
	}
	named := map[string]bool{}
	for _, p := range pods {
		named[p.Pod.Namespace+"/"+p.Pod.Name] = true
	}
	for _, p := range waiting {
		if !named[p.Pod.Namespace+"/"+p.Pod.Name] {
			pods = append(pods, p)
		}
	}
	return pods, nil
}

// deleteClaims releases the PersistentVolumeClaims that files name,
// keeping their data, or with purge removes their named volumes too.
func deleteClaims(cmd *cobra.Command, g *globals, r *runner.Runner, files []string, purge bool) error {
	if len(files) == 0 {
		return nil
	}
	set, err := loadSet(g, files)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range set.Claims {
		ns, name := c.Claim.Namespace, c.Claim.Name
		vol, err := r.Claims().Claimed(ns, name)
		if errors.Is(err, volume.ErrNotFound) || (err == nil && !vol.Bound() && !purge) {
			continue // gone is gone, as for pods
		}
		if err == nil {
			err = r.DeleteClaim(ns, name, purge)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(cmd.OutOrStdout(), "persistentvolumeclaim %q deleted\n", name)
	}
	return errors.Join(errs...)
}
