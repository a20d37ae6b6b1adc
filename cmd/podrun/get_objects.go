package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	k8slabels "k8s.io/apimachinery/pkg/labels"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner"
)

// getObjects lists the stored objects of a kind other than pods:
// NAME (with NAMESPACE under -A), a kind's own columns and AGE, or
// -o json|yaml as a v1 List (the object itself when one name is given).
func getObjects(cmd *cobra.Command, g *globals, kind string, names []string, output string, allNamespaces bool, sel k8slabels.Selector) error {
	if output != "" && output != "json" && output != "yaml" {
		return fmt.Errorf("unknown output format %q for %s: use json or yaml", output, kind)
	}
	r, err := g.runner()
	if err != nil {
		return err
	}
	res, err := resolveResource(r, kind)
	if err != nil {
		return err
	}
	ns := g.ns()
	if allNamespaces || !res.Namespaced {
		ns = ""
	}
	objs, err := listStoredObjects(r, res, ns, names, sel)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if output == "" {
		return printObjectTable(w, res, objs, allNamespaces && res.Namespaced)
	}
	var v any = map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]any{"resourceVersion": ""}, "items": items(objs)}
	if len(names) == 1 && len(objs) == 1 {
		v = objs[0].Object
	}
	return printStructured(w, v, output)
}

// listStoredObjects are the stored objects of res in ns (every namespace
// when empty), those named if names are given, whose labels sel matches.
func listStoredObjects(r *runner.Runner, res kube.Resource, ns string, names []string, sel k8slabels.Selector) ([]*unstructured.Unstructured, error) {
	objs, err := r.Stored(res, ns)
	if err != nil {
		return nil, err
	}
	if len(names) > 0 {
		if objs, err = pickObjects(res, objs, names); err != nil {
			return nil, err
		}
	}
	return slices.DeleteFunc(objs, func(o *unstructured.Unstructured) bool { return !sel.Matches(k8slabels.Set(o.GetLabels())) }), nil
}

func items(objs []*unstructured.Unstructured) []any {
	out := make([]any, len(objs))
	for i, o := range objs {
		out[i] = o.Object
	}
	return out
}

// resolveResource finds the resource a name given to get names: a kind
// podrun has, or one a stored CustomResourceDefinition defines.
func resolveResource(r *runner.Runner, name string) (kube.Resource, error) {
	defs, err := r.Definitions()
	if err != nil {
		return kube.Resource{}, err
	}
	all := kube.Kinds
	for _, d := range defs {
		all = append(all[:len(all):len(all)], kube.CustomResource(d))
	}
	for _, res := range all {
		if res.Matches(name) {
			return res, nil
		}
	}
	var known []string
	for _, res := range all {
		n := res.Plural
		if len(res.Short) > 0 {
			n += " (" + strings.Join(res.Short, ", ") + ")"
		}
		known = append(known, n)
	}
	return kube.Resource{}, fmt.Errorf("the server doesn't have a resource type %q\npodrun has: %s", name, strings.Join(known, ", "))
}

func pickObjects(res kube.Resource, objs []*unstructured.Unstructured, names []string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, n := range names {
		found := false
		for _, o := range objs {
			if o.GetName() == n {
				out = append(out, o)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("%s %q not found", res.Qualified(), n)
		}
	}
	return out, nil
}

func printObjectTable(w io.Writer, res kube.Resource, objs []*unstructured.Unstructured, withNamespace bool) error {
	if len(objs) == 0 {
		_, err := fmt.Fprintln(w, "No resources found.")
		return err
	}
	cols := columns[res.Qualified()]
	header := []string{"NAME"}
	if withNamespace {
		header = append([]string{"NAMESPACE"}, header...)
	}
	for _, c := range cols {
		header = append(header, c.header)
	}
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, strings.Join(append(header, "AGE"), "\t"))
	for _, o := range objs {
		row := []string{o.GetName()}
		if withNamespace {
			row = append([]string{o.GetNamespace()}, row...)
		}
		for _, c := range cols {
			row = append(row, c.value(o.Object))
		}
		row = append(row, age(o.GetCreationTimestamp().Time))
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

// column is one of a kind's own columns in get's table, as kubectl
// prints it.
type column struct {
	header string
	value  func(obj map[string]any) string
}

// columns are the kinds' own columns, those cheap to compute, by
// resource.
var columns = map[string][]column{
	"configmaps":      {{"DATA", count("data", "binaryData")}},
	"secrets":         {{"TYPE", text("type")}, {"DATA", count("data")}},
	"serviceaccounts": {{"SECRETS", count("secrets")}},
	"namespaces":      {{"STATUS", text("status", "phase")}},
	"persistentvolumeclaims": {{"STATUS", text("status", "phase")}, {"CAPACITY", text("spec", "resources", "requests", "storage")},
		{"ACCESS MODES", accessModes}},
	"rolebindings.rbac.authorization.k8s.io":        {{"ROLE", roleRef}},
	"clusterrolebindings.rbac.authorization.k8s.io": {{"ROLE", roleRef}},
	"poddisruptionbudgets.policy": {{"MIN AVAILABLE", orNA("spec", "minAvailable")},
		{"MAX UNAVAILABLE", orNA("spec", "maxUnavailable")}},
	"horizontalpodautoscalers.autoscaling": {{"REFERENCE", scaleTarget}, {"MINPODS", text("spec", "minReplicas")},
		{"MAXPODS", text("spec", "maxReplicas")}},
	"networkpolicies.networking.k8s.io": {{"POD-SELECTOR", podSelector}},
	"ingresses.networking.k8s.io":       {{"CLASS", text("spec", "ingressClassName")}, {"HOSTS", hosts}},
	"ingressclasses.networking.k8s.io":  {{"CONTROLLER", text("spec", "controller")}},
	"priorityclasses.scheduling.k8s.io": {{"VALUE", text("value")}, {"GLOBAL-DEFAULT", boolean("globalDefault")}},
}

// text is a field's value, or <none>.
func text(path ...string) func(map[string]any) string {
	return func(obj map[string]any) string {
		v, ok, _ := unstructured.NestedFieldNoCopy(obj, path...)
		if !ok || v == nil || v == "" {
			return "<none>"
		}
		return fmt.Sprint(v)
	}
}

func orNA(path ...string) func(map[string]any) string {
	return func(obj map[string]any) string {
		if v := text(path...)(obj); v != "<none>" {
			return v
		}
		return "N/A"
	}
}

func boolean(path ...string) func(map[string]any) string {
	return func(obj map[string]any) string {
		v, _, _ := unstructured.NestedBool(obj, path...)
		return fmt.Sprint(v)
	}
}

// count is the number of entries of maps or lists, added up.
func count(fields ...string) func(map[string]any) string {
	return func(obj map[string]any) string {
		n := 0
		for _, f := range fields {
			switch v := obj[f].(type) {
			case map[string]any:
				n += len(v)
			case []any:
				n += len(v)
			}
		}
		return fmt.Sprint(n)
	}
}

func roleRef(obj map[string]any) string {
	kind, _, _ := unstructured.NestedString(obj, "roleRef", "kind")
	name, _, _ := unstructured.NestedString(obj, "roleRef", "name")
	return kind + "/" + name
}

func scaleTarget(obj map[string]any) string {
	kind, _, _ := unstructured.NestedString(obj, "spec", "scaleTargetRef", "kind")
	name, _, _ := unstructured.NestedString(obj, "spec", "scaleTargetRef", "name")
	return kind + "/" + name
}

// podSelector is a NetworkPolicy's selector as kubectl prints it, its
// matchLabels as a=b,c=d, or <none> for every pod.
func podSelector(obj map[string]any) string {
	labels, _, _ := unstructured.NestedStringMap(obj, "spec", "podSelector", "matchLabels")
	exprs, _, _ := unstructured.NestedSlice(obj, "spec", "podSelector", "matchExpressions")
	if len(labels) == 0 && len(exprs) == 0 {
		return "<none>"
	}
	var parts []string
	for k, v := range labels {
		parts = append(parts, k+"="+v)
	}
	if len(exprs) > 0 {
		parts = append(parts, fmt.Sprintf("%d expression(s)", len(exprs)))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

func hosts(obj map[string]any) string {
	rules, _, _ := unstructured.NestedSlice(obj, "spec", "rules")
	var hs []string
	for _, r := range rules {
		if m, ok := r.(map[string]any); ok {
			if h, ok := m["host"].(string); ok && h != "" {
				hs = append(hs, h)
			}
		}
	}
	if len(hs) == 0 {
		return "*"
	}
	return strings.Join(hs, ",")
}

var accessModeShort = map[string]string{"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}

func accessModes(obj map[string]any) string {
	modes, _, _ := unstructured.NestedStringSlice(obj, "spec", "accessModes")
	var out []string
	for _, m := range modes {
		out = append(out, accessModeShort[m])
	}
	return strings.Join(out, ",")
}
