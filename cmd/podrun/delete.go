package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/podrun/podrun/runner"
)

func newDeleteCommand(g *globals) *cobra.Command {
	var (
		files          []string
		grace          int
		ignoreNotFound bool
		purgeVolumes   bool
	)
	cmd := &cobra.Command{
		Use:   "delete (-f FILE | pod NAME...)",
		Short: "Stop pods gracefully and remove every trace of them",
		Example: `  podrun delete -f pod.yaml
  podrun delete pod hello`,
		RunE: func(cmd *cobra.Command, args []string) error {
			targets, err := deleteTargets(g, files, args)
			if err != nil {
				return err
			}
			r, err := g.runner()
			if err != nil {
				return err
			}
			var opts runner.DeleteOptions
			if grace >= 0 {
				d := time.Duration(grace) * time.Second
				opts.GracePeriod = &d
			}
			var errs []error
			for _, t := range targets {
				err := r.Delete(contextOf(cmd), t.namespace, t.name, opts)
				switch {
				case err == nil:
					fmt.Fprintf(cmd.OutOrStdout(), "pod %q deleted\n", t.name)
				case errors.Is(err, runner.ErrPodNotFound) && (ignoreNotFound || len(files) > 0):
					// As with kubectl delete -f, and `rm -f`: gone is gone.
				default:
					errs = append(errs, err)
				}
			}
			errs = append(errs, deleteObjects(cmd, g, r, files))
			errs = append(errs, deleteClaims(cmd, g, r, files, purgeVolumes))
			return errors.Join(errs...)
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "manifest file, directory or - for stdin (repeatable)")
	cmd.Flags().IntVar(&grace, "grace-period", -1, "seconds to wait before killing; -1 uses each pod's terminationGracePeriodSeconds")
	cmd.Flags().BoolVar(&purgeVolumes, "purge-volumes", false, "with -f, also remove the data of the PersistentVolumeClaims deleted (kept by default, as with the Retain policy)")
	cmd.Flags().BoolVar(&ignoreNotFound, "ignore-not-found", false, "treat pods that do not exist as deleted")
	return cmd
}

type podRef struct{ namespace, name string }

func deleteTargets(g *globals, files, args []string) ([]podRef, error) {
	switch {
	case len(files) > 0 && len(args) > 0:
		return nil, fmt.Errorf("give either -f or pod names, not both")
	case len(files) > 0:
		pods, err := loadPods(g, files)
		if err != nil {
			return nil, err
		}
		refs := make([]podRef, len(pods))
		for i, p := range pods {
			refs[i] = podRef{p.Pod.Namespace, p.Pod.Name}
		}
		return refs, nil
	default:
		return podRefs(g, args)
	}
}

// podRefs reads kubectl's ways of naming pods, "pod a b" or "pod/a
// pod/b", and checks the names.
func podRefs(g *globals, args []string) ([]podRef, error) {
	var names []string
	if len(args) > 1 && isPodKind(args[0]) {
		names = args[1:]
	} else {
		for _, a := range args {
			kind, name, ok := strings.Cut(a, "/")
			if !ok || !isPodKind(kind) || name == "" {
				return nil, fmt.Errorf("say which pods: pod NAME..., pod/NAME, or -f FILE (got %q)", a)
			}
			names = append(names, name)
		}
	}
	var refs []podRef
	for _, name := range names {
		ref, err := g.podRef(name)
		if err != nil {
			return nil, err
		}
		refs = append(refs, ref)
	}
	if len(refs) == 0 {
		return nil, fmt.Errorf("say what to delete: podrun delete -f FILE, or podrun delete pod NAME")
	}
	return refs, nil
}

func isPodKind(s string) bool { return s == "pod" || s == "pods" || s == "po" }
