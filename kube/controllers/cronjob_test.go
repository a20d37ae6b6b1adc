package controllers

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// zones is a fixed table of time zones, so tests read no tzdata.
func zones(name string) (*time.Location, error) {
	if name == "Europe/Paris" {
		return time.FixedZone("CET", 3600), nil
	}
	return nil, errors.New("unknown time zone " + name)
}

// hm is 2026-01-02 at h:m:s UTC.
func hm(h, m, s int) time.Time { return time.Date(2026, 1, 2, h, m, s, 0, time.UTC) }

func testCronJob(schedule string) *batchv1.CronJob {
	return &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: "ns", UID: "cj-uid", CreationTimestamp: metav1.NewTime(hm(3, 4, 0))},
		Spec: batchv1.CronJobSpec{
			Schedule: schedule,
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "hello"}},
				Spec:       batchv1.JobSpec{Template: template("busybox")},
			},
		},
	}
}

func cronJobOf(cj *batchv1.CronJob, name string, done batchv1.JobConditionType, started time.Time) *batchv1.Job {
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns",
		OwnerReferences: []metav1.OwnerReference{OwnerReference("batch/v1", "CronJob", &cj.ObjectMeta)}}}
	st := metav1.NewTime(started)
	j.Status.StartTime = &st
	if done != "" {
		j.Status.Conditions = []batchv1.JobCondition{{Type: done, Status: corev1.ConditionTrue}}
		if done == batchv1.JobComplete {
			ct := metav1.NewTime(started.Add(time.Minute))
			j.Status.CompletionTime = &ct
		}
	}
	return j
}

func TestCronJob(t *testing.T) {
	lastAt := func(cj *batchv1.CronJob, at time.Time) *batchv1.CronJob {
		v := metav1.NewTime(at)
		cj.Status.LastScheduleTime = &v
		return cj
	}
	running := func(cj *batchv1.CronJob) []*batchv1.Job {
		return []*batchv1.Job{cronJobOf(cj, "hello-old", "", hm(3, 0, 0))}
	}
	tests := []struct {
		name    string
		cj      *batchv1.CronJob
		jobs    func(*batchv1.CronJob) []*batchv1.Job
		now     time.Time
		create  string // the scheduled-timestamp annotation of the Job started
		deletes []string
		warning string
		requeue time.Time
	}{
		{"before the first time", testCronJob("*/5 * * * *"), nil, hm(3, 4, 30), "", nil, "", hm(3, 5, 0)},
		{"the first time", testCronJob("*/5 * * * *"), nil, hm(3, 5, 30), "2026-01-02T03:05:00Z", nil, "", hm(3, 10, 0)},
		{"at the time exactly", testCronJob("*/5 * * * *"), nil, hm(3, 5, 0), "2026-01-02T03:05:00Z", nil, "", hm(3, 10, 0)},
		{"already started", lastAt(testCronJob("*/5 * * * *"), hm(3, 5, 0)), nil, hm(3, 7, 0), "", nil, "", hm(3, 10, 0)},
		{"several missed: the latest only", lastAt(testCronJob("*/5 * * * *"), hm(3, 5, 0)), nil, hm(3, 27, 0), "2026-01-02T03:25:00Z", nil, "", hm(3, 30, 0)},
		{"within the starting deadline", withStartingDeadline(lastAt(testCronJob("*/5 * * * *"), hm(3, 5, 0)), 100), nil, hm(3, 26, 30), "2026-01-02T03:25:00Z", nil, "", hm(3, 30, 0)},
		{"past the starting deadline", withStartingDeadline(lastAt(testCronJob("*/5 * * * *"), hm(3, 5, 0)), 60), nil, hm(3, 26, 30), "", nil, "", hm(3, 30, 0)},
		{"too many missed", withCreated(testCronJob("* * * * *"), hm(0, 0, 0)), nil, hm(3, 4, 30), "2026-01-02T03:04:00Z", nil, ReasonTooManyMissedTimes, hm(3, 5, 0)},
		{"Forbid with one running", withPolicy(testCronJob("*/5 * * * *"), batchv1.ForbidConcurrent), running, hm(3, 5, 30), "", nil, ReasonJobAlreadyActive, hm(3, 10, 0)},
		{"Replace with one running", withPolicy(testCronJob("*/5 * * * *"), batchv1.ReplaceConcurrent), running, hm(3, 5, 30), "2026-01-02T03:05:00Z", []string{"hello-old"}, "", hm(3, 10, 0)},
		{"Allow with one running", testCronJob("*/5 * * * *"), running, hm(3, 5, 30), "2026-01-02T03:05:00Z", nil, "", hm(3, 10, 0)},
		{"suspended", withSuspend(testCronJob("*/5 * * * *")), nil, hm(3, 5, 30), "", nil, "", time.Time{}},
		{"a macro", testCronJob("@hourly"), nil, hm(4, 0, 1), "2026-01-02T04:00:00Z", nil, "", hm(5, 0, 0)},
		{"time zone", withZone(testCronJob("0 5 * * *"), "Europe/Paris"), nil, hm(4, 0, 0), "2026-01-02T05:00:00+01:00", nil, "", hm(4, 0, 0).Add(24 * time.Hour)},
		{"TZ= in the schedule", testCronJob("TZ=Europe/Paris 0 5 * * *"), nil, hm(4, 0, 0), "2026-01-02T04:00:00Z", nil, "", hm(4, 0, 0).Add(24 * time.Hour)},
		{"no time zone: the machine's, annotated in UTC", testCronJob("0 5 * * *"), nil, hm(6, 0, 0).In(time.FixedZone("X", -3600)), "2026-01-02T06:00:00Z", nil, "", hm(6, 0, 0).Add(24 * time.Hour)},
		{"unknown time zone", withZone(testCronJob("0 5 * * *"), "Mars/Olympus"), nil, hm(4, 0, 0), "", nil, ReasonUnknownTimeZone, time.Time{}},
		{"bad schedule", testCronJob("61 * * * *"), nil, hm(4, 0, 0), "", nil, ReasonUnparseableSchedule, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var jobs []*batchv1.Job
			if tt.jobs != nil {
				jobs = tt.jobs(tt.cj)
			}
			res := CronJob(tt.cj, jobs, tt.now, zones)
			got := ""
			if res.Create != nil {
				got = res.Create.Annotations[AnnotationScheduledAt]
			}
			if got != tt.create {
				t.Errorf("started %q, want %q", got, tt.create)
			}
			if diff := cmp.Diff(tt.deletes, res.Delete); diff != "" {
				t.Errorf("deletes (-want +got):\n%s", diff)
			}
			var warning string
			if len(res.Warnings) > 0 {
				warning = res.Warnings[0].Reason
			}
			if warning != tt.warning {
				t.Errorf("warnings %v, want %s", res.Warnings, tt.warning)
			}
			if !res.RequeueAt.Equal(tt.requeue) {
				t.Errorf("RequeueAt %v, want %v", res.RequeueAt, tt.requeue)
			}
		})
	}
}

func withStartingDeadline(cj *batchv1.CronJob, s int64) *batchv1.CronJob {
	cj.Spec.StartingDeadlineSeconds = &s
	return cj
}
func withCreated(cj *batchv1.CronJob, t time.Time) *batchv1.CronJob {
	cj.CreationTimestamp = metav1.NewTime(t)
	return cj
}
func withPolicy(cj *batchv1.CronJob, p batchv1.ConcurrencyPolicy) *batchv1.CronJob {
	cj.Spec.ConcurrencyPolicy = p
	return cj
}
func withSuspend(cj *batchv1.CronJob) *batchv1.CronJob { cj.Spec.Suspend = ptr(true); return cj }
func withZone(cj *batchv1.CronJob, z string) *batchv1.CronJob {
	cj.Spec.TimeZone = &z
	return cj
}

func TestCronJobStartsAJob(t *testing.T) {
	cj := testCronJob("*/5 * * * *")
	res := CronJob(cj, nil, hm(3, 5, 30), zones)
	j := res.Create
	if j.Name != "hello-29455385" || j.Namespace != "ns" || j.Labels["app"] != "hello" {
		t.Errorf("job %+v", j.ObjectMeta)
	}
	if ref := metav1.GetControllerOf(j); ref == nil || ref.Kind != "CronJob" || ref.UID != "cj-uid" {
		t.Errorf("owner %+v", j.OwnerReferences)
	}
	st := res.CronJob.Status
	if st.LastScheduleTime == nil || !st.LastScheduleTime.Time.Equal(hm(3, 5, 0)) || len(st.Active) != 1 || st.Active[0].Name != j.Name {
		t.Errorf("status %+v", st)
	}
	if cj.Status.LastScheduleTime != nil {
		t.Errorf("the CronJob passed in was changed")
	}
	manual := JobFromCronJob(cj, "by-hand")
	if manual.Annotations[AnnotationInstantiate] != "manual" || manual.Annotations[AnnotationScheduledAt] != "" || metav1.GetControllerOf(manual) == nil {
		t.Errorf("manual job %+v", manual.ObjectMeta)
	}
}

func TestCronJobHistory(t *testing.T) {
	cj := testCronJob("*/5 * * * *")
	var jobs []*batchv1.Job
	for i, name := range []string{"ok-a", "ok-b", "ok-c", "ok-d", "ok-e"} {
		jobs = append(jobs, cronJobOf(cj, name, batchv1.JobComplete, hm(1, i, 0)))
	}
	jobs = append(jobs, cronJobOf(cj, "bad-a", batchv1.JobFailed, hm(1, 0, 0)), cronJobOf(cj, "bad-b", batchv1.JobFailed, hm(2, 0, 0)))
	jobs = append(jobs, cronJobOf(cj, "running", "", hm(0, 0, 0)))
	res := CronJob(cj, jobs, hm(3, 4, 30), zones)
	if diff := cmp.Diff([]string{"ok-a", "ok-b", "bad-a"}, res.Delete); diff != "" {
		t.Errorf("deletes (-want +got):\n%s", diff)
	}
	st := res.CronJob.Status
	if st.LastSuccessfulTime == nil || !st.LastSuccessfulTime.Time.Equal(hm(1, 5, 0)) {
		t.Errorf("lastSuccessfulTime %v", st.LastSuccessfulTime)
	}
	if len(st.Active) != 1 || st.Active[0].Name != "running" {
		t.Errorf("active %+v", st.Active)
	}
	cj.Spec.SuccessfulJobsHistoryLimit, cj.Spec.FailedJobsHistoryLimit = ptr(int32(0)), ptr(int32(5))
	if diff := cmp.Diff([]string{"ok-a", "ok-b", "ok-c", "ok-d", "ok-e"}, CronJob(cj, jobs, hm(3, 4, 30), zones).Delete); diff != "" {
		t.Errorf("limits 0 and 5 (-want +got):\n%s", diff)
	}
}

func TestMostRecentSchedule(t *testing.T) {
	every, _ := Schedule("0 * * * *", nil, zones)
	tests := []struct {
		name       string
		since, now time.Time
		want       time.Time
		missed     int
	}{
		{"none", hm(3, 0, 0), hm(3, 59, 0), time.Time{}, 0},
		{"one", hm(3, 0, 0), hm(4, 0, 0), hm(4, 0, 0), 1},
		{"three", hm(1, 30, 0), hm(4, 10, 0), hm(4, 0, 0), 3},
		{"years", hm(0, 0, 0).AddDate(-30, 0, 0), hm(4, 10, 0), hm(4, 0, 0), 101},
	}
	for _, tt := range tests {
		got, missed, err := MostRecentSchedule(every, tt.since, tt.now)
		if err != nil || !got.Equal(tt.want) || missed != tt.missed {
			t.Errorf("%s: got %v, %d missed, %v; want %v, %d", tt.name, got, missed, err, tt.want, tt.missed)
		}
	}
}
