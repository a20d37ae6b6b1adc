package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/kube"
	kc "github.com/podrun/podrun/kube/controllers"
	"github.com/podrun/podrun/runner/supervise"
)

func init() { registerController("job", jobController{}) }

// JobBackoffEnv, for tests only, replaces the Job controller's first pod
// re-creation back-off (10 s, doubling) with a Go duration ("100ms"). The
// supervisor reads it once; leave it unset.
const JobBackoffEnv = "PODRUN_TEST_JOB_BACKOFF"

var jobBackoffOnce sync.Once

// jobTestBackoff applies JobBackoffEnv, once per process.
func jobTestBackoff() {
	jobBackoffOnce.Do(func() {
		if d, err := time.ParseDuration(os.Getenv(JobBackoffEnv)); err == nil && d > 0 {
			kc.JobBackoffBase = d
		}
	})
}

// jobController runs a Job: one step of kube/controllers' Job, carried
// out. Its finished pods stay while the Job does: they are its record.
type jobController struct{}

func (jobController) Sync(ctx context.Context, w *supervise.Workload, env supervise.Env) (time.Duration, error) {
	jobTestBackoff()
	job, err := decodeJob(w.Object, w.Status)
	if err != nil {
		return 0, err
	}
	if kube.JobManagedElsewhere(job) != "" {
		// Another controller's, as the built-in controller leaves it:
		// no pods, no status.
		return 0, nil
	}
	now := env.Now()
	pods := env.Pods()
	res, err := syncJob(ctx, job, pods, env, now)
	if err != nil {
		return 0, err
	}
	if res.DeleteJob {
		return 0, removeJob(ctx, env, pods)
	}
	if err := env.SetStatus(res.Job.Status); err != nil {
		return 0, err
	}
	return requeueIn(res.RequeueAt, now, 1), nil
}

// decodeJob is the Job as applied with the status last recorded.
func decodeJob(object, status json.RawMessage) (*batchv1.Job, error) {
	var job batchv1.Job
	if err := json.Unmarshal(object, &job); err != nil {
		return nil, fmt.Errorf("decoding job: %w", err)
	}
	job.Status = batchv1.JobStatus{}
	if len(status) > 0 {
		if err := json.Unmarshal(status, &job.Status); err != nil {
			return nil, fmt.Errorf("decoding the status of job %s: %w", job.Name, err)
		}
	}
	return &job, nil
}

// removeJob is ttlSecondsAfterFinished's end for a Job of its own: its
// pods go, then the Job, and with it its supervisor.
func removeJob(ctx context.Context, env supervise.Env, pods []corev1.Pod) error {
	if err := env.DeletePods(ctx, jobPodNames(pods)...); err != nil {
		return err
	}
	rm, ok := env.(supervise.Remover)
	if !ok {
		return fmt.Errorf("removing a finished job: the supervisor cannot remove its workload")
	}
	return rm.RemoveWorkload(ctx)
}

// requeueIn is how long until at, on a clock that runs speed times as
// fast as the real one; zero for no time.
func requeueIn(at, now time.Time, speed float64) time.Duration {
	if at.IsZero() {
		return 0
	}
	d := time.Duration(float64(at.Sub(now)) / speed)
	return max(d, time.Millisecond)
}

// syncJob is one step of job, whose pods are pods: observe, decide, then
// delete and create pods. The caller stores the status and carries out
// DeleteJob.
func syncJob(ctx context.Context, job *batchv1.Job, pods []corev1.Pod, env supervise.Env, now time.Time) (kc.JobResult, error) {
	res := kc.Job(job, observedPods(pods), now, jobRand{})
	jobEvents(env, job, &res)
	if err := env.DeletePods(ctx, res.Delete...); err != nil {
		return res, err
	}
	if len(res.Create) > 0 {
		if err := env.CreatePods(ctx, res.Create...); err != nil {
			env.Event(corev1.EventTypeWarning, "FailedCreate", fmt.Sprintf("Error creating: %v", err))
			return res, err
		}
	}
	return res, nil
}

// jobEvents records the events the Job controller posts for one step.
func jobEvents(env supervise.Env, old *batchv1.Job, res *kc.JobResult) {
	for _, n := range res.Delete {
		env.Event(corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: "+n)
	}
	for _, p := range res.Create {
		env.Event(corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: "+p.Name)
	}
	for _, c := range res.Job.Status.Conditions {
		if c.Status != corev1.ConditionTrue || hasJobCondition(old, c.Type) {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			env.Event(corev1.EventTypeNormal, "Completed", "Job completed")
		case batchv1.JobFailed:
			env.Event(corev1.EventTypeWarning, c.Reason, c.Message)
		case batchv1.JobSuspended:
			env.Event(corev1.EventTypeNormal, "Suspended", "Job suspended")
		}
	}
	if hasJobCondition(old, batchv1.JobSuspended) && !hasJobCondition(res.Job, batchv1.JobSuspended) {
		env.Event(corev1.EventTypeNormal, "Resumed", "Job resumed")
	}
}

func hasJobCondition(job *batchv1.Job, t batchv1.JobConditionType) bool {
	for _, c := range job.Status.Conditions {
		if c.Type == t && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// JobFinished is whether job is Complete or Failed, and the condition
// that says so.
func JobFinished(job *batchv1.Job) (batchv1.JobCondition, bool) {
	for _, c := range job.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c, true
		}
	}
	return batchv1.JobCondition{}, false
}

func jobPodNames(pods []corev1.Pod) []string {
	out := make([]string, len(pods))
	for i, p := range pods {
		out[i] = p.Name
	}
	return out
}

// jobRand draws pod name suffixes from math/rand's global source.
type jobRand struct{}

func (jobRand) Intn(n int) int { return rand.Intn(n) }
