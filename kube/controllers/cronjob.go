package controllers

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The warnings a CronJob's controller records as events, by reason.
const (
	ReasonUnparseableSchedule = "UnparseableSchedule"
	ReasonUnknownTimeZone     = "UnknownTimeZone"
	ReasonTooManyMissedTimes  = "TooManyMissedTimes"
	ReasonMissSchedule        = "MissSchedule"
	ReasonJobAlreadyActive    = "JobAlreadyActive"
)

// AnnotationInstantiate marks a Job made by hand from a CronJob, as
// kubectl create job --from marks it.
const AnnotationInstantiate = "cronjob.kubernetes.io/instantiate"

// tooManyMissed is the controller's bound on missed start times before it
// warns that the clock or the deadline is wrong.
const tooManyMissed = 100

// Warning is an event the controller would record.
type Warning struct{ Reason, Message string }

// CronJobResult is one step of the CronJob controller.
type CronJobResult struct {
	// CronJob is the CronJob with its new status (active, lastScheduleTime,
	// lastSuccessfulTime), to store.
	CronJob *batchv1.CronJob
	// Create is the Job to start, or nil; Delete the names of Jobs to
	// delete in the background: running ones under Replace, finished ones
	// past the history limits.
	Create   *batchv1.Job
	Delete   []string
	Warnings []Warning
	// RequeueAt is the next schedule time; zero when suspended or when
	// the schedule cannot be read.
	RequeueAt time.Time
}

// ZoneFunc resolves a time zone name, as time.LoadLocation does; the
// runner passes time.LoadLocation, tests a fixed table.
type ZoneFunc func(name string) (*time.Location, error)

// Schedule parses a CronJob's schedule (errors: ErrSchedule, ErrTimeZone) with the standard five-field cron
// parser (macros included), in timeZone when it is set, else in the zone
// of the times given to it. A leading TZ= or CRON_TZ= is resolved through
// zone too.
func Schedule(schedule string, timeZone *string, zone ZoneFunc) (cron.Schedule, error) {
	var tz string
	if timeZone != nil {
		tz = *timeZone
	}
	if strings.HasPrefix(schedule, "TZ=") || strings.HasPrefix(schedule, "CRON_TZ=") {
		prefix, rest, _ := strings.Cut(schedule, " ")
		_, tz, _ = strings.Cut(prefix, "=")
		schedule = strings.TrimSpace(rest)
	}
	sched, err := cron.ParseStandard(schedule)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrSchedule, schedule, err)
	}
	if tz == "" {
		return sched, nil
	}
	loc, err := zone(tz)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", ErrTimeZone, tz, err)
	}
	if spec, ok := sched.(*cron.SpecSchedule); ok {
		spec.Location = loc
	}
	return sched, nil
}

// MostRecentSchedule is the latest schedule time after since and not
// after now, if any, and how many were missed in between (the latest
// included); it stops counting past 100, and then says only that it is
// more. It finds the latest without walking decades of missed times.
func MostRecentSchedule(sched cron.Schedule, since, now time.Time) (time.Time, int, error) {
	t1 := sched.Next(since)
	if t1.After(now) {
		return time.Time{}, 0, nil
	}
	latest, missed := t1, 1
	for t := sched.Next(t1); !t.After(now); t = sched.Next(t) {
		latest, missed = t, missed+1
		if missed > tooManyMissed {
			break
		}
	}
	if missed <= tooManyMissed {
		return latest, missed, nil
	}
	step := sched.Next(t1).Sub(t1)
	if step < time.Second {
		return time.Time{}, 0, fmt.Errorf("schedule fires less than a second apart")
	}
	// Start a few steps back from now and walk forwards: a schedule's gaps
	// vary (weekdays, months) but not beyond a few of its first step.
	for back := 2 * step; ; back *= 2 {
		from := now.Add(-back)
		if !from.After(latest) {
			from = latest
		}
		var found time.Time
		for t := sched.Next(from); !t.After(now); t = sched.Next(t) {
			found = t
		}
		if !found.IsZero() {
			return found, missed, nil
		}
		if from.Equal(latest) {
			return latest, missed, nil
		}
	}
}

// CronJob is one sync of the CronJob controller. jobs are the Jobs it owns
// (others are ignored); zone resolves spec.timeZone. A schedule without a
// time zone runs in the zone of now, the machine's, as the
// kube-controller-manager's local zone. It starts the Job of the most
// recent missed schedule time unless it is past startingDeadlineSeconds,
// already started, or forbidden by concurrencyPolicy Forbid; Replace
// deletes the running Jobs first; it deletes finished Jobs past the
// history limits, oldest first; and it says when the next time is.
func CronJob(cj *batchv1.CronJob, jobs []*batchv1.Job, now time.Time, zone ZoneFunc) CronJobResult {
	c := cj.DeepCopy()
	res := CronJobResult{CronJob: c}
	var owned []*batchv1.Job
	for _, j := range jobs {
		if ownedBy(&j.ObjectMeta, "CronJob", &cj.ObjectMeta) {
			owned = append(owned, j)
		}
	}
	active := cronStatus(c, owned)
	res.Delete = historyToDelete(c, owned)
	if c.DeletionTimestamp != nil || (c.Spec.Suspend != nil && *c.Spec.Suspend) {
		return res
	}
	sched, scheduled := due(c, now, zone, &res)
	if scheduled.IsZero() {
		return res
	}
	name := CronJobJobName(c.Name, scheduled)
	if c.Status.LastScheduleTime != nil && c.Status.LastScheduleTime.Equal(&metav1.Time{Time: scheduled}) || hasJob(owned, name) {
		return res
	}
	switch c.Spec.ConcurrencyPolicy {
	case batchv1.ForbidConcurrent:
		if len(active) > 0 {
			res.Warnings = append(res.Warnings, Warning{ReasonJobAlreadyActive, "Not starting job because prior execution is running and concurrency policy is Forbid"})
			return res
		}
	case batchv1.ReplaceConcurrent:
		for _, j := range active {
			res.Delete = append(res.Delete, j.Name)
		}
		c.Status.Active = nil
	}
	res.Create = jobFromCronJob(c, name, scheduled, sched)
	c.Status.Active = append(c.Status.Active, corev1.ObjectReference{
		APIVersion: "batch/v1", Kind: "Job", Namespace: c.Namespace, Name: name,
	})
	t := metav1.NewTime(scheduled)
	c.Status.LastScheduleTime = &t
	return res
}

// due is the schedule time to start a Job for now, zero for none, with the
// warnings on the way and the next time to look in res.
func due(c *batchv1.CronJob, now time.Time, zone ZoneFunc, res *CronJobResult) (cron.Schedule, time.Time) {
	sched, err := Schedule(c.Spec.Schedule, c.Spec.TimeZone, zone)
	if err != nil {
		reason := ReasonUnparseableSchedule
		if errors.Is(err, ErrTimeZone) {
			reason = ReasonUnknownTimeZone
		}
		res.Warnings = append(res.Warnings, Warning{reason, err.Error()})
		return nil, time.Time{}
	}
	since := c.CreationTimestamp.Time
	if c.Status.LastScheduleTime != nil {
		since = c.Status.LastScheduleTime.Time
	}
	if d := c.Spec.StartingDeadlineSeconds; d != nil {
		if edge := now.Add(-time.Duration(*d) * time.Second); edge.After(since) {
			since = edge
		}
	}
	// A schedule without a zone runs in the zone of the time it is given:
	// the stored times are UTC, now is the machine's.
	since = since.In(now.Location())
	res.RequeueAt = sched.Next(now)
	scheduled, missed, err := MostRecentSchedule(sched, since, now)
	switch {
	case err != nil:
		res.Warnings = append(res.Warnings, Warning{ReasonUnparseableSchedule, err.Error()})
		return sched, time.Time{}
	case missed > tooManyMissed:
		res.Warnings = append(res.Warnings, Warning{ReasonTooManyMissedTimes,
			"too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew"})
	}
	if scheduled.IsZero() {
		return sched, scheduled
	}
	if d := c.Spec.StartingDeadlineSeconds; d != nil && scheduled.Add(time.Duration(*d)*time.Second).Before(now) {
		res.Warnings = append(res.Warnings, Warning{ReasonMissSchedule, "Missed scheduled time to start a job: " + scheduled.UTC().Format(time.RFC1123Z)})
		return sched, time.Time{}
	}
	return sched, scheduled
}

func hasJob(jobs []*batchv1.Job, name string) bool {
	for _, j := range jobs {
		if j.Name == name {
			return true
		}
	}
	return false
}

func jobDone(j *batchv1.Job) (batchv1.JobConditionType, bool) {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c.Type, true
		}
	}
	return "", false
}

// cronStatus lists the running Jobs as active and moves
// lastSuccessfulTime on to the latest completion; it returns the running
// Jobs.
func cronStatus(c *batchv1.CronJob, jobs []*batchv1.Job) []*batchv1.Job {
	var active []*batchv1.Job
	c.Status.Active = nil
	for _, j := range jobs {
		typ, done := jobDone(j)
		if !done {
			active = append(active, j)
			c.Status.Active = append(c.Status.Active, corev1.ObjectReference{
				APIVersion: "batch/v1", Kind: "Job", Namespace: j.Namespace, Name: j.Name, UID: j.UID,
			})
			continue
		}
		if ct := j.Status.CompletionTime; typ == batchv1.JobComplete && ct != nil &&
			(c.Status.LastSuccessfulTime == nil || ct.After(c.Status.LastSuccessfulTime.Time)) {
			t := *ct
			c.Status.LastSuccessfulTime = &t
		}
	}
	return active
}

// historyToDelete is the finished Jobs past successfulJobsHistoryLimit
// (3 by default) and failedJobsHistoryLimit (1), oldest start first.
func historyToDelete(c *batchv1.CronJob, jobs []*batchv1.Job) []string {
	var ok, failed []*batchv1.Job
	for _, j := range jobs {
		switch typ, done := jobDone(j); {
		case !done:
		case typ == batchv1.JobComplete:
			ok = append(ok, j)
		default:
			failed = append(failed, j)
		}
	}
	limit := func(l *int32, def int32) int {
		if l == nil {
			return int(def)
		}
		return int(*l)
	}
	var out []string
	out = append(out, oldest(ok, limit(c.Spec.SuccessfulJobsHistoryLimit, 3))...)
	out = append(out, oldest(failed, limit(c.Spec.FailedJobsHistoryLimit, 1))...)
	return out
}

// oldest is the names of all but the keep most recently started jobs; a
// Job that never started counts as the newest.
func oldest(jobs []*batchv1.Job, keep int) []string {
	if len(jobs) <= keep {
		return nil
	}
	sort.SliceStable(jobs, func(i, j int) bool {
		a, b := jobs[i].Status.StartTime, jobs[j].Status.StartTime
		switch {
		case a == nil || b == nil:
			return a != nil && b == nil
		case !a.Equal(b):
			return a.Before(b)
		}
		return jobs[i].Name < jobs[j].Name
	})
	var out []string
	for _, j := range jobs[:len(jobs)-keep] {
		out = append(out, j.Name)
	}
	return out
}

// jobFromCronJob is the Job the controller starts for scheduled: the
// jobTemplate's labels, annotations and spec, the scheduled time as an
// annotation in the CronJob's timeZone (UTC without one), owned by the
// CronJob.
func jobFromCronJob(c *batchv1.CronJob, name string, scheduled time.Time, sched cron.Schedule) *batchv1.Job {
	j := newJobFromTemplate(c, name)
	at := scheduled.UTC()
	if spec, ok := sched.(*cron.SpecSchedule); ok && c.Spec.TimeZone != nil {
		at = scheduled.In(spec.Location)
	}
	j.Annotations[AnnotationScheduledAt] = at.Format(time.RFC3339)
	return j
}

func newJobFromTemplate(c *batchv1.CronJob, name string) *batchv1.Job {
	t := c.Spec.JobTemplate.DeepCopy()
	j := &batchv1.Job{
		TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: c.Namespace, Labels: t.Labels, Annotations: t.Annotations,
			OwnerReferences: []metav1.OwnerReference{OwnerReference("batch/v1", "CronJob", &c.ObjectMeta)},
		},
		Spec: t.Spec,
	}
	if j.Annotations == nil {
		j.Annotations = map[string]string{}
	}
	return j
}

// JobFromCronJob is kubectl create job NAME --from=cronjob/CJ: the Job of
// the jobTemplate, marked as started by hand, owned by the CronJob.
func JobFromCronJob(c *batchv1.CronJob, name string) *batchv1.Job {
	j := newJobFromTemplate(c, name)
	j.Annotations[AnnotationInstantiate] = "manual"
	return j
}
