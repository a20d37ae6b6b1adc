package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner"
)

// manifestFlags are the flags of every verb that takes manifests (apply,
// delete -f, up, render), so that each accepts what apply accepts: the
// same command line works with any of the four.
type manifestFlags struct {
	files           []string
	generateNames   bool // create's: name objects from metadata.generateName
	unsafeHostPaths bool
	unsafeSysctls   []string
	pull            pullFlag
}

func (m *manifestFlags) bind(f *pflag.FlagSet) {
	f.StringArrayVarP(&m.files, "filename", "f", nil, "manifest file, directory or - for stdin (repeatable)")
	f.BoolVar(&m.unsafeHostPaths, "allow-unsafe-host-paths", false, "let hostPath volumes mount /, podrun's roots or the runtime's state")
	f.StringSliceVar(&m.unsafeSysctls, "allowed-unsafe-sysctls", nil, "unsafe sysctls (or prefix* patterns) pods may set, as the kubelet's flag")
}

// bindPull adds --pull, for the verbs that get images (apply, up,
// render); delete has no use for it.
func (m *manifestFlags) bindPull(f *pflag.FlagSet) {
	f.Var(&m.pull, "pull", "pull policy for every container: always, missing (IfNotPresent) or never; default: each container's imagePullPolicy")
}

// open reads the manifests once (with the CustomResourceDefinitions
// stored, whose custom resources they may hold), shows kube's warnings
// and opens the runner with what the flags allow: the first steps of
// every such verb. Manifests refused leave no trace.
func (m *manifestFlags) open(cmd *cobra.Command, g *globals) (*kube.Set, *runner.Runner, error) {
	src := runner.Manifests{Paths: m.files, Stdin: cmd.InOrStdin(), Namespace: g.namespace, RunRoot: g.runRoot,
		ServiceCIDR: g.serviceCIDR, GenerateNames: m.generateNames}
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
	cfg.PullPolicy = m.pull.policy
	r, err := runner.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	return set, r, nil
}

// pullFlag is --pull, Podman's and docker compose's names for the
// kubelet's pull policies.
type pullFlag struct {
	value  string
	policy corev1.PullPolicy
}

var pullPolicies = map[string]corev1.PullPolicy{
	"always":  corev1.PullAlways,
	"missing": corev1.PullIfNotPresent,
	"never":   corev1.PullNever,
}

func (p *pullFlag) String() string { return p.value }
func (p *pullFlag) Type() string   { return "policy" }

func (p *pullFlag) Set(s string) error {
	policy, ok := pullPolicies[s]
	if !ok {
		return fmt.Errorf("want always, missing or never")
	}
	p.value, p.policy = s, policy
	return nil
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
	printApplied(cmd, nil, done)
}

// printApplied is printOutcomes, with after the line of each object set
// keeps without running it one line on standard error saying what it
// does here: a warning for the kinds a cluster would act on in ways that
// change how pods behave (NetworkPolicy, Ingress).
func printApplied(cmd *cobra.Command, set *kube.Set, done []runner.Outcome) {
	notes := map[string]kube.Kept{}
	if set != nil {
		for _, k := range set.Kept {
			notes[k.Resource.Printed()+"/"+k.Object.GetNamespace()+"/"+k.Object.GetName()] = k
		}
	}
	for _, o := range done {
		if o.Action == "deleted" {
			fmt.Fprintf(cmd.OutOrStdout(), "%s %q deleted\n", o.Kind, o.Name)
			continue
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s/%s %s\n", o.Kind, o.Name, o.Action)
		k, ok := notes[o.Kind+"/"+o.Namespace+"/"+o.Name]
		switch {
		case !ok:
		case k.Effect == kube.Warned:
			fmt.Fprintf(cmd.ErrOrStderr(), "Warning: %s/%s is %s\n", o.Kind, o.Name, k.Note)
		default:
			fmt.Fprintf(cmd.ErrOrStderr(), "%s/%s: %s\n", o.Kind, o.Name, k.Note)
		}
	}
}

// printPending shows, for each pod applied that the node cannot take
// yet, one warning line saying why, at the field that asks for it.
func printPending(cmd *cobra.Command, r *runner.Runner, set *kube.Set, done []runner.Outcome) {
	applied := map[string]bool{}
	for _, o := range done {
		if o.Kind == "pod" {
			applied[o.Namespace+"/"+o.Name] = true
		}
	}
	for _, p := range set.Pods {
		if !applied[p.Pod.Namespace+"/"+p.Pod.Name] {
			continue
		}
		if w := r.PendingWarning(p); w != "" {
			fmt.Fprintf(cmd.ErrOrStderr(), "Warning: %s\n", w)
		}
	}
}
