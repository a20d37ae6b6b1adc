package main

import (
	"encoding/json"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// kubectl's columns for Jobs and CronJobs; get jobs lists the Jobs a
// CronJob runs beside those applied.
func init() {
	jobs := findWorkloadResource("job")
	jobs.columns = []workloadColumn{
		{"STATUS", typedJob(jobStatus)},
		{"COMPLETIONS", typedJob(jobCompletions)},
		{"DURATION", typedJob(jobDuration)},
	}
	findWorkloadResource("cronjob").columns = []workloadColumn{
		{"SCHEDULE", text("spec", "schedule")},
		{"TIMEZONE", text("spec", "timeZone")},
		{"SUSPEND", typedCronJob(func(c *batchv1.CronJob) string { return titleBool(c.Spec.Suspend != nil && *c.Spec.Suspend) })},
		{"ACTIVE", typedCronJob(func(c *batchv1.CronJob) string { return fmt.Sprint(len(c.Status.Active)) })},
		{"LAST SCHEDULE", typedCronJob(lastSchedule)},
	}
}

func typedJob(fn func(*batchv1.Job, time.Time) string) func(map[string]any) string {
	return func(obj map[string]any) string {
		var j batchv1.Job
		if !decodeMap(obj, &j) {
			return "<unknown>"
		}
		return fn(&j, time.Now())
	}
}

func typedCronJob(fn func(*batchv1.CronJob) string) func(map[string]any) string {
	return func(obj map[string]any) string {
		var c batchv1.CronJob
		if !decodeMap(obj, &c) {
			return "<unknown>"
		}
		return fn(&c)
	}
}

func decodeMap(obj map[string]any, v any) bool {
	data, err := json.Marshal(obj)
	return err == nil && json.Unmarshal(data, v) == nil
}

func titleBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// jobStatus is kubectl's STATUS of a Job, first match wins.
func jobStatus(j *batchv1.Job, _ time.Time) string {
	has := func(t batchv1.JobConditionType) bool {
		for _, c := range j.Status.Conditions {
			if c.Type == t && c.Status == corev1.ConditionTrue {
				return true
			}
		}
		return false
	}
	switch {
	case has(batchv1.JobComplete):
		return "Complete"
	case has(batchv1.JobFailed):
		return "Failed"
	case j.DeletionTimestamp != nil:
		return "Terminating"
	case has(batchv1.JobSuspended):
		return "Suspended"
	case has(batchv1.JobFailureTarget):
		return "FailureTarget"
	case has(batchv1.JobSuccessCriteriaMet):
		return "SuccessCriteriaMet"
	}
	return "Running"
}

// jobCompletions is kubectl's COMPLETIONS: succeeded/completions, or
// "n/1 of p" for a work queue.
func jobCompletions(j *batchv1.Job, _ time.Time) string {
	switch {
	case j.Spec.Completions != nil:
		return fmt.Sprintf("%d/%d", j.Status.Succeeded, *j.Spec.Completions)
	case j.Spec.Parallelism != nil && *j.Spec.Parallelism > 1:
		return fmt.Sprintf("%d/1 of %d", j.Status.Succeeded, *j.Spec.Parallelism)
	}
	return fmt.Sprintf("%d/1", j.Status.Succeeded)
}

// jobDuration is kubectl's DURATION: from start to completion, or to now
// while it runs.
func jobDuration(j *batchv1.Job, now time.Time) string {
	switch {
	case j.Status.StartTime == nil:
		return ""
	case j.Status.CompletionTime == nil:
		return duration.HumanDuration(now.Sub(j.Status.StartTime.Time))
	}
	return duration.HumanDuration(j.Status.CompletionTime.Sub(j.Status.StartTime.Time))
}

func lastSchedule(c *batchv1.CronJob) string {
	if c.Status.LastScheduleTime == nil {
		return "<none>"
	}
	return age(c.Status.LastScheduleTime.Time)
}
