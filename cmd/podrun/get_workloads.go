package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8slabels "k8s.io/apimachinery/pkg/labels"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/podrun/podrun/runner"
)

// workloadResource is a workload kind as get names it: by the store's
// kind, kubectl's plural, singular and short names, and the columns
// kubectl prints after NAME (AGE comes last).
type workloadResource struct {
	kind, plural, apiGroup string
	short                  []string
	columns                []workloadColumn
	// wide are the columns -o wide adds after AGE.
	wide []workloadColumn
}

type workloadColumn struct {
	header string
	value  func(obj map[string]any) string
}

// workloadResources are the workload kinds get knows, each kind's
// controller file adding its columns (kubectl's) here.
var workloadResources = []*workloadResource{
	{kind: "deployment", plural: "deployments", apiGroup: "apps", short: []string{"deploy"}},
	{kind: "replicaset", plural: "replicasets", apiGroup: "apps", short: []string{"rs"}},
	{kind: "statefulset", plural: "statefulsets", apiGroup: "apps", short: []string{"sts"}},
	{kind: "daemonset", plural: "daemonsets", apiGroup: "apps", short: []string{"ds"}},
	{kind: "job", plural: "jobs", apiGroup: "batch"},
	{kind: "cronjob", plural: "cronjobs", apiGroup: "batch", short: []string{"cj"}},
}

// findWorkloadResource is the workload resource name names, or nil.
func findWorkloadResource(name string) *workloadResource {
	for _, res := range workloadResources {
		if name == res.kind || name == res.plural || slices.Contains(res.short, name) ||
			name == res.plural+"."+res.apiGroup || name == res.kind+"."+res.apiGroup {
			return res
		}
	}
	return nil
}

// getWorkloads prints the workloads of res, as kubectl's get does.
func getWorkloads(cmd *cobra.Command, g *globals, res *workloadResource, names []string, output string, allNamespaces bool, sel k8slabels.Selector) error {
	r, err := g.runner()
	if err != nil {
		return err
	}
	ns := g.ns()
	if allNamespaces {
		ns = ""
	}
	objs, err := listWorkloadObjects(r, res, ns, names, sel)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	switch output {
	case "", "wide":
		if len(objs) == 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "No resources found in %s namespace.\n", orAll(ns))
			return nil
		}
		return printWorkloadTable(w, res, objs, output == "wide", allNamespaces)
	case "json", "yaml":
		var v any = map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]any{"resourceVersion": ""}, "items": objs}
		if len(names) == 1 && len(objs) == 1 {
			v = objs[0]
		}
		return printStructured(w, v, output)
	}
	return fmt.Errorf("unknown output format %q: use wide, json or yaml", output)
}

// listWorkloadObjects are the workloads of res in ns (every namespace
// when empty), those named if names are given, whose labels sel matches.
func listWorkloadObjects(r *runner.Runner, res *workloadResource, ns string, names []string, sel k8slabels.Selector) ([]map[string]any, error) {
	all, err := r.ListWorkloads(res.kind, ns)
	if err != nil {
		return nil, err
	}
	list := all
	if len(names) > 0 {
		list = nil
		for _, n := range names {
			i := slices.IndexFunc(all, func(w runner.Workload) bool { return w.Name == n })
			if i < 0 {
				return nil, fmt.Errorf("%s.%s %q not found", res.plural, res.apiGroup, n)
			}
			list = append(list, all[i])
		}
	}
	objs := []map[string]any{}
	for _, w := range list {
		var obj map[string]any
		if err := json.Unmarshal(w.Object, &obj); err != nil {
			return nil, fmt.Errorf("reading %s %s/%s: %w", res.kind, w.Namespace, w.Name, err)
		}
		lbls, _, _ := unstructured.NestedStringMap(obj, "metadata", "labels")
		if sel.Matches(k8slabels.Set(lbls)) {
			objs = append(objs, obj)
		}
	}
	return objs, nil
}

func orAll(ns string) string {
	if ns == "" {
		return "any"
	}
	return ns
}

// printStructured prints v as kubectl's -o json (four-space indents)
// or -o yaml does.
func printStructured(w io.Writer, v any, output string) error {
	data, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	if output == "yaml" {
		if data, err = yaml.JSONToYAML(data); err != nil {
			return err
		}
	} else {
		data = append(data, '\n')
	}
	_, err = w.Write(data)
	return err
}

func printWorkloadTable(w io.Writer, res *workloadResource, objs []map[string]any, wide, withNamespace bool) error {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	var header []string
	if withNamespace {
		header = append(header, "NAMESPACE")
	}
	header = append(header, "NAME")
	for _, c := range res.columns {
		header = append(header, c.header)
	}
	header = append(header, "AGE")
	if wide {
		for _, c := range res.wide {
			header = append(header, c.header)
		}
	}
	fmt.Fprintln(tw, join(header))
	for _, obj := range objs {
		var row []string
		if withNamespace {
			row = append(row, text("metadata", "namespace")(obj))
		}
		row = append(row, text("metadata", "name")(obj))
		for _, c := range res.columns {
			row = append(row, c.value(obj))
		}
		created, _ := time.Parse(time.RFC3339, text("metadata", "creationTimestamp")(obj))
		row = append(row, age(created))
		if wide {
			for _, c := range res.wide {
				row = append(row, c.value(obj))
			}
		}
		fmt.Fprintln(tw, join(row))
	}
	return tw.Flush()
}

func join(cells []string) string { return strings.Join(cells, "\t") }
