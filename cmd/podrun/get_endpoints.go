package main

import (
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8slabels "k8s.io/apimachinery/pkg/labels"

	"github.com/podrun/podrun/runner/objects"
)

// endpointKinds are the names get takes for the objects Services'
// endpoints are kept in, as kubectl's: the kind each stands for.
var endpointKinds = map[string]string{
	"endpoints": "Endpoints", "ep": "Endpoints", "endpoint": "Endpoints",
	"endpointslices": "EndpointSlice", "endpointslice": "EndpointSlice",
	"endpointslices.discovery.k8s.io": "EndpointSlice", "endpointslice.discovery.k8s.io": "EndpointSlice",
}

// getEndpoints lists Endpoints (NAME ENDPOINTS AGE) or EndpointSlices
// (NAME ADDRESSTYPE PORTS ENDPOINTS AGE) as kubectl does, or prints them
// with -o json|yaml: the object when one name is given, a v1 List
// otherwise.
func getEndpoints(cmd *cobra.Command, g *globals, kind string, names []string, output string, allNamespaces bool, sel k8slabels.Selector) error {
	if output != "" && output != "wide" && output != "json" && output != "yaml" {
		return fmt.Errorf("unknown output format %q for %s: use wide, json or yaml", output, kind)
	}
	r, err := g.runner()
	if err != nil {
		return err
	}
	ns := g.ns()
	if allNamespaces {
		ns = ""
	}
	var rows []endpointRow
	if endpointKinds[kind] == "Endpoints" {
		rows, err = listEndpointRows(r.Objects().Endpoints, ns, endpointsRow)
	} else {
		rows, err = listEndpointRows(r.Objects().EndpointSlices, ns, sliceRow)
	}
	if err != nil {
		return err
	}
	if len(names) > 0 {
		var picked []endpointRow
		for _, n := range names {
			i := slices.IndexFunc(rows, func(row endpointRow) bool { return row.meta.Name == n })
			if i < 0 {
				return fmt.Errorf("%s %q not found", strings.ToLower(endpointKinds[kind]), n)
			}
			picked = append(picked, rows[i])
		}
		rows = picked
	}
	rows = slices.DeleteFunc(rows, func(row endpointRow) bool { return !sel.Matches(k8slabels.Set(row.meta.Labels)) })
	w := cmd.OutOrStdout()
	switch {
	case output == "json" || output == "yaml":
		var v any = map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]any{"resourceVersion": ""}, "items": objectsOf(rows)}
		if len(names) == 1 && len(rows) == 1 {
			v = rows[0].obj
		}
		return printStructured(w, v, output)
	case endpointKinds[kind] == "Endpoints":
		return printEndpointRows(w, rows, []string{"NAME", "ENDPOINTS", "AGE"}, allNamespaces)
	default:
		return printEndpointRows(w, rows, []string{"NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"}, allNamespaces)
	}
}

// endpointRow is one object with its table cells between NAME and AGE.
type endpointRow struct {
	meta  metav1.ObjectMeta
	obj   any
	cells []string
}

func listEndpointRows[T any](b objects.Bucket[T], ns string, row func(*T) endpointRow) ([]endpointRow, error) {
	var items []*T
	var err error
	if ns == "" {
		items, err = b.All()
	} else {
		items, err = b.Items(ns)
	}
	if err != nil {
		return nil, err
	}
	out := make([]endpointRow, len(items))
	for i, it := range items {
		out[i] = row(it)
	}
	return out, nil
}

func endpointsRow(ep *corev1.Endpoints) endpointRow {
	ep.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Endpoints"}
	return endpointRow{meta: ep.ObjectMeta, obj: ep, cells: []string{formatEndpoints(ep)}}
}

func sliceRow(s *discoveryv1.EndpointSlice) endpointRow {
	s.TypeMeta = metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"}
	return endpointRow{meta: s.ObjectMeta, obj: s, cells: []string{string(s.AddressType), slicePorts(s), sliceAddresses(s)}}
}

func objectsOf(rows []endpointRow) []any {
	out := make([]any, len(rows))
	for i, r := range rows {
		out[i] = r.obj
	}
	return out
}

func printEndpointRows(w io.Writer, rows []endpointRow, header []string, withNamespace bool) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "No resources found.")
		return err
	}
	if withNamespace {
		header = append([]string{"NAMESPACE"}, header...)
	}
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		cells := append([]string{r.meta.Name}, r.cells...)
		if withNamespace {
			cells = append([]string{r.meta.Namespace}, cells...)
		}
		fmt.Fprintln(tw, strings.Join(append(cells, age(r.meta.CreationTimestamp.Time)), "\t"))
	}
	return tw.Flush()
}

// endpointsShown is how many addresses kubectl's ENDPOINTS column shows
// before "+ N more...".
const endpointsShown = 3

// shortList is kubectl's cut of a list: the first three, then how many
// more there are.
func shortList(list []string, total int, empty string) string {
	if len(list) == 0 {
		return empty
	}
	s := strings.Join(list, ",")
	if total > len(list) {
		s += fmt.Sprintf(" + %d more...", total-len(list))
	}
	return s
}

// formatEndpoints is kubectl's ENDPOINTS of an Endpoints: the ready
// addresses with each port, "ip:port".
func formatEndpoints(ep *corev1.Endpoints) string {
	var list []string
	total := 0
	add := func(s string) {
		total++
		if len(list) < endpointsShown {
			list = append(list, s)
		}
	}
	for _, ss := range ep.Subsets {
		if len(ss.Ports) == 0 { // a headless Service without ports
			for _, a := range ss.Addresses {
				add(a.IP)
			}
			continue
		}
		for _, p := range ss.Ports {
			for _, a := range ss.Addresses {
				add(net.JoinHostPort(a.IP, strconv.Itoa(int(p.Port))))
			}
		}
	}
	return shortList(list, total, "<none>")
}

// slicePorts is kubectl's PORTS of an EndpointSlice.
func slicePorts(s *discoveryv1.EndpointSlice) string {
	var list []string
	for _, p := range s.Ports {
		if len(list) == endpointsShown {
			break
		}
		if p.Port == nil {
			list = append(list, "<unset>")
		} else {
			list = append(list, strconv.Itoa(int(*p.Port)))
		}
	}
	return shortList(list, len(s.Ports), "<unset>")
}

// sliceAddresses is kubectl's ENDPOINTS of an EndpointSlice: every
// endpoint's addresses, ready or not.
func sliceAddresses(s *discoveryv1.EndpointSlice) string {
	var list []string
	total := 0
	for _, e := range s.Endpoints {
		for _, a := range e.Addresses {
			total++
			if len(list) < endpointsShown {
				list = append(list, a)
			}
		}
	}
	return shortList(list, total, "<unset>")
}
