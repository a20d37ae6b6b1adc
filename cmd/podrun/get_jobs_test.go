package main

import (
	"slices"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestJobColumns(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	i32 := func(v int32) *int32 { return &v }
	cond := func(typ batchv1.JobConditionType) []batchv1.JobCondition {
		return []batchv1.JobCondition{{Type: typ, Status: corev1.ConditionTrue}}
	}
	start, end := metav1.NewTime(t0), metav1.NewTime(t0.Add(95*time.Second))
	for _, c := range []struct {
		name                         string
		spec                         batchv1.JobSpec
		status                       batchv1.JobStatus
		wantStatus, wantCompl, wantD string
	}{
		{"running", batchv1.JobSpec{Completions: i32(3)}, batchv1.JobStatus{Succeeded: 1, StartTime: &start}, "Running", "1/3", "2m"},
		{"complete", batchv1.JobSpec{Completions: i32(3)}, batchv1.JobStatus{Succeeded: 3, StartTime: &start, CompletionTime: &end, Conditions: cond(batchv1.JobComplete)}, "Complete", "3/3", "95s"},
		{"failed", batchv1.JobSpec{Completions: i32(1)}, batchv1.JobStatus{StartTime: &start, Conditions: cond(batchv1.JobFailed)}, "Failed", "0/1", "2m"},
		{"work queue", batchv1.JobSpec{Parallelism: i32(4)}, batchv1.JobStatus{Conditions: cond(batchv1.JobSuspended)}, "Suspended", "0/1 of 4", ""},
		{"failing", batchv1.JobSpec{}, batchv1.JobStatus{Conditions: cond(batchv1.JobFailureTarget)}, "FailureTarget", "0/1", ""},
	} {
		j := &batchv1.Job{Spec: c.spec, Status: c.status}
		now := t0.Add(2 * time.Minute)
		if got := jobStatus(j, now); got != c.wantStatus {
			t.Errorf("%s: STATUS %q, want %q", c.name, got, c.wantStatus)
		}
		if got := jobCompletions(j, now); got != c.wantCompl {
			t.Errorf("%s: COMPLETIONS %q, want %q", c.name, got, c.wantCompl)
		}
		if got := jobDuration(j, now); got != c.wantD {
			t.Errorf("%s: DURATION %q, want %q", c.name, got, c.wantD)
		}
	}
}

// TestByLogging: logs KIND/NAME picks as kubectl does: running before
// pending, ready before not, longer ready first, more restarts, older.
func TestByLogging(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pod := func(name string, phase corev1.PodPhase, readySince time.Time, restarts int32, created time.Time) corev1.Pod {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(created)}, Status: corev1.PodStatus{Phase: phase,
			ContainerStatuses: []corev1.ContainerStatus{{RestartCount: restarts}}}}
		if !readySince.IsZero() {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(readySince)}}
		}
		return p
	}
	pods := []corev1.Pod{
		pod("pending", corev1.PodPending, time.Time{}, 0, t0),
		pod("not-ready-new", corev1.PodRunning, time.Time{}, 0, t0.Add(time.Minute)),
		pod("not-ready-restarted", corev1.PodRunning, time.Time{}, 2, t0.Add(time.Minute)),
		pod("ready-late", corev1.PodRunning, t0.Add(time.Minute), 0, t0),
		pod("ready-early", corev1.PodRunning, t0, 0, t0),
		pod("not-ready-old", corev1.PodRunning, time.Time{}, 0, t0),
	}
	slices.SortStableFunc(pods, byLogging)
	var got []string
	for _, p := range pods {
		got = append(got, p.Name)
	}
	want := []string{"ready-early", "ready-late", "not-ready-restarted", "not-ready-old", "not-ready-new", "pending"}
	if !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}
