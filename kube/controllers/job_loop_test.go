package controllers

import (
	"strconv"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// runJob drives Job as a supervisor would: it creates and deletes what
// the Job says, sleeps until RequeueAt or the next pod change (each pod
// runs for 5 s and then ends as outcome says for the n-th pod created),
// and stops when the Job is finished. It returns the Job and the pods.
func runJob(t *testing.T, job *batchv1.Job, outcome func(n int) corev1.PodPhase) (*batchv1.Job, []Pod) {
	t.Helper()
	now, r := t0, seeded()
	var pods []Pod
	created := 0
	for range 200 {
		res := Job(job, pods, now, r)
		job = res.Job
		if jobFinished(job) {
			return job, pods
		}
		gone := map[string]bool{}
		for _, n := range res.Delete {
			gone[n] = true
		}
		kept := pods[:0]
		for _, p := range pods {
			if !gone[p.Pod.Name] {
				kept = append(kept, p)
			}
		}
		pods = kept
		for _, p := range res.Create {
			p.CreationTimestamp = metav1.NewTime(now)
			p.Status.Phase = corev1.PodRunning
			pods = append(pods, Pod{Pod: p, Ready: true, ReadySince: now})
			created++
			p.Labels["n"] = strconv.Itoa(created)
		}
		// The next event: a running pod ending, or the requeue.
		next := res.RequeueAt
		for i := range pods {
			if pods[i].active() {
				next = earliest(next, pods[i].Pod.CreationTimestamp.Add(5*time.Second))
			}
		}
		if next.IsZero() {
			t.Fatalf("stuck at %v: %+v", now, job.Status)
		}
		now = next
		for i := range pods {
			p := &pods[i]
			if p.active() && !p.Pod.CreationTimestamp.Add(5*time.Second).After(now) {
				n, _ := strconv.Atoi(p.Pod.Labels["n"])
				p.Pod.Status.Phase, p.Finished, p.Ready = outcome(n), now, false
			}
		}
	}
	t.Fatalf("no end after 200 steps: %+v", job.Status)
	return nil, nil
}

func TestJobRunsToCompletion(t *testing.T) {
	// The second pod fails: the third starts after the 10 s back-off.
	job, pods := runJob(t, testJob(ptr(int32(3)), ptr(int32(1))), func(n int) corev1.PodPhase {
		if n == 2 {
			return corev1.PodFailed
		}
		return corev1.PodSucceeded
	})
	st := job.Status
	if st.Succeeded != 3 || st.Failed != 1 || st.Active != 0 || len(pods) != 4 {
		t.Errorf("status %+v, %d pods", st, len(pods))
	}
	if c := jobCondition(job, batchv1.JobComplete); c == nil || c.Reason != batchv1.JobReasonCompletionsReached {
		t.Errorf("conditions %v", conds(job))
	}
	// Pods run 0-5 s, 5-10 s (failed), 20-25 s and 25-30 s.
	if st.CompletionTime == nil || !st.CompletionTime.Time.Equal(at(30)) {
		t.Errorf("completionTime %v, want %v", st.CompletionTime, at(30))
	}
}

func TestJobRunsToBackoffLimit(t *testing.T) {
	job, pods := runJob(t, withBackoff(testJob(ptr(int32(1)), ptr(int32(1))), 2), func(int) corev1.PodPhase { return corev1.PodFailed })
	if c := jobCondition(job, batchv1.JobFailed); c == nil || c.Reason != batchv1.JobReasonBackoffLimitExceeded || c.Message != MessageBackoffLimitExceeded {
		t.Errorf("conditions %v", conds(job))
	}
	// Three pods, each after the back-off of the failures before it:
	// 0-5 s, 15-20 s (10 s), 40-45 s (20 s).
	if job.Status.Failed != 3 || len(pods) != 3 || !pods[2].Pod.CreationTimestamp.Time.Equal(at(40)) {
		t.Errorf("failed %d, %d pods, the last created at %v", job.Status.Failed, len(pods), pods[len(pods)-1].Pod.CreationTimestamp)
	}
}

func TestIndexedJobRunsToCompletion(t *testing.T) {
	job, _ := runJob(t, indexedJob(5, 2), func(int) corev1.PodPhase { return corev1.PodSucceeded })
	if job.Status.CompletedIndexes != "0-4" || job.Status.Succeeded != 5 || jobCondition(job, batchv1.JobComplete) == nil {
		t.Errorf("status %+v", job.Status)
	}
}
