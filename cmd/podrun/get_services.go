package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8slabels "k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner"
)

// isServiceKind says whether get or describe is given Services: services,
// service, svc.
func isServiceKind(name string) bool { return kube.ServiceResource.Matches(name) }

// getServices prints the stored Services as kubectl get services does.
func getServices(cmd *cobra.Command, g *globals, names []string, output string, allNamespaces bool, sel k8slabels.Selector) error {
	switch output {
	case "", "wide", "json", "yaml", "name":
	default:
		return fmt.Errorf("unknown output format %q for services: use wide, json, yaml or name", output)
	}
	r, err := g.runner()
	if err != nil {
		return err
	}
	ns := g.ns()
	if allNamespaces {
		ns = ""
	}
	all, err := r.Services(ns)
	if err != nil {
		return err
	}
	list, err := pickServices(all, names)
	if err != nil {
		return err
	}
	list = slices.DeleteFunc(list, func(s *corev1.Service) bool { return !sel.Matches(k8slabels.Set(s.Labels)) })
	return printServices(cmd.OutOrStdout(), list, output, allNamespaces, len(names) == 1)
}

func pickServices(all []*corev1.Service, names []string) ([]*corev1.Service, error) {
	if len(names) == 0 {
		return all, nil
	}
	var out []*corev1.Service
	for _, n := range names {
		i := slices.IndexFunc(all, func(s *corev1.Service) bool { return s.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("services %q not found", n)
		}
		out = append(out, all[i])
	}
	return out, nil
}

func printServices(w io.Writer, list []*corev1.Service, output string, allNamespaces, single bool) error {
	for _, s := range list {
		s.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}
	}
	switch output {
	case "name":
		for _, s := range list {
			fmt.Fprintf(w, "service/%s\n", s.Name)
		}
		return nil
	case "json", "yaml":
		if single && len(list) == 1 {
			return printStructured(w, list[0], output)
		}
		items := make([]any, len(list))
		for i, s := range list {
			items[i] = s
		}
		return printStructured(w, map[string]any{"apiVersion": "v1", "kind": "List", "metadata": map[string]any{"resourceVersion": ""}, "items": items}, output)
	}
	if len(list) == 0 {
		_, err := fmt.Fprintln(w, "No resources found.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	header := []string{"NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"}
	if allNamespaces {
		header = append([]string{"NAMESPACE"}, header...)
	}
	if output == "wide" {
		header = append(header, "SELECTOR")
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, s := range list {
		row := []string{s.Name, string(s.Spec.Type), orNone(s.Spec.ClusterIP), serviceExternalIP(s), servicePorts(s.Spec.Ports),
			age(s.CreationTimestamp.Time)}
		if allNamespaces {
			row = append([]string{s.Namespace}, row...)
		}
		if output == "wide" {
			row = append(row, orNone(k8slabels.FormatLabels(s.Spec.Selector)))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

// serviceExternalIP is kubectl's EXTERNAL-IP column: the externalName of
// an ExternalName Service, a LoadBalancer's ingress (<pending> until it
// has one), and the externalIPs.
func serviceExternalIP(s *corev1.Service) string {
	switch s.Spec.Type {
	case corev1.ServiceTypeExternalName:
		return s.Spec.ExternalName
	case corev1.ServiceTypeLoadBalancer:
		var ips []string
		for _, in := range s.Status.LoadBalancer.Ingress {
			ips = append(ips, cmpOr(in.IP, in.Hostname))
		}
		ips = append(ips, s.Spec.ExternalIPs...)
		if len(ips) == 0 {
			return "<pending>"
		}
		return strings.Join(ips, ",")
	}
	return orNone(strings.Join(s.Spec.ExternalIPs, ","))
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// servicePorts is kubectl's PORT(S) column: 80/TCP, 80:30080/TCP, joined
// by commas.
func servicePorts(ports []corev1.ServicePort) string {
	if len(ports) == 0 {
		return "<none>"
	}
	var out []string
	for _, p := range ports {
		if p.NodePort > 0 {
			out = append(out, fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol))
		} else {
			out = append(out, fmt.Sprintf("%d/%s", p.Port, p.Protocol))
		}
	}
	return strings.Join(out, ",")
}

// describeServiceNamed prints Service namespace/name as kubectl describe
// service does, with its Endpoints when stored.
func (g *globals) describeServiceNamed(_ context.Context, out io.Writer, name string) error {
	r, err := g.runner()
	if err != nil {
		return err
	}
	all, err := r.Services(g.ns())
	if err != nil {
		return err
	}
	list, err := pickServices(all, []string{name})
	if err != nil {
		return err
	}
	ep, err := r.ServiceEndpoints(g.ns(), name)
	if err != nil {
		return err
	}
	return describeService(out, list[0], ep)
}

// describeService prints a Service in kubectl's layout.
func describeService(out io.Writer, s *corev1.Service, ep *corev1.Endpoints) error {
	f := newFields(out)
	spec := &s.Spec
	f.add("Name", "%s", s.Name)
	f.add("Namespace", "%s", s.Namespace)
	f.add("Labels", "%s", labels(s.Labels))
	f.add("Annotations", "%s", annotations(s.Annotations))
	f.add("Selector", "%s", orNone(k8slabels.FormatLabels(spec.Selector)))
	f.add("Type", "%s", spec.Type)
	if spec.IPFamilyPolicy != nil {
		f.add("IP Family Policy", "%s", *spec.IPFamilyPolicy)
	}
	if len(spec.IPFamilies) > 0 {
		var fams []string
		for _, fam := range spec.IPFamilies {
			fams = append(fams, string(fam))
		}
		f.add("IP Families", "%s", strings.Join(fams, ","))
	}
	if spec.Type != corev1.ServiceTypeExternalName {
		f.add("IP", "%s", spec.ClusterIP)
		f.add("IPs", "%s", strings.Join(spec.ClusterIPs, ","))
	}
	if spec.LoadBalancerIP != "" {
		f.add("Desired LoadBalancer IP", "%s", spec.LoadBalancerIP)
	}
	if len(spec.ExternalIPs) > 0 {
		f.add("External IPs", "%s", strings.Join(spec.ExternalIPs, ","))
	}
	var ingress []string
	for _, in := range s.Status.LoadBalancer.Ingress {
		ingress = append(ingress, cmpOr(in.IP, in.Hostname))
	}
	if len(ingress) > 0 {
		f.add("LoadBalancer Ingress", "%s", strings.Join(ingress, ", "))
	}
	if spec.Type == corev1.ServiceTypeExternalName {
		f.add("External Name", "%s", spec.ExternalName)
	}
	for _, p := range spec.Ports {
		name := cmpOr(p.Name, "<unset>")
		f.add("Port", "%s\t%d/%s", name, p.Port, p.Protocol)
		if p.TargetPort.Type == intstr.Int {
			f.add("TargetPort", "%d/%s", p.TargetPort.IntVal, p.Protocol)
		} else {
			f.add("TargetPort", "%s/%s", p.TargetPort.StrVal, p.Protocol)
		}
		if p.NodePort != 0 {
			f.add("NodePort", "%s\t%d/%s", name, p.NodePort, p.Protocol)
		}
		f.add("Endpoints", "%s", endpointsText(ep, &p.Name))
	}
	if len(spec.Ports) == 0 {
		f.add("Endpoints", "%s", endpointsText(ep, nil))
	}
	f.add("Session Affinity", "%s", spec.SessionAffinity)
	if spec.ExternalTrafficPolicy != "" {
		f.add("External Traffic Policy", "%s", spec.ExternalTrafficPolicy)
	}
	if spec.InternalTrafficPolicy != nil {
		f.add("Internal Traffic Policy", "%s", *spec.InternalTrafficPolicy)
	}
	if len(spec.LoadBalancerSourceRanges) > 0 {
		f.add("LoadBalancer Source Ranges", "%s", strings.Join(spec.LoadBalancerSourceRanges, ","))
	}
	if err := f.flush(); err != nil {
		return err
	}
	return describeEvents(out, nil)
}

// endpointsText lists the addresses of the Endpoints' port named port
// (every port when nil) as kubectl describe does: three at most, then
// how many more; <none> when there are none.
func endpointsText(ep *corev1.Endpoints, port *string) string {
	const most = 3
	var list []string
	count := 0
	add := func(s string) {
		if len(list) < most {
			list = append(list, s)
		}
		count++
	}
	if ep != nil {
		for _, ss := range ep.Subsets {
			if len(ss.Ports) == 0 {
				for _, a := range ss.Addresses {
					add(a.IP)
				}
				continue
			}
			for _, p := range ss.Ports {
				if port != nil && p.Name != *port {
					continue
				}
				for _, a := range ss.Addresses {
					add(net.JoinHostPort(a.IP, strconv.Itoa(int(p.Port))))
				}
			}
		}
	}
	switch {
	case count == 0:
		return "<none>"
	case count > most:
		return fmt.Sprintf("%s + %d more...", strings.Join(list, ","), count-most)
	}
	return strings.Join(list, ",")
}

// serviceLister lists Services for get of several kinds (get_many.go),
// printed as get services prints them.
func serviceLister(name string) *kindLister {
	if !isServiceKind(name) {
		return nil
	}
	return &kindLister{
		printed: "service",
		list: func(_ context.Context, r *runner.Runner, ns string, names []string, sel k8slabels.Selector) ([]map[string]any, error) {
			all, err := r.Services(ns)
			if err != nil {
				return nil, err
			}
			list, err := pickServices(all, names)
			var out []map[string]any
			for _, s := range list {
				if !sel.Matches(k8slabels.Set(s.Labels)) {
					continue
				}
				s.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}
				obj, convErr := runtime.DefaultUnstructuredConverter.ToUnstructured(s)
				if convErr != nil {
					return nil, fmt.Errorf("reading service %s/%s: %w", s.Namespace, s.Name, convErr)
				}
				out = append(out, obj)
			}
			return out, err
		},
		table: func(w io.Writer, objs []map[string]any, wide, withNamespace bool) error {
			list := make([]*corev1.Service, len(objs))
			for i, o := range objs {
				list[i] = &corev1.Service{}
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o, list[i]); err != nil {
					return err
				}
			}
			output := ""
			if wide {
				output = "wide"
			}
			return printServices(w, list, output, withNamespace, false)
		},
	}
}
