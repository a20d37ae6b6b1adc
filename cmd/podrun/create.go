package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner"
)

// newCreateCommand is kubectl's create, for what podrun can create
// without a manifest: a Job from a CronJob's template.
func newCreateCommand(g *globals) *cobra.Command {
	var m manifestFlags
	cmd := &cobra.Command{
		Use:   "create -f FILE|DIR|- | create job NAME --from=cronjob/CRONJOB",
		Short: "Create the objects manifests describe, none of which may exist yet; or a Job from a CronJob",
		Long: `create -f is apply for objects that must not exist yet: an object that
exists already is an AlreadyExists error, and then nothing is created.
metadata.generateName names an object as the API server does (the name
given and five random characters), which apply refuses.`,
		Example: `  podrun create -f job.yaml
  podrun create job backup-now --from=cronjob/backup`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(m.files) == 0 {
				return fmt.Errorf("give manifests with -f FILE, or a command: podrun create job NAME --from=cronjob/CRONJOB")
			}
			m.generateNames = true
			set, r, err := m.open(cmd, g)
			if err != nil {
				return err
			}
			if err := alreadyExisting(contextOf(cmd), r, set); err != nil {
				return err
			}
			done, err := r.ApplySet(contextOf(cmd), set)
			printApplied(cmd, set, done)
			printPending(cmd, r, set, done)
			printManagedElsewhere(cmd, set)
			return err
		},
	}
	m.bind(cmd.Flags())
	m.bindPull(cmd.Flags())
	var from string
	job := &cobra.Command{
		Use:     "job NAME --from=cronjob/CRONJOB",
		Short:   "Run a CronJob's Job now",
		Example: "  podrun create job backup-now --from=cronjob/backup",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, cronJob, ok := strings.Cut(from, "/")
			if !ok || cronJob == "" || (kind != "cronjob" && kind != "cj" && kind != "cronjobs" && kind != "cronjob.batch") {
				return fmt.Errorf("--from must be cronjob/NAME, not %q", from)
			}
			r, err := g.runner()
			if err != nil {
				return err
			}
			out, err := r.CreateJobFromCronJob(contextOf(cmd), g.ns(), cronJob, args[0])
			if err != nil {
				return err
			}
			printOutcomes(cmd, []runner.Outcome{out})
			return nil
		},
	}
	job.Flags().StringVar(&from, "from", "", "the CronJob whose template to run: cronjob/NAME")
	_ = job.MarkFlagRequired("from")
	cmd.AddCommand(job)
	return cmd
}

// alreadyExisting is the AlreadyExists error of the objects of set that
// exist, as the API server refuses to create them; nil when none does.
func alreadyExisting(ctx context.Context, r *runner.Runner, set *kube.Set) error {
	var errs []error
	exists := func(plural, ns, name string) {
		errs = append(errs, fmt.Errorf("%s %q already exists in namespace %s: delete it first, or use podrun apply", plural, name, ns))
	}
	pods, err := r.List(ctx, "")
	if err != nil {
		return err
	}
	for _, p := range set.Pods {
		if slices.ContainsFunc(pods, func(q corev1.Pod) bool { return q.Namespace == p.Pod.Namespace && q.Name == p.Pod.Name }) {
			exists("pods", p.Pod.Namespace, p.Pod.Name)
		}
	}
	for _, w := range set.Workloads {
		m, err := meta.Accessor(w.Object)
		if err != nil {
			return err
		}
		switch _, err := r.GetWorkload(strings.ToLower(w.Kind), m.GetNamespace(), m.GetName()); {
		case err == nil:
			exists(findWorkloadResource(strings.ToLower(w.Kind)).plural, m.GetNamespace(), m.GetName())
		case !errors.Is(err, runner.ErrWorkloadNotFound):
			return err
		}
	}
	stored := func(resource string, obj metav1.Object) error {
		res, err := resolveResource(r, resource)
		if err != nil {
			return err
		}
		objs, err := r.Stored(res, obj.GetNamespace())
		if err != nil {
			return err
		}
		if slices.ContainsFunc(objs, func(o *unstructured.Unstructured) bool { return o.GetName() == obj.GetName() }) {
			exists(res.Qualified(), obj.GetNamespace(), obj.GetName())
		}
		return nil
	}
	for _, c := range set.ConfigMaps {
		errs = append(errs, stored("configmaps", c.ConfigMap))
	}
	for _, s := range set.Secrets {
		errs = append(errs, stored("secrets", s.Secret))
	}
	for _, c := range set.Claims {
		errs = append(errs, stored("persistentvolumeclaims", c.Claim))
	}
	for _, k := range set.Kept {
		errs = append(errs, stored(k.Resource.Qualified(), k.Object))
	}
	return errors.Join(errs...)
}
