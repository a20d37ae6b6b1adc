package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/podrun/podrun/kube"
	kc "github.com/podrun/podrun/kube/controllers"
	"github.com/podrun/podrun/runner/supervise"
)

func init() { registerController("cronjob", cronJobController{}) }

// ClockEnv, for tests only, gives the CronJob controller an accelerated
// clock: "<start RFC 3339>,<speed>" reads start + (now - start) * speed,
// so that from the instant start its schedule runs speed times as fast
// ("...,60": a minute a second). The Jobs it starts keep the real clock.
// Leave it unset.
const ClockEnv = "PODRUN_TEST_CLOCK"

// cronClock is the CronJob controller's clock: the real one, or
// ClockEnv's.
type cronClock struct {
	start time.Time
	speed float64
}

func testCronClock() (cronClock, error) {
	v := os.Getenv(ClockEnv)
	if v == "" {
		return cronClock{speed: 1}, nil
	}
	start, speed, _ := strings.Cut(v, ",")
	t, err := time.Parse(time.RFC3339, start)
	if err != nil {
		return cronClock{}, fmt.Errorf("reading %s: %w", ClockEnv, err)
	}
	s, err := strconv.ParseFloat(speed, 64)
	if err != nil || s <= 0 {
		return cronClock{}, fmt.Errorf("reading %s: speed %q is not a positive number", ClockEnv, speed)
	}
	return cronClock{start: t, speed: s}, nil
}

func (c cronClock) at(real time.Time) time.Time {
	if c.start.IsZero() {
		return real
	}
	return c.start.Add(time.Duration(float64(real.Sub(c.start)) * c.speed))
}

// cronJobController fires a CronJob's schedule. The Jobs it starts are
// objects it owns (owned/job_<name>.json, their status in them), run by
// this same supervisor, one step of each Job before the CronJob's own:
// one supervisor per CronJob, and a Job's pods owned by the Job.
type cronJobController struct{}

func (cronJobController) Sync(ctx context.Context, w *supervise.Workload, env supervise.Env) (time.Duration, error) {
	jobTestBackoff()
	clock, err := testCronClock()
	if err != nil {
		return 0, err
	}
	var cj batchv1.CronJob
	if err := w.Decode(&cj); err != nil {
		return 0, err
	}
	if len(w.Status) > 0 {
		if err := json.Unmarshal(w.Status, &cj.Status); err != nil {
			return 0, fmt.Errorf("decoding the status of cronjob %s: %w", cj.Name, err)
		}
	}
	real := env.Now()
	jobs, jobsAt, err := runCronJobJobs(ctx, w, env, real)
	if err != nil {
		return 0, err
	}
	now := clock.at(real)
	res := kc.CronJob(&cj, jobs, now, time.LoadLocation)
	for _, warn := range res.Warnings {
		env.Event(corev1.EventTypeWarning, warn.Reason, warn.Message)
	}
	if err := deleteCronJobJobs(ctx, env, res.Delete); err != nil {
		return 0, err
	}
	var startAt time.Time
	if res.Create != nil {
		if startAt, err = startCronJobJob(ctx, &cj, res.CronJob, env, real); err != nil {
			return 0, err
		}
	}
	if err := env.SetStatus(res.CronJob.Status); err != nil {
		return 0, err
	}
	wait := requeueIn(res.RequeueAt, now, clock.speed)
	for _, at := range []time.Time{jobsAt, startAt} {
		if d := requeueIn(at, real, 1); d > 0 && (wait == 0 || d < wait) {
			wait = d
		}
	}
	return wait, nil
}

// runCronJobJobs runs one step of each Job the CronJob owns, stores their
// statuses and deletes those past their time to live; it returns the
// Jobs left and the earliest time one of them asked to be synced again.
func runCronJobJobs(ctx context.Context, w *supervise.Workload, env supervise.Env, now time.Time) ([]*batchv1.Job, time.Time, error) {
	pods := env.Pods()
	var jobs []*batchv1.Job
	var requeue time.Time
	for _, o := range w.Owned {
		if o.Kind != "job" {
			continue
		}
		var job batchv1.Job
		if err := json.Unmarshal(o.Object, &job); err != nil {
			return nil, time.Time{}, fmt.Errorf("decoding job %s: %w", o.Name, err)
		}
		mine := supervise.Owned(pods, string(job.UID))
		res, err := syncJob(ctx, &job, mine, jobEnv{env, job.Name}, now)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("job %s: %w", job.Name, err)
		}
		if res.DeleteJob {
			if err := deleteCronJobJobs(ctx, env, []string{job.Name}); err != nil {
				return nil, time.Time{}, err
			}
			continue
		}
		if !jsonEqual(res.Job.Status, job.Status) {
			if _, err := env.PutOwned(ctx, "job", job.Name, res.Job); err != nil {
				return nil, time.Time{}, err
			}
		}
		jobs = append(jobs, res.Job)
		requeue = earliestTime(requeue, res.RequeueAt)
	}
	return jobs, requeue, nil
}

// deleteCronJobJobs deletes Jobs the CronJob owns, their pods first.
func deleteCronJobJobs(ctx context.Context, env supervise.Env, names []string) error {
	if len(names) == 0 {
		return nil
	}
	byJob := map[string][]string{}
	for _, p := range env.Pods() {
		if n := p.Labels[batchv1.JobNameLabel]; n != "" {
			byJob[n] = append(byJob[n], p.Name)
		}
	}
	for _, n := range names {
		if err := env.DeletePods(ctx, byJob[n]...); err != nil {
			return fmt.Errorf("deleting the pods of job %s: %w", n, err)
		}
		if err := env.DeleteOwned(ctx, "job", n); err != nil {
			return err
		}
		env.Event(corev1.EventTypeNormal, "SuccessfulDelete", "Deleted job "+n)
	}
	return nil
}

// startCronJobJob stores the Job of the schedule time the controller
// chose, as the API server would (defaults, selector, uid), and runs its
// first step.
func startCronJobJob(ctx context.Context, cj, decided *batchv1.CronJob, env supervise.Env, now time.Time) (time.Time, error) {
	scheduled := decided.Status.LastScheduleTime
	if scheduled == nil {
		return time.Time{}, errors.New("the controller started a job without a schedule time")
	}
	job := kube.ScheduledJob(cj, scheduled.Time, types.UID(supervise.NewUID()))
	job.CreationTimestamp.Time = now
	if _, err := env.PutOwned(ctx, "job", job.Name, job); err != nil {
		return time.Time{}, err
	}
	env.Event(corev1.EventTypeNormal, "SuccessfulCreate", "Created job "+job.Name)
	res, err := syncJob(ctx, job, nil, jobEnv{env, job.Name}, now)
	if err != nil {
		return time.Time{}, fmt.Errorf("job %s: %w", job.Name, err)
	}
	if _, err := env.PutOwned(ctx, "job", job.Name, res.Job); err != nil {
		return time.Time{}, err
	}
	return res.RequeueAt, nil
}

// jobEnv is a CronJob's Env seen by one of its Jobs: its events say
// which Job they are about.
type jobEnv struct {
	supervise.Env
	job string
}

func (e jobEnv) Event(typ, reason, message string) {
	e.Env.Event(typ, reason, "Job "+e.job+": "+message)
}

func jsonEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

func earliestTime(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// CreateJobFromCronJob is kubectl create job NAME --from=cronjob/CJ: it
// stores the Job of the CronJob's template, marked as made by hand and
// owned by the CronJob, whose supervisor runs it at once.
func (r *Runner) CreateJobFromCronJob(ctx context.Context, namespace, cronJob, name string) (Outcome, error) {
	out := Outcome{Kind: "job.batch", Namespace: namespace, Name: name}
	k, err := supervise.NewKey("cronjob", namespace, cronJob)
	if err != nil {
		return out, err
	}
	d := r.Workloads().Workload(k)
	notFound := fmt.Errorf("cronjobs.batch %q not found: %w", cronJob, ErrWorkloadNotFound)
	l, err := d.Lock(ctx)
	if errors.Is(err, ErrWorkloadNotFound) {
		return out, notFound
	}
	if err != nil {
		return out, err
	}
	defer l.Unlock()
	data, err := d.ReadObject()
	if errors.Is(err, ErrWorkloadNotFound) {
		return out, notFound
	}
	if err != nil {
		return out, err
	}
	if rec, err := d.Read(); err != nil || !rec.Deleting.IsZero() {
		return out, errors.Join(err, fmt.Errorf("cronjob %q is being deleted", cronJob))
	}
	var cj batchv1.CronJob
	if err := json.Unmarshal(data, &cj); err != nil {
		return out, fmt.Errorf("decoding cronjob %q: %w", cronJob, err)
	}
	if existing, _ := r.ListWorkloads("job", namespace); containsWorkload(existing, name) {
		return out, fmt.Errorf("jobs.batch %q already exists", name)
	}
	job, err := kube.ManualJob(&cj, name, types.UID(supervise.NewUID()))
	if err != nil {
		return out, err
	}
	job.CreationTimestamp.Time = time.Now()
	if _, err := d.PutOwned("job", name, job); err != nil {
		return out, err
	}
	out.Action = "created"
	// Rewriting the object as it is wakes the supervisor, which watches
	// it, to run the Job now; one that was lost is started again.
	if err := d.WriteObject(data); err != nil {
		return out, err
	}
	return out, r.Supervisors().EnsureLocked(ctx, d)
}

func containsWorkload(ws []Workload, name string) bool {
	for _, w := range ws {
		if w.Name == name {
			return true
		}
	}
	return false
}
