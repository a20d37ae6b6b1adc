package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	k8slabels "k8s.io/apimachinery/pkg/labels"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

func newGetCommand(g *globals) *cobra.Command {
	var (
		output        string
		allNamespaces bool
		watch         bool
		selector      string
	)
	cmd := &cobra.Command{
		Use:   "get RESOURCE [NAME...] | RESOURCE/NAME...",
		Short: "List pods and their status, or the other objects applied, as kubectl does",
		Long: `get lists pods, or the objects of any other kind podrun has stored: services,
configmaps, secrets, persistentvolumeclaims, serviceaccounts, roles, namespaces, ... and
custom resources, by kubectl's plural, singular or short names (sa, cm, ns,
pdb, hpa, netpol, crd, ...). Several kinds at once, as kubectl: deploy,rs,
TYPE/NAME of different kinds, or all; each kind's table on its own, names
prefixed by their kind. -o name prints kind.group/name.`,
		Example: `  podrun get pods
  podrun get pods -o wide
  podrun get pod hello -o yaml
  podrun get pods -w
  podrun get svc -o wide
  podrun get sa
  podrun get sa/robot -o yaml
  podrun get deploy,rs -l app=web
  podrun get all -A
  podrun get deploy/web pod/web-5d9c-x7k2p -o name
  podrun get configmaps -A
  podrun get crontabs my-cron -o yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sel, err := k8slabels.Parse(selector)
			if err != nil {
				return fmt.Errorf("--selector %q: %w", selector, err)
			}
			groups, prefixed, err := parseKinds(args, output)
			if err != nil {
				return err
			}
			if groups != nil {
				if watch {
					return fmt.Errorf("podrun watches pods only: podrun get pods -w")
				}
				return getMany(cmd, g, groups, prefixed, output, allNamespaces, sel)
			}
			if args, err = kindAndNames(args); err != nil {
				return err
			}
			if _, ok := endpointKinds[args[0]]; ok && !watch {
				return getEndpoints(cmd, g, args[0], args[1:], output, allNamespaces, sel)
			}
			if res := findWorkloadResource(args[0]); res != nil {
				if watch {
					return fmt.Errorf("podrun watches pods only: podrun get pods -w")
				}
				return getWorkloads(cmd, g, res, args[1:], output, allNamespaces, sel)
			}
			if isServiceKind(args[0]) && !watch {
				return getServices(cmd, g, args[1:], output, allNamespaces, sel)
			}
			if !isPodKind(args[0]) {
				if watch {
					return fmt.Errorf("podrun watches pods only: podrun get pods -w")
				}
				return getObjects(cmd, g, args[0], args[1:], output, allNamespaces, sel)
			}
			for _, n := range args[1:] {
				if _, err := g.podRef(n); err != nil {
					return err
				}
			}
			r, err := g.runner()
			if err != nil {
				return err
			}
			ns := g.ns()
			if allNamespaces {
				ns = ""
			}
			if watch && !sel.Empty() {
				return fmt.Errorf("podrun get pods -w watches every pod: leave out --selector")
			}
			if watch {
				return watchPods(contextOf(cmd), r, ns, args[1:], output == "wide", allNamespaces, cmd.OutOrStdout())
			}
			pods, err := r.List(contextOf(cmd), ns)
			if err != nil {
				return err
			}
			if names := args[1:]; len(names) > 0 {
				if pods, err = pick(pods, names); err != nil {
					return err
				}
			}
			pods = slices.DeleteFunc(pods, func(p corev1.Pod) bool { return !sel.Matches(k8slabels.Set(p.Labels)) })
			single := len(args) == 2
			return printPods(cmd.OutOrStdout(), pods, output, allNamespaces, single)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: wide, name, json or yaml")
	cmd.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "list the objects of every namespace")
	cmd.Flags().StringVarP(&selector, "selector", "l", "", "only the objects with these labels (app=web,tier!=db, env in (a,b)), as kubectl's -l")
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "after the table, print a row again each time a pod changes, until Ctrl-C")
	return cmd
}

// kindAndNames reads kubectl's RESOURCE/NAME form, "sa/a sa/b", as
// "sa a b": one kind at a time.
func kindAndNames(args []string) ([]string, error) {
	if !strings.Contains(args[0], "/") {
		return args, nil
	}
	var kind string
	names := []string{}
	for _, a := range args {
		k, name, ok := strings.Cut(a, "/")
		if !ok || k == "" || name == "" || (kind != "" && k != kind) {
			return nil, fmt.Errorf("give one kind of objects, as RESOURCE NAME... or RESOURCE/NAME... (got %q)", a)
		}
		kind = k
		names = append(names, name)
	}
	return append([]string{kind}, names...), nil
}

func pick(pods []corev1.Pod, names []string) ([]corev1.Pod, error) {
	var out []corev1.Pod
	for _, n := range names {
		found := false
		for _, p := range pods {
			if p.Name == n {
				out = append(out, p)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("pods %q not found", n)
		}
	}
	return out, nil
}

func printPods(w io.Writer, pods []corev1.Pod, output string, allNamespaces, single bool) error {
	switch output {
	case "", "wide":
		return printTable(w, pods, output == "wide", allNamespaces)
	case "json", "yaml":
		var v any
		if single && len(pods) == 1 {
			p := pods[0]
			p.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
			v = p
		} else {
			list := corev1.PodList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PodList"}, Items: pods}
			for i := range list.Items {
				list.Items[i].TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
			}
			v = list
		}
		return printStructured(w, v, output)
	default:
		return fmt.Errorf("unknown output format %q: use wide, json or yaml", output)
	}
}

func printTable(w io.Writer, pods []corev1.Pod, wide, allNamespaces bool) error {
	if len(pods) == 0 {
		_, err := fmt.Fprintln(w, "No resources found.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	header := []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE"}
	if allNamespaces {
		header = append([]string{"NAMESPACE"}, header...)
	}
	if wide {
		header = append(header, "IP", "NODE")
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, p := range pods {
		fmt.Fprintln(tw, strings.Join(podRow(&p, wide, allNamespaces), "\t"))
	}
	return tw.Flush()
}

// podRow is a pod's row of the table.
func podRow(p *corev1.Pod, wide, allNamespaces bool) []string {
	row := []string{p.Name, readiness(p), podStatusReason(p), restarts(p), age(p.CreationTimestamp.Time)}
	if allNamespaces {
		row = append([]string{p.Namespace}, row...)
	}
	if wide {
		row = append(row, orNone(p.Status.PodIP), orNone(p.Spec.NodeName))
	}
	return row
}

func readiness(p *corev1.Pod) string {
	ready := 0
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Ready {
			ready++
		}
	}
	return fmt.Sprintf("%d/%d", ready, len(p.Spec.Containers))
}

func restarts(p *corev1.Pod) string {
	var n int32
	for _, cs := range p.Status.ContainerStatuses {
		n += cs.RestartCount
	}
	return fmt.Sprint(n)
}

// podStatusReason is kubectl's STATUS column: the phase, unless a container
// has a more telling reason.
func podStatusReason(p *corev1.Pod) string {
	reason := string(p.Status.Phase)
	if p.Status.Reason != "" {
		reason = p.Status.Reason
	}
	for i, cs := range p.Status.InitContainerStatuses {
		switch {
		case cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 0:
			continue
		case cs.State.Terminated != nil:
			if cs.State.Terminated.Reason != "" {
				return "Init:" + cs.State.Terminated.Reason
			}
			return fmt.Sprintf("Init:ExitCode:%d", cs.State.Terminated.ExitCode)
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "" && cs.State.Waiting.Reason != "PodInitializing":
			return "Init:" + cs.State.Waiting.Reason
		default:
			return fmt.Sprintf("Init:%d/%d", i, len(p.Spec.InitContainers))
		}
	}
	running := false
	for i := len(p.Status.ContainerStatuses) - 1; i >= 0; i-- {
		cs := p.Status.ContainerStatuses[i]
		switch {
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "":
			reason = cs.State.Waiting.Reason
		case cs.State.Terminated != nil && cs.State.Terminated.Reason != "":
			reason = cs.State.Terminated.Reason
		case cs.State.Terminated != nil && cs.State.Terminated.Signal != 0:
			reason = fmt.Sprintf("Signal:%d", cs.State.Terminated.Signal)
		case cs.State.Terminated != nil:
			reason = fmt.Sprintf("ExitCode:%d", cs.State.Terminated.ExitCode)
		case cs.Ready && cs.State.Running != nil:
			running = true
		}
	}
	if reason == "Completed" && running {
		reason = "Running"
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status != corev1.ConditionTrue {
				reason = "NotReady"
			}
		}
	}
	if p.DeletionTimestamp != nil {
		reason = "Terminating"
	}
	return reason
}

func age(t time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(t))
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}
