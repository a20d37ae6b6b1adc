package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner"
)

func newUpCommand(g *globals) *cobra.Command {
	var m manifestFlags
	cmd := &cobra.Command{
		Use:   "up -f FILE|DIR|-",
		Short: "Run pods, streaming their output, until they finish or Ctrl-C",
		Long: `up starts the pods of the manifests as apply does, each with a monitor of
its own, and follows every container's log as logs -f --all-containers
--prefix does, through restarts and containers that start later. Ctrl-C or
SIGTERM deletes the pods as delete does (preStop hooks, stop signal, grace
period); a second Ctrl-C or SIGTERM kills them at once. up also returns
once every pod has finished (Succeeded or Failed) and every Job is
complete or failed; a pod with restartPolicy Always, and a workload other
than a Job, runs until Ctrl-C. A workload's pods are its supervisor's, as
after apply; up follows their logs as they come, and deletes the
workload at the end. A pod deleted from elsewhere is
reported and the others go on. up deletes only the pods it created: a pod
that already exists is an error.

Exit code: 0 when every pod succeeded and every Job completed, or they
were stopped by the user (Ctrl-C, SIGTERM, or a delete from elsewhere); 1
when a pod failed or could not start, or a Job failed, named in the
error, after the last lines of the Job's pod that failed: a CI gate.`,
		Example: `  podrun up -f job.yaml
  podrun up -f examples/hello`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, r, err := m.open(cmd, g)
			if err != nil {
				return err
			}
			objs, err := r.ApplyObjects(contextOf(cmd), set)
			printApplied(cmd, set, objs)
			if err != nil {
				return err
			}
			u := &upRun{r: r, out: &lockedWriter{w: cmd.OutOrStdout()}, errOut: cmd.ErrOrStderr(), stop: make(chan struct{})}
			return u.run(contextOf(cmd), set.Pods, set.Workloads)
		},
	}
	m.bind(cmd.Flags())
	m.bindPull(cmd.Flags())
	_ = cmd.MarkFlagRequired("filename")
	return cmd
}

// upRun is one `podrun up`: the pods it created, their logs, their end.
type upRun struct {
	r           *runner.Runner
	out, errOut io.Writer
	stop        chan struct{} // closed by the first Ctrl-C or SIGTERM
}

// upPollPeriod is how often up reads its pods' phases.
const upPollPeriod = 250 * time.Millisecond

// run applies the pods and workloads, follows their logs until they
// have finished (a workload: a Job complete or failed) or a signal
// comes, then deletes them.
func (u *upRun) run(ctx context.Context, pods []kube.Pod, workloads []kube.Workload) error {
	graceful, hurry := context.WithCancel(context.WithoutCancel(ctx))
	defer hurry()
	defer u.onSignals(hurry)()
	outcomes, err := u.r.Apply(ctx, pods)
	mine, err := created(outcomes, err)
	works, werr := u.applyWorkloads(ctx, workloads)
	err = errors.Join(err, werr)
	switch {
	case u.stopped() || ctx.Err() != nil: // while the pods started
		return errors.Join(u.deleteAll(graceful, mine), u.deleteWorkloads(graceful, works))
	case err != nil:
		return errors.Join(err, u.deleteAll(graceful, mine), u.deleteWorkloads(graceful, works))
	}
	follow, stopFollowing := context.WithCancel(context.WithoutCancel(ctx))
	defer stopFollowing()
	f := u.follow(follow, mine)
	discover, stopDiscovering := context.WithCancel(follow)
	wf := u.followWorkloads(discover, follow, works)
	err = errors.Join(u.watch(ctx, mine), u.watchWorkloads(ctx, works))
	stopDiscovering()
	if !u.stopped() {
		// Every pod is over: the followers read their last lines before
		// the logs go with the pods.
		for _, done := range []chan struct{}{f.done, wf} {
			select {
			case <-done:
			case <-u.stop:
			}
		}
	}
	err = errors.Join(err, u.deleteAll(graceful, mine), u.deleteWorkloads(graceful, works))
	stopFollowing()
	<-f.done
	<-wf
	return errors.Join(err, f.err)
}

// created returns the pods Apply created, and an error for each it found
// already there: up deletes only its own.
func created(outcomes []runner.Outcome, err error) ([]runner.Outcome, error) {
	var mine []runner.Outcome
	for _, o := range outcomes {
		if o.Action == "created" {
			mine = append(mine, o)
			continue
		}
		err = errors.Join(err, fmt.Errorf("pod %s/%s already runs (started by apply): delete it first", o.Namespace, o.Name))
	}
	return mine, err
}

// onSignals closes u.stop at the first SIGINT or SIGTERM and calls hurry
// at the second. The returned function stops listening.
func (u *upRun) onSignals(hurry context.CancelFunc) func() {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for n := 0; ; n++ {
			select {
			case <-sigs:
			case <-done:
				return
			}
			if n == 0 {
				close(u.stop)
				fmt.Fprintln(u.errOut, "deleting the pods (Ctrl-C again to kill them at once)")
				continue
			}
			hurry()
		}
	}()
	return func() { signal.Stop(sigs); close(done) }
}

func (u *upRun) stopped() bool {
	select {
	case <-u.stop:
		return true
	default:
		return false
	}
}

// followers write the pods' logs, one goroutine per pod.
type followers struct {
	done chan struct{} // closed once every one has returned
	err  error         // theirs, once done is closed
}

// follow writes every pod's logs to u.out until the pods' lives are over
// or ctx ends.
func (u *upRun) follow(ctx context.Context, pods []runner.Outcome) *followers {
	opts := runner.LogOptions{Follow: true, AllContainers: true, Prefix: true, Lifetime: true}
	f := &followers{done: make(chan struct{})}
	errs := make([]error, len(pods))
	var wg sync.WaitGroup
	for i, o := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := u.logs(ctx, o, opts)
			if err != nil && !errors.Is(err, runner.ErrPodNotFound) {
				errs[i] = fmt.Errorf("following the logs of pod %s/%s: %w", o.Namespace, o.Name, err)
			}
		}()
	}
	go func() {
		wg.Wait()
		f.err = errors.Join(errs...)
		close(f.done)
	}()
	return f
}

// logs follows the logs of pod o. A pod Pending (no node would take it
// yet) has no containers until it is started, which logs waits for until
// ctx ends.
func (u *upRun) logs(ctx context.Context, o runner.Outcome, opts runner.LogOptions) error {
	for {
		p, err := u.r.Get(ctx, o.Namespace, o.Name)
		if err != nil {
			return err
		}
		if len(p.Status.InitContainerStatuses)+len(p.Status.ContainerStatuses) > 0 {
			return u.r.Logs(ctx, o.Namespace, o.Name, opts, u.out)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(upPollPeriod):
		}
	}
}

// watch reads the pods' phases until each has finished or is gone, or
// u.stop is closed, and returns an error naming each pod that failed. A
// pod deleted from elsewhere is announced, as kubectl would, and counts
// as stopped by the user.
func (u *upRun) watch(ctx context.Context, pods []runner.Outcome) error {
	left := slices.Clone(pods)
	missing := map[runner.Outcome]int{}
	var failures []error
	for len(left) > 0 {
		left = slices.DeleteFunc(left, func(o runner.Outcome) bool {
			p, err := u.r.Get(ctx, o.Namespace, o.Name)
			switch {
			case errors.Is(err, runner.ErrPodNotFound):
				// Twice: apply starting a waiting pod afresh removes
				// it for a moment.
				if missing[o]++; missing[o] < 2 {
					return false
				}
				fmt.Fprintf(u.errOut, "pod/%s deleted\n", o.Name)
				return true
			case err != nil:
				failures = append(failures, err)
				return true
			}
			missing[o] = 0
			if p.DeletionTimestamp != nil {
				return false // deleted from elsewhere: wait until it is gone
			}
			switch p.Status.Phase {
			case corev1.PodSucceeded:
				return true
			case corev1.PodFailed, corev1.PodUnknown:
				failures = append(failures, podFailure(p))
				return true
			}
			return false
		})
		select {
		case <-u.stop:
			return errors.Join(failures...)
		case <-time.After(upPollPeriod):
		}
	}
	return errors.Join(failures...)
}

// podFailure says why pod p failed: the pod's reason (DeadlineExceeded,
// MonitorLost, Evicted), else the first container, init containers
// first, that could not start or exited with a non-zero code.
func podFailure(p *corev1.Pod) error {
	name := p.Namespace + "/" + p.Name
	if p.Status.Reason != "" {
		return fmt.Errorf("pod %s: %s: %s", name, p.Status.Reason, p.Status.Message)
	}
	for i, cs := range slices.Concat(p.Status.InitContainerStatuses, p.Status.ContainerStatuses) {
		t := cs.State.Terminated
		if t == nil || t.ExitCode == 0 {
			continue
		}
		kind := "container"
		if i < len(p.Status.InitContainerStatuses) {
			kind = "init container"
		}
		if t.Reason == "StartError" {
			return fmt.Errorf("pod %s: %s %q could not start: %s", name, kind, cs.Name, t.Message)
		}
		why := ""
		if t.Reason != "" && t.Reason != "Error" {
			why = " (" + t.Reason + ")" // OOMKilled, say
		}
		return fmt.Errorf("pod %s: %s %q exited with %d%s", name, kind, cs.Name, t.ExitCode, why)
	}
	return fmt.Errorf("pod %s: %s", name, p.Status.Phase)
}

// deleteAll deletes the pods side by side, each with its grace period;
// once ctx ends (a second Ctrl-C), at once.
func (u *upRun) deleteAll(ctx context.Context, pods []runner.Outcome) error {
	errs := make([]error, len(pods))
	var wg sync.WaitGroup
	for i, o := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = u.delete(ctx, o)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// delete deletes one pod; a pod already gone is no error. A Delete that
// ctx ended before it began is done again with no grace.
func (u *upRun) delete(ctx context.Context, o runner.Outcome) error {
	err := u.r.Delete(ctx, o.Namespace, o.Name, runner.DeleteOptions{})
	if err != nil && ctx.Err() != nil && !errors.Is(err, runner.ErrPodNotFound) {
		var now time.Duration
		err = u.r.Delete(context.WithoutCancel(ctx), o.Namespace, o.Name, runner.DeleteOptions{GracePeriod: &now})
	}
	if errors.Is(err, runner.ErrPodNotFound) {
		return nil
	}
	return err
}

// lockedWriter serialises the writes of several pods' log followers.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
