package runner

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/supervise"
)

// fakeEnv records what a controller does in one step.
type fakeEnv struct {
	now     time.Time
	pods    []corev1.Pod
	created []*corev1.Pod
	deleted []string
	status  json.RawMessage
	events  []string
	owned   map[string][]byte
	removed bool
}

func (e *fakeEnv) Pods() []corev1.Pod { return e.pods }
func (e *fakeEnv) CreatePods(_ context.Context, pods ...*corev1.Pod) error {
	e.created = append(e.created, pods...)
	return nil
}
func (e *fakeEnv) DeletePods(_ context.Context, names ...string) error {
	e.deleted = append(e.deleted, names...)
	return nil
}
func (e *fakeEnv) SetStatus(s any) error {
	e.status, _ = json.Marshal(s)
	return nil
}
func (e *fakeEnv) Event(typ, reason, message string) {
	e.events = append(e.events, typ+" "+reason+" "+message)
}
func (e *fakeEnv) Now() time.Time { return e.now }
func (e *fakeEnv) PutOwned(_ context.Context, kind, name string, obj any) ([]byte, error) {
	data, err := json.Marshal(obj) // the controller gives its Jobs a uid
	if e.owned == nil {
		e.owned = map[string][]byte{}
	}
	e.owned[kind+"/"+name] = data
	return data, err
}
func (e *fakeEnv) DeleteOwned(_ context.Context, kind, name string) error {
	delete(e.owned, kind+"/"+name)
	return nil
}
func (e *fakeEnv) RemoveWorkload(context.Context) error {
	e.removed = true
	return nil
}

// loadWorkload decodes, validates and defaults a manifest's one workload,
// as apply does.
func loadWorkload(t *testing.T, text string) *kube.Workload {
	t.Helper()
	objs, err := kube.Decode("test.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	set, err := kube.Expand(objs, kube.Options{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Workloads) != 1 {
		t.Fatalf("%d workloads", len(set.Workloads))
	}
	return &set.Workloads[0]
}

func stored(t *testing.T, obj any, status any) *supervise.Workload {
	t.Helper()
	data, _, err := supervise.Stamp(nil, obj, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	w := &supervise.Workload{Object: data}
	if status != nil {
		w.Status, _ = json.Marshal(status)
	}
	return w
}

const jobManifest = `apiVersion: batch/v1
kind: Job
metadata: {name: pi}
spec:
  completions: 2
  ttlSecondsAfterFinished: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox}]
`

func finishedPod(p *corev1.Pod, phase corev1.PodPhase, code int32, at time.Time) corev1.Pod {
	q := *p.DeepCopy()
	q.Status.Phase = phase
	q.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "main", State: corev1.ContainerState{
		Terminated: &corev1.ContainerStateTerminated{ExitCode: code, FinishedAt: metav1.NewTime(at)}}}}
	return q
}

// TestJobControllerSteps: a Job's pods are made one at a time, labelled
// and owned; its status is recorded; once complete and past its time to
// live, its pods and then itself are removed.
func TestJobControllerSteps(t *testing.T) {
	w := loadWorkload(t, jobManifest)
	job := w.Object.(*batchv1.Job)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	env := &fakeEnv{now: now}
	if _, err := (jobController{}).Sync(context.Background(), stored(t, job, nil), env); err != nil {
		t.Fatal(err)
	}
	if len(env.created) != 1 {
		t.Fatalf("created %d pods, want 1 (parallelism 1)", len(env.created))
	}
	p := env.created[0]
	if !strings.HasPrefix(p.Name, "pi-") || p.Labels["job-name"] != "pi" || p.Labels[batchv1.ControllerUidLabel] != string(job.UID) ||
		len(p.OwnerReferences) != 1 || p.OwnerReferences[0].UID != job.UID {
		t.Errorf("pod %s labels %v owners %+v", p.Name, p.Labels, p.OwnerReferences)
	}
	var st batchv1.JobStatus
	json.Unmarshal(env.status, &st)
	if st.Active != 1 || st.StartTime == nil || !slices.Contains(env.events, "Normal SuccessfulCreate Created pod: "+p.Name) {
		t.Errorf("status %+v, events %v", st, env.events)
	}

	// Both pods succeeded: Complete, then removed at once (ttl 0).
	p2 := p.DeepCopy()
	p2.Name = "pi-other"
	pods := []corev1.Pod{finishedPod(p, corev1.PodSucceeded, 0, now), finishedPod(p2, corev1.PodSucceeded, 0, now)}
	env = &fakeEnv{now: now.Add(time.Second), pods: pods}
	if _, err := (jobController{}).Sync(context.Background(), stored(t, job, st), env); err != nil {
		t.Fatal(err)
	}
	if len(env.created) != 0 || !env.removed || !slices.Equal(env.deleted, []string{p.Name, "pi-other"}) {
		t.Errorf("created %d, deleted %v, removed %v; want the pods deleted and the Job removed", len(env.created), env.deleted, env.removed)
	}
	if !slices.Contains(env.events, "Normal Completed Job completed") {
		t.Errorf("events %v", env.events)
	}
}

// TestObserveJobPods: readiness and since when, deletion, the finish
// time of a finished pod, and a pod waiting for a node.
func TestObserveJobPods(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	running := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Status: corev1.PodStatus{Phase: corev1.PodRunning,
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t0)}}}}
	stopping := running
	stopping.DeletionTimestamp = &metav1.Time{Time: t0}
	failed := finishedPod(&corev1.Pod{}, corev1.PodFailed, 42, t0.Add(time.Minute))
	pending := corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending,
		Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable"}}}}
	got := observedPods([]corev1.Pod{running, stopping, failed, pending})
	if !got[0].Ready || !got[0].ReadySince.Equal(t0) || got[0].Deleting || !got[0].Finished.IsZero() {
		t.Errorf("running: %+v", got[0])
	}
	if !got[1].Deleting {
		t.Errorf("stopping: %+v", got[1])
	}
	if !got[2].Finished.Equal(t0.Add(time.Minute)) || got[2].Ready {
		t.Errorf("failed: %+v", got[2])
	}
	if !got[3].Unscheduled {
		t.Errorf("pending: %+v", got[3])
	}
}

func TestRequeueIn(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		at    time.Time
		speed float64
		want  time.Duration
	}{
		{time.Time{}, 1, 0},
		{now.Add(10 * time.Second), 1, 10 * time.Second},
		{now.Add(time.Minute), 60, time.Second},
		{now.Add(-time.Second), 1, time.Millisecond},
	} {
		if got := requeueIn(c.at, now, c.speed); got != c.want {
			t.Errorf("requeueIn(%v, speed %v) = %v, want %v", c.at, c.speed, got, c.want)
		}
	}
}

func TestCronClock(t *testing.T) {
	t.Setenv(ClockEnv, "2026-01-01T00:00:00Z,60")
	c, err := testCronClock()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := c.at(start.Add(2 * time.Second)); !got.Equal(start.Add(2 * time.Minute)) {
		t.Errorf("two seconds in: %v", got)
	}
	for _, bad := range []string{"yesterday,60", "2026-01-01T00:00:00Z,0", "2026-01-01T00:00:00Z"} {
		t.Setenv(ClockEnv, bad)
		if _, err := testCronClock(); err == nil {
			t.Errorf("%s=%q accepted", ClockEnv, bad)
		}
	}
	t.Setenv(ClockEnv, "")
	if c, err := testCronClock(); err != nil || !c.at(start).Equal(start) {
		t.Errorf("without it: %v %v", c, err)
	}
}

// TestCronJobControllerStarts: a missed schedule time starts the Job
// named by its minute, stored as the CronJob's own with a uid and
// selector, its first pod owned by the Job.
func TestCronJobControllerStarts(t *testing.T) {
	w := loadWorkload(t, `apiVersion: batch/v1
kind: CronJob
metadata: {name: tick}
spec:
  schedule: "*/5 * * * *"
  timeZone: UTC
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: main, image: busybox}]
`)
	cj := w.Object.(*batchv1.CronJob)
	created := time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC)
	cj.CreationTimestamp = metav1.NewTime(created)
	cj.UID = "cj-uid"
	env := &fakeEnv{now: created.Add(5 * time.Minute)}
	wait, err := (cronJobController{}).Sync(context.Background(), stored(t, cj, nil), env)
	if err != nil {
		t.Fatal(err)
	}
	name := "tick-29453765" // 2026-01-01T00:05Z in minutes since the epoch
	data, ok := env.owned["job/"+name]
	if !ok {
		t.Fatalf("owned %v, want job/%s", env.owned, name)
	}
	var job batchv1.Job
	json.Unmarshal(data, &job)
	if job.UID == "" || job.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel] != string(job.UID) ||
		job.OwnerReferences[0].UID != "cj-uid" || job.Status.StartTime == nil || job.Status.Active != 1 {
		t.Errorf("job %+v", job)
	}
	if len(env.created) != 1 || env.created[0].OwnerReferences[0].UID != job.UID || env.created[0].Labels["job-name"] != name {
		t.Errorf("pods %+v", env.created)
	}
	var st batchv1.CronJobStatus
	json.Unmarshal(env.status, &st)
	if len(st.Active) != 1 || st.LastScheduleTime == nil || !st.LastScheduleTime.Time.Equal(created.Add(4*time.Minute)) {
		t.Errorf("status %+v", st)
	}
	if wait != 4*time.Minute {
		t.Errorf("requeue in %v, want at 00:10", wait)
	}
}
