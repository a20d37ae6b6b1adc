package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kc "github.com/podrun/podrun/kube/controllers"
	"github.com/podrun/podrun/runner"
	"github.com/podrun/podrun/runner/supervise"
)

func init() {
	workloadDescribers["deployment"] = describeDeployment
	workloadDescribers["replicaset"] = describeReplicaSet
}

// describeDeployment prints a Deployment as kubectl describe does: its
// replicas, strategy, pod template, conditions, ReplicaSets and events.
func describeDeployment(_ context.Context, out io.Writer, _ *runner.Runner, w *runner.Workload) error {
	var d appsv1.Deployment
	if err := json.Unmarshal(w.Object, &d); err != nil {
		return fmt.Errorf("decoding deployment %s: %w", w.Name, err)
	}
	rses, err := runner.OwnedReplicaSets(w.Owned)
	if err != nil {
		return err
	}
	newRS, old := splitReplicaSets(&d, rses)
	if newRS != nil && d.Annotations[kc.AnnotationRevision] == "" {
		if d.Annotations == nil {
			d.Annotations = map[string]string{}
		}
		d.Annotations[kc.AnnotationRevision] = newRS.Annotations[kc.AnnotationRevision]
	}
	tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	field := func(name, format string, args ...any) {
		fmt.Fprintf(tw, "%s:\t%s\n", name, fmt.Sprintf(format, args...))
	}
	field("Name", "%s", d.Name)
	field("Namespace", "%s", d.Namespace)
	field("CreationTimestamp", "%s", d.CreationTimestamp.Format(time.RFC1123Z))
	field("Labels", "%s", labels(d.Labels))
	field("Annotations", "%s", annotations(d.Annotations))
	field("Selector", "%s", selectorText(d.Spec.Selector))
	st := d.Status
	field("Replicas", "%d desired | %d updated | %d total | %d available | %d unavailable",
		replicasOr1(d.Spec.Replicas), st.UpdatedReplicas, st.Replicas, st.AvailableReplicas, st.UnavailableReplicas)
	field("StrategyType", "%s", d.Spec.Strategy.Type)
	field("MinReadySeconds", "%d", d.Spec.MinReadySeconds)
	if ru := d.Spec.Strategy.RollingUpdate; ru != nil && d.Spec.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType {
		field("RollingUpdateStrategy", "%s max unavailable, %s max surge", ru.MaxUnavailable, ru.MaxSurge)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	describeTemplate(out, &d.Spec.Template)
	describeDeploymentConditions(out, st.Conditions)
	tw = tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	field = func(name, format string, args ...any) {
		fmt.Fprintf(tw, "%s:\t%s\n", name, fmt.Sprintf(format, args...))
	}
	var olds []string
	for _, rs := range old {
		if rs.Status.Replicas > 0 || replicasOr1(rs.Spec.Replicas) > 0 {
			olds = append(olds, rsSummary(rs))
		}
	}
	field("OldReplicaSets", "%s", orNone(strings.Join(olds, ", ")))
	if newRS != nil {
		field("NewReplicaSet", "%s", rsSummary(newRS))
	} else {
		field("NewReplicaSet", "<none>")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return describeEvents(out, workloadEvents(w.Events, "deployment-controller"))
}

// splitReplicaSets finds the ReplicaSet of d's template and the others.
func splitReplicaSets(d *appsv1.Deployment, rses []*appsv1.ReplicaSet) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet) {
	var newRS *appsv1.ReplicaSet
	var old []*appsv1.ReplicaSet
	for _, rs := range rses {
		if newRS == nil && kc.EqualIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
			newRS = rs
		} else {
			old = append(old, rs)
		}
	}
	return newRS, old
}

// rsSummary is kubectl's "web-abc (3/3 replicas created)".
func rsSummary(rs *appsv1.ReplicaSet) string {
	return fmt.Sprintf("%s (%d/%d replicas created)", rs.Name, rs.Status.Replicas, replicasOr1(rs.Spec.Replicas))
}

func describeDeploymentConditions(out io.Writer, conds []appsv1.DeploymentCondition) {
	if len(conds) == 0 {
		return
	}
	fmt.Fprintln(out, "Conditions:")
	tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  Type\tStatus\tReason")
	fmt.Fprintln(tw, "  ----\t------\t------")
	for _, c := range conds {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.Type, c.Status, c.Reason)
	}
	tw.Flush()
}

// describeReplicaSet prints a ReplicaSet as kubectl describe does.
func describeReplicaSet(ctx context.Context, out io.Writer, r *runner.Runner, w *runner.Workload) error {
	var rs appsv1.ReplicaSet
	if err := json.Unmarshal(w.Object, &rs); err != nil {
		return fmt.Errorf("decoding replicaset %s: %w", w.Name, err)
	}
	status, err := podsStatus(ctx, r, w.Namespace, string(rs.UID))
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	field := func(name, format string, args ...any) {
		fmt.Fprintf(tw, "%s:\t%s\n", name, fmt.Sprintf(format, args...))
	}
	field("Name", "%s", rs.Name)
	field("Namespace", "%s", rs.Namespace)
	field("Selector", "%s", selectorText(rs.Spec.Selector))
	field("Labels", "%s", labels(rs.Labels))
	field("Annotations", "%s", annotations(rs.Annotations))
	if ref := metav1.GetControllerOf(&rs); ref != nil {
		field("Controlled By", "%s/%s", ref.Kind, ref.Name)
	}
	field("Replicas", "%d current / %d desired", rs.Status.Replicas, replicasOr1(rs.Spec.Replicas))
	field("Pods Status", "%s", status)
	if err := tw.Flush(); err != nil {
		return err
	}
	describeTemplate(out, &rs.Spec.Template)
	return describeEvents(out, workloadEvents(w.Events, "replicaset-controller"))
}

// podsStatus is kubectl describe's "Pods Status" line of the pods owned
// by uid: "2 Running / 0 Waiting / 1 Succeeded / 0 Failed".
func podsStatus(ctx context.Context, r *runner.Runner, namespace, uid string) (string, error) {
	all, err := r.List(ctx, namespace)
	if err != nil {
		return "", err
	}
	n := map[corev1.PodPhase]int{}
	for _, p := range supervise.Owned(all, uid) {
		n[p.Status.Phase]++
	}
	return fmt.Sprintf("%d Running / %d Waiting / %d Succeeded / %d Failed",
		n[corev1.PodRunning], n[corev1.PodPending], n[corev1.PodSucceeded], n[corev1.PodFailed]), nil
}

// describeTemplate prints a pod template as kubectl describe does.
func describeTemplate(out io.Writer, t *corev1.PodTemplateSpec) {
	tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "Pod Template:")
	fmt.Fprintf(tw, "  Labels:\t%s\n", strings.ReplaceAll(labels(t.Labels), "\n\t", "\n\t  "))
	if len(t.Annotations) > 0 {
		fmt.Fprintf(tw, "  Annotations:\t%s\n", annotations(t.Annotations))
	}
	for _, group := range []struct {
		title string
		list  []corev1.Container
	}{{"Init Containers", t.Spec.InitContainers}, {"Containers", t.Spec.Containers}} {
		if len(group.list) == 0 {
			continue
		}
		fmt.Fprintf(tw, "  %s:\n", group.title)
		for _, c := range group.list {
			fmt.Fprintf(tw, "   %s:\n", c.Name)
			fmt.Fprintf(tw, "    Image:\t%s\n", c.Image)
			ports := "<none>"
			if len(c.Ports) > 0 {
				var ps []string
				for _, p := range c.Ports {
					ps = append(ps, fmt.Sprintf("%d/%s", p.ContainerPort, p.Protocol))
				}
				ports = strings.Join(ps, ", ")
			}
			fmt.Fprintf(tw, "    Port:\t%s\n", ports)
			if len(c.Command) > 0 {
				fmt.Fprintf(tw, "    Command:\t%s\n", strings.Join(c.Command, " "))
			}
			if len(c.Args) > 0 {
				fmt.Fprintf(tw, "    Args:\t%s\n", strings.Join(c.Args, " "))
			}
			if len(c.Env) == 0 {
				fmt.Fprintln(tw, "    Environment:\t<none>")
			} else {
				fmt.Fprintln(tw, "    Environment:")
				for _, e := range c.Env {
					v := e.Value
					if e.ValueFrom != nil {
						v = "<set from a source>"
					}
					fmt.Fprintf(tw, "      %s:\t%s\n", e.Name, v)
				}
			}
			var mounts []string
			for _, m := range c.VolumeMounts {
				mounts = append(mounts, fmt.Sprintf("%s from %s", m.MountPath, m.Name))
			}
			fmt.Fprintf(tw, "    Mounts:\t%s\n", orNone(strings.Join(mounts, ", ")))
		}
	}
	var vols []string
	for _, v := range t.Spec.Volumes {
		vols = append(vols, v.Name)
	}
	fmt.Fprintf(tw, "  Volumes:\t%s\n", orNone(strings.Join(vols, ", ")))
	tw.Flush()
}

func annotations(m map[string]string) string {
	if len(m) == 0 {
		return "<none>"
	}
	var kv []string
	for k, v := range m {
		if k == kc.AnnotationLastApplied {
			continue
		}
		kv = append(kv, k+": "+v)
	}
	sort.Strings(kv)
	return orNone(strings.Join(kv, "\n\t"))
}

func selectorText(s *metav1.LabelSelector) string {
	if s == nil {
		return "<none>"
	}
	return metav1.FormatLabelSelector(s)
}

func replicasOr1(n *int32) int32 {
	if n == nil {
		return 1
	}
	return *n
}
