package controllers

import (
	"fmt"
	"slices"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// The Job controller's pod re-creation back-off: 10 s after the first
// failure since the last success, doubling up to ten minutes, as its
// DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff say (the
// documentation's "six minutes" is what the doubling reaches by the
// default backoffLimit of 6).
const JobBackoffMax = 10 * time.Minute

// JobBackoffBase is the first back-off. It is a variable only so that a
// supervisor under test can shorten it (the runner reads
// PODRUN_TEST_JOB_BACKOFF once, before its first sync); nothing else
// changes it, and the package never reads the environment.
var JobBackoffBase = 10 * time.Second

// JobBackoff is how long after its last failure a Job waits before it
// creates a pod again, after failures failures since its last success.
func JobBackoff(failures int) time.Duration {
	if failures <= 0 {
		return 0
	}
	d := JobBackoffBase
	for i := 1; i < failures && d < JobBackoffMax; i++ {
		d *= 2
	}
	return min(d, JobBackoffMax)
}

// finishedAt is when a pod finished: what the runner recorded, else the
// last exit of its containers, else its creation.
func finishedAt(p *Pod) time.Time {
	if !p.Finished.IsZero() {
		return p.Finished
	}
	var t time.Time
	for _, list := range [][]corev1.ContainerStatus{p.Pod.Status.InitContainerStatuses, p.Pod.Status.ContainerStatuses} {
		for _, cs := range list {
			if term := cs.State.Terminated; term != nil && term.FinishedAt.After(t) {
				t = term.FinishedAt.Time
			}
		}
	}
	if t.IsZero() {
		return p.Pod.CreationTimestamp.Time
	}
	return t
}

// byFinish sorts pods by when they finished; of pods that finished
// together, failures first, as the controller counts only the failures
// strictly after the last success; then by name.
func byFinish(pods []*Pod) {
	slices.SortStableFunc(pods, func(a, b *Pod) int {
		if c := finishedAt(a).Compare(finishedAt(b)); c != 0 {
			return c
		}
		if as, bs := a.phase() == corev1.PodSucceeded, b.phase() == corev1.PodSucceeded; as != bs {
			if as {
				return 1
			}
			return -1
		}
		return compareStrings(a.Pod.Name, b.Pod.Name)
	})
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// backoffUntil is when the back-off after the failures among finished
// (succeeded and counted failed pods) since the last success ends; zero
// when there is none.
func backoffUntil(finished []*Pod) time.Time {
	sorted := append([]*Pod(nil), finished...)
	byFinish(sorted)
	failures := 0
	var last time.Time
	for _, p := range sorted {
		if p.phase() == corev1.PodSucceeded {
			failures, last = 0, time.Time{}
			continue
		}
		failures++
		last = finishedAt(p)
	}
	if failures == 0 {
		return time.Time{}
	}
	return last.Add(JobBackoff(failures))
}

// failureAction is what the Job's podFailurePolicy does with a failed pod:
// the action of the first rule that matches, with the controller's
// message for FailJob, or Count when none does.
func failureAction(job *batchv1.Job, p *corev1.Pod) (batchv1.PodFailurePolicyAction, string) {
	if job.Spec.PodFailurePolicy == nil {
		return batchv1.PodFailurePolicyActionCount, ""
	}
	for i, rule := range job.Spec.PodFailurePolicy.Rules {
		if req := rule.OnExitCodes; req != nil {
			if cs := matchingContainer(p, req); cs != nil {
				return rule.Action, fmt.Sprintf("Container %s for pod %s/%s failed with exit code %d matching %s rule at index %d",
					cs.Name, p.Namespace, p.Name, cs.State.Terminated.ExitCode, rule.Action, i)
			}
		}
		for _, pattern := range rule.OnPodConditions {
			if hasPodCondition(p, pattern) {
				return rule.Action, fmt.Sprintf("Pod %s/%s has condition %s matching %s rule at index %d",
					p.Namespace, p.Name, pattern.Type, rule.Action, i)
			}
		}
	}
	return batchv1.PodFailurePolicyActionCount, ""
}

// matchingContainer is the first terminated container, init containers
// first, whose non-zero exit code the requirement matches.
func matchingContainer(p *corev1.Pod, req *batchv1.PodFailurePolicyOnExitCodesRequirement) *corev1.ContainerStatus {
	for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for i := range list {
			cs := &list[i]
			term := cs.State.Terminated
			if term == nil || term.ExitCode == 0 || (req.ContainerName != nil && *req.ContainerName != cs.Name) {
				continue
			}
			in := slices.Contains(req.Values, term.ExitCode)
			if (req.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn) == in {
				return cs
			}
		}
	}
	return nil
}

func hasPodCondition(p *corev1.Pod, pattern batchv1.PodFailurePolicyOnPodConditionsPattern) bool {
	want := pattern.Status
	if want == "" {
		want = corev1.ConditionTrue
	}
	for _, c := range p.Status.Conditions {
		if c.Type == pattern.Type && c.Status == want {
			return true
		}
	}
	return false
}

// pastBackoffLimitOnFailure reports whether the container restarts of a
// Job's running and pending pods reach backoffLimit, when its pods restart
// in place (restartPolicy OnFailure).
func pastBackoffLimitOnFailure(job *batchv1.Job, active []*Pod, limit int32) bool {
	if job.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		return false
	}
	var restarts int32
	for _, p := range active {
		if p.phase() != corev1.PodRunning && p.phase() != corev1.PodPending {
			continue
		}
		for _, list := range [][]corev1.ContainerStatus{p.Pod.Status.InitContainerStatuses, p.Pod.Status.ContainerStatuses} {
			for _, cs := range list {
				restarts += cs.RestartCount
			}
		}
	}
	if limit == 0 {
		return restarts > 0
	}
	return restarts >= limit
}
