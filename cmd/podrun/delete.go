package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/podrun/podrun/runner"
	"github.com/podrun/podrun/runner/objects"
)

func newDeleteCommand(g *globals) *cobra.Command {
	var (
		m              manifestFlags
		grace          int
		ignoreNotFound bool
		purgeVolumes   bool
		cascade        string
	)
	cmd := &cobra.Command{
		Use:   "delete (-f FILE | pod NAME... | RESOURCE NAME...)",
		Short: "Stop pods gracefully and remove every trace of them",
		Long: `delete -f deletes everything the manifests describe, in the reverse order of
apply: the pods (gracefully), then the kinds podrun keeps without running
them (ServiceAccounts, RBAC, custom resources, ...), the Secrets and
ConfigMaps, the PersistentVolumeClaims, whose data stays unless
--purge-volumes, and last the Namespaces and CustomResourceDefinitions (a
definition takes its custom resources with it; a Namespace does not take
what is in it). What is already gone is skipped, as with kubectl delete -f.

delete RESOURCE NAME... (or RESOURCE/NAME...) deletes stored objects of
any other kind by name: podrun delete sa robot, podrun delete crd NAME.
A workload (deployment, rs, sts, ds, job, cronjob) goes with what it owns,
by ownerReferences, as --cascade says; a pod a workload owns is deleted
and its controller makes another, as in a cluster.`,
		Example: `  podrun delete -f pod.yaml
  cat app.yaml | podrun delete -f -
  podrun delete pod hello
  podrun delete sts web --cascade=orphan
  podrun delete sa robot`,
		RunE: func(cmd *cobra.Command, args []string) error {
			var opts runner.DeleteOptions
			if grace >= 0 {
				d := time.Duration(grace) * time.Second
				opts.GracePeriod = &d
			}
			c, err := checkCascade(cascade, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			switch {
			case len(m.files) > 0 && len(args) > 0:
				return fmt.Errorf("give either -f or pod names, not both")
			case len(m.files) > 0:
				return deleteSet(cmd, g, &m, runner.DeleteSetOptions{Pods: opts, PurgeVolumes: purgeVolumes, Cascade: c})
			case len(args) > 0:
				ka, err := kindAndNames(args)
				if err == nil && len(ka) > 1 {
					if res := findWorkloadResource(ka[0]); res != nil {
						return deleteWorkloads(cmd, g, res, ka[1:], runner.DeleteWorkloadOptions{Cascade: c, Pods: opts}, ignoreNotFound)
					}
					if !isPodKind(ka[0]) {
						return deleteObjects(cmd, g, ka[0], ka[1:], ignoreNotFound)
					}
				}
			}
			refs, err := podRefs(g, args)
			if err != nil {
				return err
			}
			return deletePods(cmd, g, refs, opts, ignoreNotFound)
		},
	}
	m.bind(cmd.Flags())
	cmd.Flags().IntVar(&grace, "grace-period", -1, "seconds to wait before killing; -1 uses each pod's terminationGracePeriodSeconds")
	cmd.Flags().BoolVar(&purgeVolumes, "purge-volumes", false, "with -f, also remove the data of the PersistentVolumeClaims deleted (kept by default, as with the Retain policy)")
	cmd.Flags().BoolVar(&ignoreNotFound, "ignore-not-found", false, "treat pods or objects that do not exist as deleted")
	cmd.Flags().StringVar(&cascade, "cascade", "background", "what a workload deleted takes with it: background or foreground (what it owns), orphan (nothing); true and false, deprecated, are background and orphan")
	cmd.Flags().Lookup("cascade").NoOptDefVal = "background"
	return cmd
}

// deleteSet deletes what the manifests describe.
func deleteSet(cmd *cobra.Command, g *globals, m *manifestFlags, opts runner.DeleteSetOptions) error {
	set, r, err := m.open(cmd, g)
	if err != nil {
		return err
	}
	done, err := r.DeleteSet(contextOf(cmd), set, opts)
	printOutcomes(cmd, done)
	return err
}

// deletePods deletes the pods named on the command line, side by side,
// and reports them in the order named.
func deletePods(cmd *cobra.Command, g *globals, refs []podRef, opts runner.DeleteOptions, ignoreNotFound bool) error {
	r, err := g.runner()
	if err != nil {
		return err
	}
	pods := make([]runner.PodRef, len(refs))
	for i, ref := range refs {
		pods[i] = runner.PodRef{Namespace: ref.namespace, Name: ref.name}
	}
	var errs []error
	for i, err := range r.DeletePods(contextOf(cmd), pods, opts) {
		switch {
		case err == nil:
			printOutcomes(cmd, []runner.Outcome{{Kind: "pod", Namespace: pods[i].Namespace, Name: pods[i].Name, Action: "deleted"}})
		case errors.Is(err, runner.ErrPodNotFound) && ignoreNotFound:
			// As with `rm -f`: gone is gone.
		default:
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// deleteObjects deletes stored objects of a kind other than pods by
// name, as kubectl delete KIND NAME... does.
func deleteObjects(cmd *cobra.Command, g *globals, kind string, names []string, ignoreNotFound bool) error {
	r, err := g.runner()
	if err != nil {
		return err
	}
	res, err := resolveResource(r, kind)
	if err != nil {
		return err
	}
	if res.Group == "" && res.Kind == "PersistentVolumeClaim" {
		return fmt.Errorf("delete claims with their file, podrun delete -f FILE, which keeps or purges their volumes")
	}
	var errs []error
	for _, name := range names {
		switch err := r.DeleteStored(res, g.ns(), name); {
		case err == nil:
			printOutcomes(cmd, []runner.Outcome{{Kind: res.Printed(), Namespace: g.ns(), Name: name, Action: "deleted"}})
		case errors.Is(err, objects.ErrNotFound) && ignoreNotFound:
		default:
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

type podRef struct{ namespace, name string }

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
