package controllers

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

func exitRule(action batchv1.PodFailurePolicyAction, op batchv1.PodFailurePolicyOnExitCodesOperator, container *string, codes ...int32) batchv1.PodFailurePolicyRule {
	return batchv1.PodFailurePolicyRule{Action: action, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{ContainerName: container, Operator: op, Values: codes}}
}

func condRule(action batchv1.PodFailurePolicyAction, t corev1.PodConditionType) batchv1.PodFailurePolicyRule {
	return batchv1.PodFailurePolicyRule{Action: action, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: t, Status: corev1.ConditionTrue}}}
}

func TestFailureAction(t *testing.T) {
	in, notIn := batchv1.PodFailurePolicyOnExitCodesOpIn, batchv1.PodFailurePolicyOnExitCodesOpNotIn
	disrupted := func(p Pod) Pod {
		p.Pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}
		return p
	}
	base := func() Pod { p := jpod("a", failed, 1); p.Pod.Namespace = "ns"; return p }
	tests := []struct {
		name    string
		rules   []batchv1.PodFailurePolicyRule
		pod     Pod
		action  batchv1.PodFailurePolicyAction
		message string
	}{
		{"no rules: count", nil, exited(base(), "main", 1), "Count", ""},
		{"In matches", []batchv1.PodFailurePolicyRule{exitRule("FailJob", in, nil, 42)}, exited(base(), "main", 42),
			"FailJob", "Container main for pod ns/a failed with exit code 42 matching FailJob rule at index 0"},
		{"In does not match", []batchv1.PodFailurePolicyRule{exitRule("FailJob", in, nil, 42)}, exited(base(), "main", 1), "Count", ""},
		{"NotIn matches another code", []batchv1.PodFailurePolicyRule{exitRule("Ignore", notIn, nil, 0, 1)}, exited(base(), "main", 2), "Ignore", "Container main for pod ns/a failed with exit code 2 matching Ignore rule at index 0"},
		{"NotIn never matches exit 0", []batchv1.PodFailurePolicyRule{exitRule("Ignore", notIn, nil, 1)}, exited(base(), "main", 0), "Count", ""},
		{"container named", []batchv1.PodFailurePolicyRule{exitRule("FailJob", in, ptr("side"), 42)}, exited(exited(base(), "main", 42), "side", 3), "Count", ""},
		{"init containers too", []batchv1.PodFailurePolicyRule{exitRule("FailJob", in, nil, 42)},
			func() Pod {
				p := base()
				p.Pod.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "setup", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 42}}}}
				return p
			}(), "FailJob", "Container setup for pod ns/a failed with exit code 42 matching FailJob rule at index 0"},
		{"first rule wins", []batchv1.PodFailurePolicyRule{exitRule("Ignore", in, nil, 42), exitRule("FailJob", in, nil, 42)}, exited(base(), "main", 42), "Ignore", "Container main for pod ns/a failed with exit code 42 matching Ignore rule at index 0"},
		{"condition", []batchv1.PodFailurePolicyRule{exitRule("FailJob", in, nil, 42), condRule("Ignore", corev1.DisruptionTarget)}, disrupted(exited(base(), "main", 137)),
			"Ignore", "Pod ns/a has condition DisruptionTarget matching Ignore rule at index 1"},
		{"condition absent", []batchv1.PodFailurePolicyRule{condRule("Ignore", corev1.DisruptionTarget)}, exited(base(), "main", 137), "Count", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := testJob(ptr(int32(1)), ptr(int32(1)))
			if tt.rules != nil {
				j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: tt.rules}
			}
			action, message := failureAction(j, tt.pod.Pod)
			if action != tt.action || message != tt.message {
				t.Errorf("got %s %q, want %s %q", action, message, tt.action, tt.message)
			}
		})
	}
}

func TestJobFailurePolicy(t *testing.T) {
	in := batchv1.PodFailurePolicyOnExitCodesOpIn
	j := testJob(ptr(int32(2)), ptr(int32(2)))
	j.Spec.BackoffLimit = ptr(int32(0))
	j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
		exitRule("FailJob", in, nil, 3), exitRule("Ignore", in, nil, 42),
	}}
	// An ignored failure is not counted, holds no back-off, and is replaced.
	res := Job(j, []Pod{exited(jpod("a", failed, 1), "main", 42), jpod("b", running, 0)}, at(2), seeded())
	if len(res.Create) != 1 || res.Job.Status.Failed != 0 || len(res.Job.Status.Conditions) != 0 {
		t.Errorf("ignored: creates %d, failed %d, conditions %v", len(res.Create), res.Job.Status.Failed, conds(res.Job))
	}
	// FailJob fails at once, whatever the backoff limit.
	res = Job(j, []Pod{exited(jpod("a", failed, 1), "main", 3), jpod("b", running, 0)}, at(2), seeded())
	if diff := cmp.Diff([]cond{failureTarget("PodFailurePolicy")}, conds(res.Job)); diff != "" || len(res.Delete) != 1 {
		t.Errorf("FailJob: deletes %v, conditions (-want +got):\n%s", res.Delete, diff)
	}
	if m := res.Job.Status.Conditions[0].Message; m != "Container main for pod /a failed with exit code 3 matching FailJob rule at index 0" {
		t.Errorf("message %q", m)
	}
	// Under a podFailurePolicy a stopping pod is replaced only once it has failed.
	stopping := jpod("b", running, 0)
	stopping.Deleting = true
	if res := Job(j, []Pod{stopping}, at(2), seeded()); len(res.Create) != 1 {
		t.Errorf("podReplacementPolicy Failed: creates %d, want 1 beside the stopping pod", len(res.Create))
	}
}

func TestIndexedJob(t *testing.T) {
	n := func(v int32) *int32 { return &v }
	perIndex := func(j *batchv1.Job, limit int32, maxFailed *int32) *batchv1.Job {
		j.Spec.BackoffLimitPerIndex, j.Spec.MaxFailedIndexes = &limit, maxFailed
		return j
	}
	withSuccess := func(j *batchv1.Job, rules ...batchv1.SuccessPolicyRule) *batchv1.Job {
		j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: rules}
		return j
	}
	tests := []struct {
		name      string
		job       *batchv1.Job
		pods      []Pod
		now       int
		creates   []string // the indexes of the pods created
		deletes   []string
		conds     []cond
		completed string
		failedIdx *string
		requeue   int
	}{
		{"lowest pending indexes", indexedJob(4, 2), []Pod{ipod("a", succeeded, 1, 0, 0)}, 5, []string{"1", "2"}, nil, nil, "0", nil, 0},
		{"held indexes are skipped", indexedJob(4, 2), []Pod{ipod("a", running, 0, 1, 0)}, 5, []string{"0"}, nil, nil, "", nil, 0},
		{"duplicate, out of range and done indexes deleted", indexedJob(3, 3),
			[]Pod{ipod("a", running, 0, 1, 0), ipod("b", running, 0, 1, 0), ipod("c", running, 0, 7, 0), ipod("d", succeeded, 1, 2, 0), ipod("e", running, 0, 2, 0)},
			5, []string{"0"}, []string{"b", "c", "e"}, nil, "2", nil, 0},
		{"all indexes done", indexedJob(3, 3), []Pod{ipod("a", succeeded, 1, 0, 0), ipod("b", succeeded, 1, 1, 0), ipod("c", succeeded, 1, 2, 0), ipod("d", succeeded, 1, 2, 0)},
			5, nil, nil, []cond{criteriaMet("CompletionsReached"), completeCond("CompletionsReached")}, "0-2", nil, 0},
		{"global back-off without a per-index limit", indexedJob(2, 2), []Pod{ipod("a", failed, 10, 0, 0), ipod("b", running, 0, 1, 0)},
			12, nil, nil, nil, "", nil, 20},
		{"per-index back-off: other indexes go on", perIndex(indexedJob(3, 3), 2, nil), []Pod{ipod("a", failed, 10, 0, 0)},
			12, []string{"1", "2"}, nil, nil, "", ptr(""), 20},
		{"per-index back-off over: failures carried", perIndex(indexedJob(1, 1), 2, nil), []Pod{ipod("a", failed, 10, 0, 0)},
			20, []string{"0"}, nil, nil, "", ptr(""), 0},
		{"index past its limit fails for good", perIndex(indexedJob(3, 3), 1, nil), []Pod{ipod("b", failed, 10, 0, 1), ipod("c", running, 0, 1, 0)},
			50, []string{"2"}, nil, nil, "", ptr("0"), 0},
		{"every index done, some failed", perIndex(indexedJob(2, 2), 0, nil), []Pod{ipod("a", failed, 10, 0, 0), ipod("b", succeeded, 9, 1, 0)},
			50, nil, nil, []cond{failureTarget("FailedIndexes"), failedCond("FailedIndexes")}, "1", ptr("0"), 0},
		{"maxFailedIndexes exceeded", perIndex(indexedJob(3, 3), 0, n(0)), []Pod{ipod("a", failed, 10, 0, 0), ipod("b", running, 0, 1, 0)},
			50, nil, []string{"b"}, []cond{failureTarget("MaxFailedIndexesExceeded")}, "", ptr("0"), 0},
		{"FailIndex", func() *batchv1.Job {
			j := perIndex(indexedJob(2, 2), 5, nil)
			j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{exitRule("FailIndex", batchv1.PodFailurePolicyOnExitCodesOpIn, nil, 9)}}
			return j
		}(), []Pod{exited(ipod("a", failed, 10, 0, 0), "main", 9), ipod("b", running, 0, 1, 0)}, 50, nil, nil, nil, "", ptr("0"), 0},
		{"success policy by indexes", withSuccess(indexedJob(5, 5), batchv1.SuccessPolicyRule{SucceededIndexes: ptr("0-1")}),
			[]Pod{ipod("a", succeeded, 1, 0, 0), ipod("b", succeeded, 1, 1, 0), ipod("c", running, 0, 2, 0)},
			5, nil, []string{"c"}, []cond{criteriaMet("SuccessPolicy")}, "0-1", nil, 0},
		{"success policy by count", withSuccess(indexedJob(5, 5), batchv1.SuccessPolicyRule{SucceededIndexes: ptr("0-1")}, batchv1.SuccessPolicyRule{SucceededCount: n(2)}),
			[]Pod{ipod("a", succeeded, 1, 0, 0), ipod("b", succeeded, 1, 3, 0)},
			5, nil, nil, []cond{criteriaMet("SuccessPolicy"), completeCond("SuccessPolicy")}, "0,3", nil, 0},
		{"success policy not met", withSuccess(indexedJob(5, 1), batchv1.SuccessPolicyRule{SucceededIndexes: ptr("3-4"), SucceededCount: n(2)}),
			[]Pod{ipod("a", succeeded, 1, 3, 0)}, 5, []string{"0"}, nil, nil, "3", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Job(tt.job, tt.pods, at(tt.now), seeded())
			var created []string
			for _, p := range res.Create {
				created = append(created, p.Annotations[AnnotationJobIndex])
			}
			if diff := cmp.Diff(tt.creates, created); diff != "" {
				t.Errorf("created indexes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.deletes, res.Delete); diff != "" {
				t.Errorf("deletes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.conds, conds(res.Job)); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
			if got := res.Job.Status.CompletedIndexes; got != tt.completed {
				t.Errorf("completedIndexes %q, want %q", got, tt.completed)
			}
			if diff := cmp.Diff(tt.failedIdx, res.Job.Status.FailedIndexes); diff != "" {
				t.Errorf("failedIndexes (-want +got):\n%s", diff)
			}
			if tt.requeue != 0 && !res.RequeueAt.Equal(at(tt.requeue)) {
				t.Errorf("RequeueAt %v, want %v", res.RequeueAt, at(tt.requeue))
			}
		})
	}
}

func TestIndexFailureCountAnnotation(t *testing.T) {
	j := indexedJob(1, 1)
	j.Spec.BackoffLimitPerIndex = ptr(int32(3))
	res := Job(j, []Pod{ipod("a", failed, 1, 0, 0), ipod("b", failed, 30, 0, 1)}, at(60), seeded())
	if len(res.Create) != 1 || res.Create[0].Annotations[AnnotationIndexFailures] != "2" {
		t.Fatalf("creates %v", res.Create)
	}
}
