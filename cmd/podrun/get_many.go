package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8slabels "k8s.io/apimachinery/pkg/labels"

	"github.com/spf13/cobra"

	"github.com/podrun/podrun/runner"
)

// kindLister is one kind get lists beside others, as in `get deploy,rs`,
// `get all` or `get deploy/web pod/x`.
type kindLister struct {
	// printed is "deployment.apps": what -o name and the NAME column
	// put before a name.
	printed string
	// list are the objects in ns (every namespace when empty), those
	// named if names are given, whose labels sel matches.
	list func(ctx context.Context, r *runner.Runner, ns string, names []string, sel k8slabels.Selector) ([]map[string]any, error)
	// table prints them as get of this kind alone does.
	table func(w io.Writer, objs []map[string]any, wide, withNamespace bool) error
}

// listerFinders find the lister of a name get is given, in turn; the
// stored objects' lister comes after them. A kind with its own printer
// plugs in here with one entry.
var listerFinders = []func(name string) *kindLister{podLister, workloadLister, serviceLister}

// allCategory is kubectl's "all": the kinds get all lists, in its order.
// Those podrun does not know are left out.
var allCategory = []string{"pods", "replicationcontrollers", "services", "daemonsets", "deployments", "replicasets",
	"statefulsets", "horizontalpodautoscalers", "cronjobs", "jobs"}

// kindGroup is one kind get was asked for, with the names asked.
type kindGroup struct {
	kind  string
	names []string
	// ofAll is a kind of "all": left out when podrun does not have it.
	ofAll bool
}

// parseKinds reads get's arguments when they name several kinds:
// "deploy,rs [NAME...]", "all", "deploy/web pod/x", or any kind with
// -o name. It returns nil for one kind, left to the other paths.
func parseKinds(args []string, output string) (groups []kindGroup, prefixed bool, err error) {
	switch {
	case strings.Contains(args[0], "/"):
		for _, a := range args {
			k, name, ok := strings.Cut(a, "/")
			if !ok || k == "" || name == "" {
				return nil, false, fmt.Errorf("there is no need to give a resource type as a separate argument when passing arguments in resource/name form (got %q): use TYPE/NAME for each", a)
			}
			if len(groups) > 0 && groups[len(groups)-1].kind == k {
				groups[len(groups)-1].names = append(groups[len(groups)-1].names, name)
				continue
			}
			groups = append(groups, kindGroup{kind: k, names: []string{name}})
		}
		if len(groups) == 1 && output != "name" {
			return nil, false, nil
		}
		return groups, len(groups) > 1, nil
	case args[0] == "all" || strings.Contains(args[0], ","):
		for _, k := range strings.Split(args[0], ",") {
			if k == "" {
				return nil, false, fmt.Errorf("empty resource type in %q: give kinds as deploy,rs", args[0])
			}
			if k == "all" {
				for _, a := range allCategory {
					groups = append(groups, kindGroup{kind: a, names: args[1:], ofAll: true})
				}
				continue
			}
			groups = append(groups, kindGroup{kind: k, names: args[1:]})
		}
		return groups, true, nil
	case output == "name":
		return []kindGroup{{kind: args[0], names: args[1:]}}, false, nil
	}
	return nil, false, nil
}

// getMany prints the objects of several kinds as kubectl does: one table
// per kind with its NAME prefixed by the kind, a blank line between; -o
// name as kind.group/name; -o json|yaml as one v1 List. Kinds with
// nothing are left out; a name not found is an error once the rest is
// printed.
func getMany(cmd *cobra.Command, g *globals, groups []kindGroup, prefixed bool, output string, allNamespaces bool, sel k8slabels.Selector) error {
	switch output {
	case "", "wide", "name", "json", "yaml":
	default:
		return fmt.Errorf("unknown output format %q: use wide, name, json or yaml", output)
	}
	r, err := g.runner()
	if err != nil {
		return err
	}
	ns := g.ns()
	if allNamespaces {
		ns = ""
	}
	w := cmd.OutOrStdout()
	var errs []error
	var items []any
	printed := 0
	for _, grp := range groups {
		l, err := findLister(r, grp.kind)
		if err != nil {
			if grp.ofAll {
				continue // a kind of "all" podrun does not have
			}
			return err
		}
		objs, err := l.list(contextOf(cmd), r, ns, grp.names, sel)
		if err != nil {
			errs = append(errs, err)
		}
		if len(objs) == 0 {
			continue
		}
		switch output {
		case "name":
			for _, o := range objs {
				fmt.Fprintf(w, "%s/%s\n", l.printed, text("metadata", "name")(o))
			}
		case "json", "yaml":
			for _, o := range objs {
				items = append(items, o)
			}
		default:
			if printed > 0 {
				fmt.Fprintln(w)
			}
			if prefixed {
				objs = withPrefix(objs, l.printed+"/")
			}
			if err := l.table(w, objs, output == "wide", allNamespaces); err != nil {
				return err
			}
		}
		printed++
	}
	switch {
	case output == "json" || output == "yaml":
		if items == nil {
			items = []any{}
		}
		if err := printStructured(w, map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]any{"resourceVersion": ""}, "items": items}, output); err != nil {
			return err
		}
	case printed == 0 && len(errs) == 0:
		fmt.Fprintf(cmd.ErrOrStderr(), "No resources found in %s namespace.\n", orAll(ns))
	}
	return errors.Join(errs...)
}

// withPrefix are copies of objs whose names begin with prefix, as the
// NAME column of several kinds prints them.
func withPrefix(objs []map[string]any, prefix string) []map[string]any {
	out := make([]map[string]any, len(objs))
	for i, o := range objs {
		c := maps.Clone(o)
		md, _ := o["metadata"].(map[string]any)
		md = maps.Clone(md)
		if md == nil {
			md = map[string]any{}
		}
		md["name"] = prefix + fmt.Sprint(md["name"])
		c["metadata"] = md
		out[i] = c
	}
	return out
}

// findLister is the lister of the kind name names.
func findLister(r *runner.Runner, name string) (*kindLister, error) {
	for _, find := range listerFinders {
		if l := find(name); l != nil {
			return l, nil
		}
	}
	res, err := resolveResource(r, name)
	if err != nil {
		return nil, err
	}
	return &kindLister{
		printed: res.Printed(),
		list: func(_ context.Context, r *runner.Runner, ns string, names []string, sel k8slabels.Selector) ([]map[string]any, error) {
			if !res.Namespaced {
				ns = ""
			}
			objs, err := listStoredObjects(r, res, ns, names, sel)
			out := make([]map[string]any, len(objs))
			for i, o := range objs {
				out[i] = o.Object
			}
			return out, err
		},
		table: func(w io.Writer, objs []map[string]any, _, withNamespace bool) error {
			us := make([]*unstructured.Unstructured, len(objs))
			for i, o := range objs {
				us[i] = &unstructured.Unstructured{Object: o}
			}
			return printObjectTable(w, res, us, withNamespace && res.Namespaced)
		},
	}, nil
}

func workloadLister(name string) *kindLister {
	res := findWorkloadResource(name)
	if res == nil {
		return nil
	}
	return &kindLister{
		printed: res.kind + "." + res.apiGroup,
		list: func(_ context.Context, r *runner.Runner, ns string, names []string, sel k8slabels.Selector) ([]map[string]any, error) {
			return listWorkloadObjects(r, res, ns, names, sel)
		},
		table: func(w io.Writer, objs []map[string]any, wide, withNamespace bool) error {
			return printWorkloadTable(w, res, objs, wide, withNamespace)
		},
	}
}

func podLister(name string) *kindLister {
	if !isPodKind(name) {
		return nil
	}
	return &kindLister{printed: "pod", list: listPodObjects, table: printPodObjects}
}

func listPodObjects(ctx context.Context, r *runner.Runner, ns string, names []string, sel k8slabels.Selector) ([]map[string]any, error) {
	pods, err := r.List(ctx, ns)
	if err != nil {
		return nil, err
	}
	var errs []error
	if len(names) > 0 {
		var picked []corev1.Pod
		for _, n := range names {
			p, err := pick(pods, []string{n})
			errs = append(errs, err)
			picked = append(picked, p...)
		}
		pods = picked
	}
	var out []map[string]any
	for _, p := range pods {
		if !sel.Matches(k8slabels.Set(p.Labels)) {
			continue
		}
		p.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
		data, err := json.Marshal(p)
		var obj map[string]any
		if err == nil {
			err = json.Unmarshal(data, &obj)
		}
		if err != nil {
			return nil, fmt.Errorf("reading pod %s/%s: %w", p.Namespace, p.Name, err)
		}
		out = append(out, obj)
	}
	return out, errors.Join(errs...)
}

func printPodObjects(w io.Writer, objs []map[string]any, wide, withNamespace bool) error {
	pods := make([]corev1.Pod, len(objs))
	for i, o := range objs {
		if !decodeMap(o, &pods[i]) {
			return fmt.Errorf("reading pod %v", text("metadata", "name")(o))
		}
	}
	return printTable(w, pods, wide, withNamespace)
}
