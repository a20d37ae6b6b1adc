package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podrun/podrun/runner"
)

// describe of StatefulSets, DaemonSets, Jobs and CronJobs, in kubectl's
// layout: the object's fields, its pods' phases, its pod template, its
// conditions and its controller's events.
func init() {
	workloadDescribers["statefulset"] = describeStatefulSet
	workloadDescribers["daemonset"] = describeDaemonSet
	workloadDescribers["job"] = describeJob
	workloadDescribers["cronjob"] = describeCronJob
}

// fields prints "Name:  value" lines aligned, as kubectl describe does.
type fields struct{ tw *tabwriter.Writer }

func newFields(out io.Writer) fields { return fields{tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)} }

func (f fields) add(name, format string, args ...any) {
	fmt.Fprintf(f.tw, "%s:\t%s\n", name, fmt.Sprintf(format, args...))
}

// meta adds the lines every object has.
func (f fields) meta(m *metav1.ObjectMeta) {
	f.add("Name", "%s", m.Name)
	f.add("Namespace", "%s", m.Namespace)
	f.add("CreationTimestamp", "%s", m.CreationTimestamp.Format(time.RFC1123Z))
	f.add("Labels", "%s", labels(m.Labels))
	f.add("Annotations", "%s", annotations(m.Annotations))
	if ref := metav1.GetControllerOf(m); ref != nil {
		f.add("Controlled By", "%s/%s", ref.Kind, ref.Name)
	}
}

func (f fields) flush() error { return f.tw.Flush() }

func decodeWorkload(w *runner.Workload, v any) error {
	if err := json.Unmarshal(w.Object, v); err != nil {
		return fmt.Errorf("decoding %s %s: %w", w.Kind, w.Name, err)
	}
	return nil
}

func describeStatefulSet(ctx context.Context, out io.Writer, r *runner.Runner, w *runner.Workload) error {
	var s appsv1.StatefulSet
	if err := decodeWorkload(w, &s); err != nil {
		return err
	}
	status, err := podsStatus(ctx, r, s.Namespace, string(s.UID))
	if err != nil {
		return err
	}
	f := newFields(out)
	f.meta(&s.ObjectMeta)
	f.add("Selector", "%s", selectorText(s.Spec.Selector))
	f.add("Replicas", "%d desired | %d total", replicasOr1(s.Spec.Replicas), s.Status.Replicas)
	f.add("Update Strategy", "%s", s.Spec.UpdateStrategy.Type)
	if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		f.add("  Partition", "%d", *ru.Partition)
	}
	f.add("Pods Status", "%s", status)
	if err := f.flush(); err != nil {
		return err
	}
	describeTemplate(out, &s.Spec.Template)
	if len(s.Spec.VolumeClaimTemplates) > 0 {
		fmt.Fprintln(out, "Volume Claims:")
		for _, c := range s.Spec.VolumeClaimTemplates {
			size := c.Spec.Resources.Requests.Storage()
			fmt.Fprintf(out, "  Name:          %s\n  Capacity:      %s\n  Access Modes:  %v\n", c.Name, size, c.Spec.AccessModes)
		}
	}
	return describeEvents(out, workloadEvents(w.Events, "statefulset-controller"))
}

func describeDaemonSet(ctx context.Context, out io.Writer, r *runner.Runner, w *runner.Workload) error {
	var d appsv1.DaemonSet
	if err := decodeWorkload(w, &d); err != nil {
		return err
	}
	status, err := podsStatus(ctx, r, d.Namespace, string(d.UID))
	if err != nil {
		return err
	}
	st := d.Status
	f := newFields(out)
	f.meta(&d.ObjectMeta)
	f.add("Selector", "%s", selectorText(d.Spec.Selector))
	f.add("Node-Selector", "%s", labels(d.Spec.Template.Spec.NodeSelector))
	f.add("Desired Number of Nodes Scheduled", "%d", st.DesiredNumberScheduled)
	f.add("Current Number of Nodes Scheduled", "%d", st.CurrentNumberScheduled)
	f.add("Number of Nodes Scheduled with Up-to-date Pods", "%d", st.UpdatedNumberScheduled)
	f.add("Number of Nodes Scheduled with Available Pods", "%d", st.NumberAvailable)
	f.add("Number of Nodes Misscheduled", "%d", st.NumberMisscheduled)
	f.add("Pods Status", "%s", status)
	if err := f.flush(); err != nil {
		return err
	}
	describeTemplate(out, &d.Spec.Template)
	return describeEvents(out, workloadEvents(w.Events, "daemonset-controller"))
}

func describeJob(ctx context.Context, out io.Writer, r *runner.Runner, w *runner.Workload) error {
	var j batchv1.Job
	if err := decodeWorkload(w, &j); err != nil {
		return err
	}
	status, err := podsStatus(ctx, r, j.Namespace, string(j.UID))
	if err != nil {
		return err
	}
	f := newFields(out)
	f.meta(&j.ObjectMeta)
	f.add("Selector", "%s", selectorText(j.Spec.Selector))
	f.add("Parallelism", "%d", replicasOr1(j.Spec.Parallelism))
	if j.Spec.Completions != nil {
		f.add("Completions", "%d", *j.Spec.Completions)
	} else {
		f.add("Completions", "<unset>")
	}
	if j.Spec.CompletionMode != nil {
		f.add("Completion Mode", "%s", *j.Spec.CompletionMode)
	}
	if j.Spec.Suspend != nil {
		f.add("Suspend", "%v", *j.Spec.Suspend)
	}
	if j.Spec.BackoffLimit != nil {
		f.add("Backoff Limit", "%d", *j.Spec.BackoffLimit)
	}
	if t := j.Status.StartTime; t != nil {
		f.add("Start Time", "%s", t.Format(time.RFC1123Z))
	}
	if t := j.Status.CompletionTime; t != nil {
		f.add("Completed At", "%s", t.Format(time.RFC1123Z))
		if s := j.Status.StartTime; s != nil {
			f.add("Duration", "%s", t.Sub(s.Time).Round(time.Second))
		}
	}
	if j.Status.CompletedIndexes != "" {
		f.add("Completed Indexes", "%s", j.Status.CompletedIndexes)
	}
	f.add("Pods Statuses", "%d Active (%s Ready) / %d Succeeded / %d Failed",
		j.Status.Active, fmt.Sprint(readyOf(j.Status.Ready)), j.Status.Succeeded, j.Status.Failed)
	f.add("Pods", "%s", status)
	if err := f.flush(); err != nil {
		return err
	}
	describeTemplate(out, &j.Spec.Template)
	if len(j.Status.Conditions) > 0 {
		fmt.Fprintln(out, "Conditions:")
		tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "  Type\tStatus\tReason\tMessage")
		fmt.Fprintln(tw, "  ----\t------\t------\t-------")
		for _, c := range j.Status.Conditions {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", c.Type, c.Status, c.Reason, c.Message)
		}
		tw.Flush()
	}
	return describeEvents(out, workloadEvents(w.Events, "job-controller"))
}

func readyOf(n *int32) int32 {
	if n == nil {
		return 0
	}
	return *n
}

func describeCronJob(_ context.Context, out io.Writer, _ *runner.Runner, w *runner.Workload) error {
	var c batchv1.CronJob
	if err := decodeWorkload(w, &c); err != nil {
		return err
	}
	f := newFields(out)
	f.meta(&c.ObjectMeta)
	f.add("Schedule", "%s", c.Spec.Schedule)
	if c.Spec.TimeZone != nil {
		f.add("Time Zone", "%s", *c.Spec.TimeZone)
	}
	f.add("Concurrency Policy", "%s", c.Spec.ConcurrencyPolicy)
	f.add("Suspend", "%v", c.Spec.Suspend != nil && *c.Spec.Suspend)
	if c.Spec.SuccessfulJobsHistoryLimit != nil {
		f.add("Successful Job History Limit", "%d", *c.Spec.SuccessfulJobsHistoryLimit)
	}
	if c.Spec.FailedJobsHistoryLimit != nil {
		f.add("Failed Job History Limit", "%d", *c.Spec.FailedJobsHistoryLimit)
	}
	if c.Spec.StartingDeadlineSeconds != nil {
		f.add("Starting Deadline Seconds", "%ds", *c.Spec.StartingDeadlineSeconds)
	} else {
		f.add("Starting Deadline Seconds", "<unset>")
	}
	if t := c.Status.LastScheduleTime; t != nil {
		f.add("Last Schedule Time", "%s", t.Format(time.RFC1123Z))
	} else {
		f.add("Last Schedule Time", "<unset>")
	}
	var active []string
	for _, a := range c.Status.Active {
		active = append(active, a.Name)
	}
	f.add("Active Jobs", "%s", orNone(strings.Join(active, ", ")))
	if err := f.flush(); err != nil {
		return err
	}
	describeTemplate(out, &c.Spec.JobTemplate.Spec.Template)
	return describeEvents(out, workloadEvents(w.Events, "cronjob-controller"))
}
