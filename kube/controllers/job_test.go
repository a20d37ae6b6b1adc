package controllers

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func testJob(completions, parallelism *int32) *batchv1.Job {
	tmpl := template("busybox")
	tmpl.Spec.RestartPolicy = corev1.RestartPolicyNever
	start := metav1.NewTime(t0)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "pi", Namespace: "ns", UID: "job-uid"},
		Spec:       batchv1.JobSpec{Completions: completions, Parallelism: parallelism, Template: tmpl},
		Status:     batchv1.JobStatus{StartTime: &start},
	}
}

func indexedJob(completions, parallelism int32) *batchv1.Job {
	j := testJob(&completions, &parallelism)
	j.Spec.CompletionMode = ptr(batchv1.IndexedCompletion)
	return j
}

// jpod is a Job's pod in phase, finished at finished seconds when it has.
func jpod(name string, phase corev1.PodPhase, finished int) Pod {
	p := pod(name, phase, 0)
	if phase == corev1.PodSucceeded || phase == corev1.PodFailed {
		p.Finished = at(finished)
	}
	return p
}

// ipod is jpod of an Indexed Job's index, created after failures
// failures of the index.
func ipod(name string, phase corev1.PodPhase, finished, index, failures int) Pod {
	p := jpod(name, phase, finished)
	p.Pod.Annotations = map[string]string{AnnotationJobIndex: strconv.Itoa(index), AnnotationIndexFailures: strconv.Itoa(failures)}
	return p
}

func exited(p Pod, container string, code int32) Pod {
	p.Pod.Status.ContainerStatuses = append(p.Pod.Status.ContainerStatuses, corev1.ContainerStatus{
		Name: container, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}},
	})
	return p
}

type cond struct{ Type, Status, Reason string }

func conds(j *batchv1.Job) []cond {
	var out []cond
	for _, c := range j.Status.Conditions {
		out = append(out, cond{string(c.Type), string(c.Status), c.Reason})
	}
	return out
}

var (
	failureTarget = func(reason string) cond { return cond{"FailureTarget", "True", reason} }
	failedCond    = func(reason string) cond { return cond{"Failed", "True", reason} }
	criteriaMet   = func(reason string) cond { return cond{"SuccessCriteriaMet", "True", reason} }
	completeCond  = func(reason string) cond { return cond{"Complete", "True", reason} }
)

const (
	running   = corev1.PodRunning
	succeeded = corev1.PodSucceeded
	failed    = corev1.PodFailed
)

func TestJob(t *testing.T) {
	n := func(v int32) *int32 { return &v }
	tests := []struct {
		name    string
		job     *batchv1.Job
		pods    []Pod
		now     int
		creates int
		deletes []string
		conds   []cond
		active  int32
		succ    int32
		fail    int32
		requeue int // seconds; 0 for none
	}{
		{"start: parallelism pods", testJob(n(3), n(2)), nil, 0, 2, nil, nil, 2, 0, 0, 0},
		{"remaining completions bound active", testJob(n(3), n(2)),
			[]Pod{jpod("a", succeeded, 1), jpod("b", succeeded, 2), jpod("c", running, 0)}, 5, 0, nil, nil, 1, 2, 0, 0},
		{"replace a success", testJob(n(3), n(2)), []Pod{jpod("a", succeeded, 1), jpod("c", running, 0)}, 5, 1, nil, nil, 2, 1, 0, 0},
		{"completions reached", testJob(n(2), n(2)), []Pod{jpod("a", succeeded, 1), jpod("b", succeeded, 2)}, 5, 0, nil,
			[]cond{criteriaMet("CompletionsReached"), completeCond("CompletionsReached")}, 0, 2, 0, 0},
		{"completions reached, stray pod deleted first", testJob(n(1), n(2)), []Pod{jpod("a", succeeded, 1), jpod("b", running, 0)}, 5, 0, []string{"b"},
			[]cond{criteriaMet("CompletionsReached")}, 0, 1, 0, 0},
		{"no completions: a success with pods running waits", testJob(nil, n(2)), []Pod{jpod("a", succeeded, 1), jpod("b", running, 0)}, 5, 0, nil, nil, 1, 1, 0, 0},
		{"no completions: a success, none running", testJob(nil, n(2)), []Pod{jpod("a", succeeded, 1)}, 5, 0, nil,
			[]cond{criteriaMet("CompletionsReached"), completeCond("CompletionsReached")}, 0, 1, 0, 0},
		{"parallelism lowered", testJob(n(5), n(1)), []Pod{jpod("a", running, 0), jpod("b", corev1.PodPending, 0)}, 5, 0, []string{"b"}, nil, 1, 0, 0, 0},
		{"stopping pods are replaced by default", testJob(n(2), n(2)), []Pod{{Pod: jpod("a", running, 0).Pod, Deleting: true}}, 5, 2, nil, nil, 2, 0, 0, 0},
		{"stopping pods hold their places under podReplacementPolicy Failed", replaceFailed(testJob(n(3), n(2))),
			[]Pod{{Pod: jpod("a", running, 0).Pod, Deleting: true}, jpod("b", running, 0)}, 5, 0, nil, nil, 1, 0, 0, 0},
		{"and are not deleted again", replaceFailed(testJob(n(3), n(1))),
			[]Pod{{Pod: jpod("a", running, 0).Pod, Deleting: true}, jpod("b", running, 0)}, 5, 0, nil, nil, 1, 0, 0, 0},
		{"back-off after a failure", testJob(n(1), n(1)), []Pod{jpod("a", failed, 10)}, 15, 0, nil, nil, 0, 0, 1, 20},
		{"back-off over", testJob(n(1), n(1)), []Pod{jpod("a", failed, 10)}, 20, 1, nil, nil, 1, 0, 1, 0},
		{"back-off doubles", testJob(n(1), n(1)), []Pod{jpod("a", failed, 10), jpod("b", failed, 30)}, 40, 0, nil, nil, 0, 0, 2, 50},
		{"a failure beside a success does not back off", testJob(n(3), n(1)), []Pod{jpod("a", failed, 10), jpod("b", succeeded, 10)}, 12, 1, nil, nil, 1, 1, 1, 0},
		{"a failure after a success backs off", testJob(n(3), n(1)), []Pod{jpod("a", failed, 11), jpod("b", succeeded, 10)}, 12, 0, nil, nil, 0, 1, 1, 21},
		{"a success resets the back-off", testJob(n(3), n(1)), []Pod{jpod("a", failed, 10), jpod("b", succeeded, 30)}, 30, 1, nil, nil, 1, 1, 1, 0},
		{"backoffLimit exceeded", withBackoff(testJob(n(3), n(2)), 1),
			[]Pod{jpod("a", failed, 1), jpod("b", failed, 2), jpod("c", running, 0)}, 5, 0, []string{"c"},
			[]cond{failureTarget("BackoffLimitExceeded")}, 0, 0, 2, 0},
		{"backoffLimit exceeded, nothing running", withBackoff(testJob(n(3), n(2)), 0), []Pod{jpod("a", failed, 1)}, 5, 0, nil,
			[]cond{failureTarget("BackoffLimitExceeded"), failedCond("BackoffLimitExceeded")}, 0, 0, 1, 0},
		{"OnFailure restarts count", onFailure(withBackoff(testJob(n(1), n(1)), 2)), []Pod{withRestarts(jpod("a", running, 0), 2)}, 5, 0, []string{"a"},
			[]cond{failureTarget("BackoffLimitExceeded")}, 0, 0, 0, 0},
		{"deadline ahead", withDeadline(testJob(n(1), n(1)), 60), []Pod{jpod("a", running, 0)}, 59, 0, nil, nil, 1, 0, 0, 60},
		{"deadline passed", withDeadline(testJob(n(1), n(1)), 60), []Pod{jpod("a", running, 0)}, 60, 0, []string{"a"},
			[]cond{failureTarget("DeadlineExceeded")}, 0, 0, 0, 0},
		{"suspended", suspend(testJob(n(2), n(2)), true), []Pod{jpod("a", running, 0)}, 5, 0, []string{"a"},
			[]cond{{"Suspended", "True", "JobSuspended"}}, 0, 0, 0, 0},
		{"success criteria met stand past the deadline", withDeadline(withCond(testJob(n(1), n(1)), batchv1.JobSuccessCriteriaMet, "CompletionsReached"), 60),
			[]Pod{jpod("a", succeeded, 50)}, 90, 0, nil, []cond{criteriaMet("CompletionsReached"), completeCond("CompletionsReached")}, 0, 1, 0, 0},
		{"failure target set: wait for pods, then Failed", withCond(testJob(n(2), n(2)), batchv1.JobFailureTarget, "DeadlineExceeded"),
			[]Pod{{Pod: jpod("a", running, 0).Pod, Deleting: true}}, 5, 0, nil, []cond{failureTarget("DeadlineExceeded")}, 0, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Job(tt.job, tt.pods, at(tt.now), seeded())
			if len(res.Create) != tt.creates {
				t.Errorf("creates %d, want %d", len(res.Create), tt.creates)
			}
			if diff := cmp.Diff(tt.deletes, res.Delete); diff != "" {
				t.Errorf("deletes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.conds, conds(res.Job)); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
			st := res.Job.Status
			if st.Active != tt.active || st.Succeeded != tt.succ || st.Failed != tt.fail {
				t.Errorf("active %d succeeded %d failed %d, want %d %d %d", st.Active, st.Succeeded, st.Failed, tt.active, tt.succ, tt.fail)
			}
			var want time.Time
			if tt.requeue != 0 {
				want = at(tt.requeue)
			}
			if !res.RequeueAt.Equal(want) {
				t.Errorf("RequeueAt %v, want %v", res.RequeueAt, want)
			}
		})
	}
}

func withBackoff(j *batchv1.Job, n int32) *batchv1.Job { j.Spec.BackoffLimit = &n; return j }
func withDeadline(j *batchv1.Job, s int64) *batchv1.Job {
	j.Spec.ActiveDeadlineSeconds = &s
	return j
}
func suspend(j *batchv1.Job, v bool) *batchv1.Job { j.Spec.Suspend = &v; return j }
func onFailure(j *batchv1.Job) *batchv1.Job {
	j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	return j
}
func withCond(j *batchv1.Job, t batchv1.JobConditionType, reason string) *batchv1.Job {
	j.Status.Conditions = append(j.Status.Conditions, batchv1.JobCondition{Type: t, Status: corev1.ConditionTrue, Reason: reason})
	return j
}

func TestJobPods(t *testing.T) {
	res := Job(testJob(ptr(int32(1)), ptr(int32(1))), nil, t0, seeded())
	p := res.Create[0]
	if !strings.HasPrefix(p.Name, "pi-") || len(p.Name) != 8 {
		t.Errorf("name %q", p.Name)
	}
	want := map[string]string{"app": "web", LabelJobName: "pi", LabelBatchJobName: "pi", LabelControllerUID: "job-uid", LabelBatchControllerUID: "job-uid"}
	if diff := cmp.Diff(want, p.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if ref := metav1.GetControllerOf(p); ref == nil || ref.Kind != "Job" || ref.UID != "job-uid" || ref.APIVersion != "batch/v1" {
		t.Errorf("owner %+v", p.OwnerReferences)
	}

	res = Job(indexedJob(3, 2), nil, t0, seeded())
	if len(res.Create) != 2 {
		t.Fatalf("creates %d, want 2", len(res.Create))
	}
	for i, p := range res.Create {
		ix := strconv.Itoa(i)
		if !strings.HasPrefix(p.Name, "pi-"+ix+"-") || len(p.Name) != len("pi-0-")+5 {
			t.Errorf("name %q", p.Name)
		}
		if p.Annotations[AnnotationJobIndex] != ix || p.Labels[LabelJobCompletionIndex] != ix || p.Spec.Hostname != "pi-"+ix {
			t.Errorf("pod %d: annotations %v labels %v hostname %q", i, p.Annotations, p.Labels, p.Spec.Hostname)
		}
		env := p.Spec.Containers[0].Env
		if len(env) != 1 || env[0].Name != "JOB_COMPLETION_INDEX" || env[0].ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
			t.Errorf("env %+v", env)
		}
	}
}

func TestJobStatusTimes(t *testing.T) {
	j := testJob(ptr(int32(1)), ptr(int32(1)))
	j.Status.StartTime = nil
	res := Job(j, nil, at(3), seeded())
	if st := res.Job.Status.StartTime; st == nil || !st.Time.Equal(at(3)) {
		t.Errorf("startTime %v, want %v", st, at(3))
	}
	res.Job.Spec.TTLSecondsAfterFinished = ptr(int32(100))
	res = Job(res.Job, []Pod{jpod("a", succeeded, 9)}, at(10), seeded())
	if ct := res.Job.Status.CompletionTime; ct == nil || !ct.Time.Equal(at(10)) || res.RequeueAt != at(110) || res.DeleteJob {
		t.Errorf("completionTime %v, RequeueAt %v, DeleteJob %v", ct, res.RequeueAt, res.DeleteJob)
	}
	if res := Job(res.Job, nil, at(109), seeded()); res.DeleteJob || len(res.Create) != 0 {
		t.Errorf("deleted or acted before its time to live")
	}
	if res := Job(res.Job, nil, at(110), seeded()); !res.DeleteJob {
		t.Errorf("not deleted after its time to live")
	}

	s := suspend(testJob(ptr(int32(1)), ptr(int32(1))), true)
	s.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobSuspended, Status: corev1.ConditionTrue, Reason: ReasonJobSuspended}}
	s.Spec.Suspend = ptr(false)
	res = Job(s, nil, at(50), seeded())
	if st := res.Job.Status.StartTime; !st.Time.Equal(at(50)) || len(res.Create) != 1 {
		t.Errorf("resumed: startTime %v, creates %d", st, len(res.Create))
	}
	if diff := cmp.Diff([]cond{{"Suspended", "False", ReasonJobResumed}}, conds(res.Job)); diff != "" {
		t.Errorf("conditions (-want +got):\n%s", diff)
	}
}

func TestJobBackoff(t *testing.T) {
	for failures, want := range map[int]time.Duration{0: 0, 1: 10 * time.Second, 2: 20 * time.Second, 6: 320 * time.Second, 7: 10 * time.Minute, 40: 10 * time.Minute} {
		if got := JobBackoff(failures); got != want {
			t.Errorf("JobBackoff(%d) = %v, want %v", failures, got, want)
		}
	}
}

func TestFormatIndexes(t *testing.T) {
	tests := []struct {
		in   []int
		want string
	}{
		{nil, ""}, {[]int{3}, "3"}, {[]int{1, 2}, "1-2"}, {[]int{5, 1, 3, 4}, "1,3-5"}, {[]int{0, 1, 2, 7, 9, 10}, "0-2,7,9-10"},
	}
	for _, tt := range tests {
		if got := FormatIndexes(tt.in); got != tt.want {
			t.Errorf("FormatIndexes(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if diff := cmp.Diff([]int{1, 3, 4, 5}, ParseIndexes("1,3-5,x,9", 6)); diff != "" {
		t.Errorf("ParseIndexes (-want +got):\n%s", diff)
	}
}

func replaceFailed(j *batchv1.Job) *batchv1.Job {
	j.Spec.PodReplacementPolicy = ptr(batchv1.Failed)
	return j
}

func TestFinishedAt(t *testing.T) {
	p := jpod("a", failed, 0)
	p.Finished = time.Time{}
	if got := finishedAt(&p); !got.Equal(at(0)) {
		t.Errorf("no times: %v, want the creation", got)
	}
	p.Pod.Status.ContainerStatuses = []corev1.ContainerStatus{
		{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{FinishedAt: metav1.NewTime(at(7))}}},
		{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{FinishedAt: metav1.NewTime(at(9))}}},
	}
	if got := finishedAt(&p); !got.Equal(at(9)) {
		t.Errorf("from containers: %v, want the last exit", got)
	}
	p.Finished = at(11)
	if got := finishedAt(&p); !got.Equal(at(11)) {
		t.Errorf("recorded: %v, want the runner's", got)
	}
}

func TestJobReadyAndTerminating(t *testing.T) {
	stopping := jpod("c", running, 0)
	stopping.Deleting = true
	res := Job(testJob(ptr(int32(5)), ptr(int32(3))), []Pod{ready(jpod("a", running, 0), 1), jpod("b", corev1.PodPending, 0), stopping}, at(5), seeded())
	st := res.Job.Status
	if st.Active != 3 || *st.Ready != 1 || *st.Terminating != 1 || len(res.Create) != 1 {
		t.Errorf("active %d ready %d terminating %d, creates %d", st.Active, *st.Ready, *st.Terminating, len(res.Create))
	}
}
