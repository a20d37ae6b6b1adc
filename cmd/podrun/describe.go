package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

func newDescribeCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "describe pod|KIND NAME",
		Short:   "Show a pod's or a workload's details: conditions, container states, probes, events",
		Example: "  podrun describe pod hello\n  podrun describe deployment web",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if ok, err := g.describeWorkload(contextOf(cmd), cmd.OutOrStdout(), args[0], args[1]); ok {
				return err
			}
			if isServiceKind(args[0]) {
				return g.describeServiceNamed(contextOf(cmd), cmd.OutOrStdout(), args[1])
			}
			if !isPodKind(args[0]) {
				return fmt.Errorf("podrun describes pods, workloads and services: podrun describe pod NAME, podrun describe deployment NAME, podrun describe service NAME")
			}
			ref, err := g.podRef(args[1])
			if err != nil {
				return err
			}
			r, err := g.runner()
			if err != nil {
				return err
			}
			ctx := contextOf(cmd)
			pod, err := r.Get(ctx, ref.namespace, ref.name)
			if err != nil {
				return err
			}
			events, err := r.Events(ctx, ref.namespace, ref.name)
			if err != nil {
				return err
			}
			return describePod(cmd.OutOrStdout(), pod, events)
		},
	}
}

// describePod prints a pod as kubectl describe does.
func describePod(out io.Writer, p *corev1.Pod, events []corev1.Event) error {
	w := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	field := func(indent int, name, format string, args ...any) {
		fmt.Fprintf(w, "%s%s:\t%s\n", strings.Repeat("  ", indent), name, fmt.Sprintf(format, args...))
	}
	field(0, "Name", "%s", p.Name)
	field(0, "Namespace", "%s", p.Namespace)
	if p.Spec.NodeName == "" {
		field(0, "Node", "<none>") // not scheduled
	} else {
		field(0, "Node", "%s/%s", p.Spec.NodeName, p.Status.HostIP)
	}
	if p.Status.StartTime != nil {
		field(0, "Start Time", "%s", p.Status.StartTime.Format(time.RFC1123Z))
	}
	field(0, "Labels", "%s", labels(p.Labels))
	if p.DeletionTimestamp != nil {
		field(0, "Status", "Terminating (lasts %s)", duration.HumanDuration(time.Since(p.DeletionTimestamp.Time)))
	} else {
		field(0, "Status", "%s", p.Status.Phase)
	}
	if p.Status.Reason != "" {
		field(0, "Reason", "%s", p.Status.Reason)
		field(0, "Message", "%s", p.Status.Message)
	}
	field(0, "IP", "%s", p.Status.PodIP)
	if len(p.Spec.InitContainers) > 0 {
		fmt.Fprintln(w, "Init Containers:")
		describeContainers(w, p.Spec.InitContainers, p.Status.InitContainerStatuses)
	}
	fmt.Fprintln(w, "Containers:")
	describeContainers(w, p.Spec.Containers, p.Status.ContainerStatuses)
	fmt.Fprintln(w, "Conditions:")
	fmt.Fprintln(w, "  Type\tStatus")
	for _, c := range p.Status.Conditions {
		fmt.Fprintf(w, "  %s\t%s\n", c.Type, c.Status)
	}
	field(0, "QoS Class", "%s", p.Status.QOSClass)
	if err := w.Flush(); err != nil {
		return err
	}
	return describeEvents(out, events)
}

func labels(m map[string]string) string {
	if len(m) == 0 {
		return "<none>"
	}
	var kv []string
	for k, v := range m {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, "\n\t")
}

func describeContainers(w io.Writer, specs []corev1.Container, statuses []corev1.ContainerStatus) {
	for _, c := range specs {
		var st corev1.ContainerStatus
		for _, s := range statuses {
			if s.Name == c.Name {
				st = s
			}
		}
		fmt.Fprintf(w, "  %s:\n", c.Name)
		fmt.Fprintf(w, "    Container ID:\t%s\n", st.ContainerID)
		fmt.Fprintf(w, "    Image:\t%s\n", c.Image)
		if len(c.Command) > 0 {
			fmt.Fprintf(w, "    Command:\t%s\n", strings.Join(c.Command, " "))
		}
		describeState(w, "State", st.State)
		if st.LastTerminationState.Terminated != nil {
			describeState(w, "Last State", st.LastTerminationState)
		}
		fmt.Fprintf(w, "    Ready:\t%s\n", title(st.Ready))
		fmt.Fprintf(w, "    Restart Count:\t%d\n", st.RestartCount)
		for _, p := range []struct {
			name  string
			probe *corev1.Probe
		}{{"Liveness", c.LivenessProbe}, {"Readiness", c.ReadinessProbe}, {"Startup", c.StartupProbe}} {
			if p.probe != nil {
				fmt.Fprintf(w, "    %s:\t%s\n", p.name, describeProbe(p.probe))
			}
		}
	}
}

func title(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func describeState(w io.Writer, label string, s corev1.ContainerState) {
	switch {
	case s.Running != nil:
		fmt.Fprintf(w, "    %s:\tRunning\n", label)
		fmt.Fprintf(w, "      Started:\t%s\n", s.Running.StartedAt.Format(time.RFC1123Z))
	case s.Terminated != nil:
		t := s.Terminated
		fmt.Fprintf(w, "    %s:\tTerminated\n", label)
		fmt.Fprintf(w, "      Reason:\t%s\n", t.Reason)
		if t.Message != "" {
			fmt.Fprintf(w, "      Message:\t%s\n", t.Message)
		}
		fmt.Fprintf(w, "      Exit Code:\t%d\n", t.ExitCode)
		if t.Signal != 0 {
			fmt.Fprintf(w, "      Signal:\t%d\n", t.Signal)
		}
		if !t.StartedAt.IsZero() {
			fmt.Fprintf(w, "      Started:\t%s\n", t.StartedAt.Format(time.RFC1123Z))
		}
		fmt.Fprintf(w, "      Finished:\t%s\n", t.FinishedAt.Format(time.RFC1123Z))
	case s.Waiting != nil:
		fmt.Fprintf(w, "    %s:\tWaiting\n", label)
		fmt.Fprintf(w, "      Reason:\t%s\n", s.Waiting.Reason)
		if s.Waiting.Message != "" {
			fmt.Fprintf(w, "      Message:\t%s\n", s.Waiting.Message)
		}
	}
}

// describeProbe is kubectl's one-line probe summary.
func describeProbe(p *corev1.Probe) string {
	var what string
	switch h := p.ProbeHandler; {
	case h.Exec != nil:
		what = fmt.Sprintf("exec %v", h.Exec.Command)
	case h.HTTPGet != nil:
		scheme := strings.ToLower(string(h.HTTPGet.Scheme))
		if scheme == "" {
			scheme = "http"
		}
		what = fmt.Sprintf("http-get %s://%s:%s%s", scheme, h.HTTPGet.Host, h.HTTPGet.Port.String(), h.HTTPGet.Path)
	case h.TCPSocket != nil:
		what = fmt.Sprintf("tcp-socket %s:%s", h.TCPSocket.Host, h.TCPSocket.Port.String())
	case h.GRPC != nil:
		what = fmt.Sprintf("grpc <pod>:%d", h.GRPC.Port)
	}
	return fmt.Sprintf("%s delay=%ds timeout=%ds period=%ds #success=%d #failure=%d",
		what, p.InitialDelaySeconds, p.TimeoutSeconds, p.PeriodSeconds, p.SuccessThreshold, p.FailureThreshold)
}

// describeEvents prints events as kubectl does, counted repeats as
// "(xN over D)".
func describeEvents(out io.Writer, events []corev1.Event) error {
	if len(events) == 0 {
		_, err := fmt.Fprintln(out, "Events:  <none>")
		return err
	}
	fmt.Fprintln(out, "Events:")
	w := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(w, "  Type\tReason\tAge\tFrom\tMessage")
	fmt.Fprintln(w, "  ----\t------\t----\t----\t-------")
	for _, e := range events {
		age := duration.HumanDuration(time.Since(e.LastTimestamp.Time))
		if e.Count > 1 {
			age = fmt.Sprintf("%s (x%d over %s)", age, e.Count, duration.HumanDuration(time.Since(e.FirstTimestamp.Time)))
		}
		msg := strings.TrimSpace(e.Message)
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\n", e.Type, e.Reason, age, e.Source.Component, msg)
	}
	return w.Flush()
}
