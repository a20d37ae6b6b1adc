package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner"
	"github.com/podrun/podrun/runner/supervise"
)

// upWorkload is a workload `up` applied: its supervisor runs its pods,
// up follows their logs and, for a Job, waits for its end.
type upWorkload struct {
	kind, namespace, name string
}

func (w upWorkload) String() string { return w.kind + "/" + w.name }

// upFailLines is how many of a failed Job's pod's last log lines up
// prints with the failure.
const upFailLines = 20

// applyWorkloads applies the workloads as apply does (each its
// supervisor), and returns those it created; one that exists already is
// an error, as for pods: up deletes only what it made.
func (u *upRun) applyWorkloads(ctx context.Context, workloads []kube.Workload) ([]upWorkload, error) {
	var mine []upWorkload
	var errs []error
	for i := range workloads {
		w := &workloads[i]
		kind, m := strings.ToLower(w.Kind), w.Meta()
		out, err := u.r.ApplyWorkload(ctx, kind, m)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %s %s: %w", w.Source, kind, m.GetName(), err))
		case out.Action != "created":
			errs = append(errs, fmt.Errorf("%s %s/%s already exists (applied by apply): delete it first", kind, m.GetNamespace(), m.GetName()))
		default:
			fmt.Fprintf(u.out, "%s.%s/%s created\n", kind, w.Object.GetObjectKind().GroupVersionKind().Group, m.GetName())
			mine = append(mine, upWorkload{kind, m.GetNamespace(), m.GetName()})
		}
	}
	return mine, errors.Join(errs...)
}

// followWorkloads follows the logs of the workloads' pods, each from
// when it appears until its life ends or follow does, looking for new
// ones until discover ends; done is closed once the last follower has
// returned.
func (u *upRun) followWorkloads(discover, follow context.Context, workloads []upWorkload) (done chan struct{}) {
	done = make(chan struct{})
	opts := runner.LogOptions{Follow: true, AllContainers: true, Prefix: true, Lifetime: true}
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		defer wg.Wait()
		seen := map[string]bool{}
		look := func() {
			for _, w := range workloads {
				for _, p := range u.workloadPods(follow, w) {
					// A pod the supervisor is still starting has no
					// containers recorded yet: nothing to follow.
					if seen[p.Namespace+"/"+p.Name] || len(p.Status.InitContainerStatuses)+len(p.Status.ContainerStatuses) == 0 {
						continue
					}
					seen[p.Namespace+"/"+p.Name] = true
					wg.Go(func() { _ = u.r.Logs(follow, p.Namespace, p.Name, opts, u.out) })
				}
			}
		}
		for {
			look()
			select {
			case <-discover.Done():
				look() // the pods that came and went since the last look
				return
			case <-time.After(upPollPeriod):
			}
		}
	}()
	return done
}

// workloadPods are the pods w owns, or its objects do.
func (u *upRun) workloadPods(ctx context.Context, w upWorkload) []corev1.Pod {
	got, err := u.r.GetWorkload(w.kind, w.namespace, w.name)
	if err != nil {
		return nil
	}
	var meta struct {
		Metadata struct{ UID string } `json:"metadata"`
	}
	if json.Unmarshal(got.Object, &meta) != nil {
		return nil
	}
	uids := []string{meta.Metadata.UID}
	for _, o := range got.Owned {
		uids = append(uids, o.UID)
	}
	pods, err := u.r.List(ctx, w.namespace)
	if err != nil {
		return nil
	}
	return supervise.Owned(pods, uids...)
}

// watchWorkloads waits until every workload is a finished Job, or u.stop
// is closed: other kinds run until Ctrl-C. It returns an error naming
// each Job that failed, after printing its failing pod's last log lines.
func (u *upRun) watchWorkloads(ctx context.Context, workloads []upWorkload) error {
	if len(workloads) == 0 {
		return nil
	}
	for {
		var failures []error
		finished := 0
		for _, w := range workloads {
			job, ok := u.job(w)
			if !ok {
				continue
			}
			if c, done := runner.JobFinished(job); done {
				finished++
				if c.Type == batchv1.JobFailed {
					failures = append(failures, fmt.Errorf("job %s/%s failed: %s: %s", w.namespace, w.name, c.Reason, c.Message))
				}
			}
		}
		if finished == len(workloads) {
			for _, w := range workloads {
				if job, _ := u.job(w); job != nil {
					if c, _ := runner.JobFinished(job); c.Type == batchv1.JobFailed {
						u.printFailedPod(ctx, w)
					}
				}
			}
			return errors.Join(failures...)
		}
		select {
		case <-u.stop:
			return nil
		case <-time.After(upPollPeriod):
		}
	}
}

// job is w as a Job with its status, if it is one.
func (u *upRun) job(w upWorkload) (*batchv1.Job, bool) {
	if w.kind != "job" {
		return nil, false
	}
	got, err := u.r.GetWorkload(w.kind, w.namespace, w.name)
	if err != nil {
		return nil, false
	}
	var job batchv1.Job
	if json.Unmarshal(got.Object, &job) != nil {
		return nil, false
	}
	return &job, true
}

// printFailedPod prints the last log lines of the Job's pod that failed
// last, the CI gate's reason.
func (u *upRun) printFailedPod(ctx context.Context, w upWorkload) {
	var last *corev1.Pod
	var lastAt time.Time
	for _, p := range u.workloadPods(ctx, w) {
		if p.Status.Phase != corev1.PodFailed {
			continue
		}
		if at := podFinishedAt(&p); last == nil || at.After(lastAt) {
			last, lastAt = &p, at
		}
	}
	if last == nil {
		return
	}
	fmt.Fprintf(u.errOut, "job/%s: the last lines of pod/%s, which failed:\n", w.name, last.Name)
	tail := int64(upFailLines)
	_ = u.r.Logs(ctx, last.Namespace, last.Name, runner.LogOptions{AllContainers: true, Prefix: true, Tail: &tail}, u.errOut)
}

// podFinishedAt is when the last of a pod's containers exited.
func podFinishedAt(p *corev1.Pod) time.Time {
	var t time.Time
	for _, cs := range append(p.Status.InitContainerStatuses, p.Status.ContainerStatuses...) {
		if term := cs.State.Terminated; term != nil && term.FinishedAt.After(t) {
			t = term.FinishedAt.Time
		}
	}
	return t
}

// deleteWorkloads deletes the workloads and their pods side by side.
func (u *upRun) deleteWorkloads(ctx context.Context, workloads []upWorkload) error {
	errs := make([]error, len(workloads))
	var wg sync.WaitGroup
	for i, w := range workloads {
		wg.Go(func() {
			err := u.r.DeleteWorkload(context.WithoutCancel(ctx), w.kind, w.namespace, w.name, runner.DeleteWorkloadOptions{})
			if err != nil && !errors.Is(err, runner.ErrWorkloadNotFound) {
				errs[i] = fmt.Errorf("deleting %s: %w", w, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
