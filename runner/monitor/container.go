package monitor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/kube/kubelet"
	"github.com/podrun/podrun/runner/rootfs"
	"github.com/podrun/podrun/runner/runtime"
	"github.com/podrun/podrun/runner/state"
)

// ctr supervises one init or app container across its runs.
type ctr struct {
	m       *monitor
	name    string
	id      string
	image   string
	role    kubelet.Role // App, Init or Sidecar
	spec    corev1.Container
	backoff kubelet.Backoff

	restarts int  // runs started after the first
	ran      bool // a run was made: delete it and renew the rootfs before the next
	// configErr is set while the container waits with
	// CreateContainerConfigError (its subPath could not be resolved).
	configErr bool

	mu      sync.Mutex
	current *run
	// settled is closed once the first run has started or has failed to;
	// for a sidecar, once a run is started (its startup probe passed, its
	// postStart hook returned), as the next init container waits for that,
	// or once supervise returns.
	settled    chan struct{}
	settleOnce sync.Once
}

// run is one run of a container: one runtime container, one log file.
type run struct {
	proc      *os.Process
	startedAt time.Time
	exited    chan struct{} // closed once reaped and recorded
	code      int
	signal    int
	killOnce  sync.Once
	// started is closed once the run counts as started (postStart done,
	// startup probe passed).
	started     chan struct{}
	startedOnce sync.Once
}

func (c *ctr) object() string {
	if c.role != kubelet.App {
		return fmt.Sprintf("spec.initContainers{%s}", c.name)
	}
	return fmt.Sprintf("spec.containers{%s}", c.name)
}

func (c *ctr) settle() { c.settleOnce.Do(func() { close(c.settled) }) }

// settleRun is called when a run has ended. A regular container is
// settled by its first run, started or not. A sidecar that ended before
// it counted as started is not: the next init container keeps waiting
// while it is restarted, as the kubelet does, but apply may return as
// for a failed init container.
func (c *ctr) settleRun() {
	if c.role != kubelet.Sidecar {
		c.settle()
		return
	}
	select {
	case <-c.settled:
	default:
		c.m.report()
	}
}

// shouldRestart applies the restart policy to an exit, by
// kubelet.ShouldRestart.
func (c *ctr) shouldRestart(code int) bool {
	return kubelet.ShouldRestart(c.m.pod.Spec.RestartPolicy, c.role, code)
}

// supervise runs the container, restarting it with back-off as its
// policy says, until it is done or the pod stops. It returns the last
// run's exit code.
func (c *ctr) supervise(ctx context.Context) int {
	defer c.settle()
	if configBlocked(c.m.record(c.name)) {
		return 1
	}
	for {
		code := 128
		if r := c.start(ctx); r != nil {
			go c.afterStart(ctx, r)
			<-r.exited
			code = r.code
		}
		c.settleRun()
		if c.m.halted() || !c.shouldRestart(code) {
			return code
		}
		if !c.waitBackoff(ctx) {
			return code
		}
		c.restarts++
	}
}

// waitBackoff waits out the crash-loop back-off, recording the container
// as waiting in CrashLoopBackOff meanwhile. It reports false when the pod
// stops first.
func (c *ctr) waitBackoff(ctx context.Context) bool {
	now := time.Now()
	delay := c.backoff.Next(now)
	if delay == 0 {
		return !c.m.halted()
	}
	if c.configErr { // keep CreateContainerConfigError while waiting
		return c.sleep(ctx, delay)
	}
	msg := fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", delay.Round(time.Second), c.name, c.m.pod.Name, c.m.pod.Namespace, c.m.pod.UID)
	c.m.update(func(s *state.Pod) {
		r := s.Container(c.name)
		if r == nil {
			return
		}
		r.LastState = &state.Exit{ExitCode: r.ExitCode, Signal: r.Signal, Reason: r.Reason, Message: r.Message, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt}
		r.State, r.Reason, r.Message = state.Waiting, "CrashLoopBackOff", msg
		s.AddEvent(now, "Warning", "BackOff", c.object(), fmt.Sprintf("Back-off restarting failed container %s in pod %s_%s(%s)", c.name, c.m.pod.Name, c.m.pod.Namespace, c.m.pod.UID))
	})
	return c.sleep(ctx, delay)
}

// sleep waits delay, reporting false when the pod stops first.
func (c *ctr) sleep(ctx context.Context, delay time.Duration) bool {
	select {
	case <-time.After(delay):
		return !c.m.halted()
	case <-c.m.halting:
		return false
	case <-ctx.Done():
		return false
	}
}

// start makes a new run: a fresh runtime container on a fresh writable
// layer, its output going to <restarts>.log. A run that cannot start is
// recorded as the kubelet records it (StartError, 128) and nil returned.
func (c *ctr) start(ctx context.Context) *run {
	if c.ran {
		if err := c.renew(ctx); err != nil {
			c.startFailed(ctx, err)
			return nil
		}
		if err := c.rebindSubPaths(); err != nil {
			c.configFailed(err)
			return nil
		}
	}
	c.ran, c.configErr = true, false
	logs, err := c.m.openLog(c.name, c.restarts)
	if err != nil {
		c.startFailed(ctx, err)
		return nil
	}
	done := c.m.timeStep("create", "container", c.name)
	proc, err := c.m.create(ctx, c.id, c.name, logs)
	done()
	if err == nil {
		done = c.m.timeStep("start", "container", c.name)
		err = c.m.rt.Start(ctx, c.id)
		done()
	}
	if err != nil {
		logs.abandon()
		c.startFailed(ctx, err)
		return nil
	}
	r := &run{proc: proc, startedAt: time.Now(), exited: make(chan struct{}), started: make(chan struct{})}
	c.mu.Lock()
	c.current = r
	c.mu.Unlock()
	c.recordStart(r, logs.path)
	go c.reap(r, logs)
	if c.m.halted() { // the pod began stopping while this run started
		go c.kill(context.WithoutCancel(ctx), r, 0, "")
	}
	return r
}

// renew deletes the previous run's runtime container and gives the next
// run a fresh writable layer and an empty termination message file, as
// the kubelet makes a new container on every restart.
func (c *ctr) renew(ctx context.Context) error {
	if err := c.m.rt.Delete(ctx, c.id, true); err != nil && !errors.Is(err, runtime.ErrNotExist) {
		return err
	}
	img, err := c.m.cfg.Image(c.image)
	if err != nil {
		return fmt.Errorf("finding image %q: %w", c.image, err)
	}
	target := c.m.cfg.Layout.Rootfs(c.name)
	scratch := filepath.Join(c.m.cfg.Layout.Bundle(c.name), "scratch")
	if err := rootfs.Unmount(target, scratch); err != nil {
		return err
	}
	masked, err := rootfs.Mount(target, img.Layers, scratch)
	for _, m := range masked {
		c.m.cfg.Log.Warn(rootfs.MaskWarning(c.image, m), "container", c.name)
	}
	if err != nil {
		return err
	}
	return emptyTerminationLog(c.m.cfg.Layout.TerminationLog(c.name))
}

func (c *ctr) recordStart(r *run, logPath string) {
	first := c.restarts == 0
	id, _ := state.Identify(r.proc.Pid)
	c.m.update(func(s *state.Pod) {
		rec := s.Container(c.name)
		if rec == nil {
			return
		}
		if !first && rec.State == state.Terminated { // restarted without back-off
			rec.LastState = &state.Exit{ExitCode: rec.ExitCode, Signal: rec.Signal, Reason: rec.Reason, Message: rec.Message, StartedAt: rec.StartedAt, FinishedAt: rec.FinishedAt}
		}
		rec.State, rec.Reason, rec.Message = state.Running, "", ""
		rec.ExitCode, rec.Signal = 0, 0
		rec.StartedAt, rec.FinishedAt = r.startedAt, time.Time{}
		rec.Pid, rec.LogPath = id, logPath
		rec.RestartCount = c.restarts
		rec.Ready, rec.Started = false, false
		if first {
			s.AddEvent(r.startedAt, "Normal", "Pulled", c.object(), fmt.Sprintf("Container image %q already present on machine", c.image))
		}
		s.AddEvent(r.startedAt, "Normal", "Created", c.object(), "Created container "+c.name)
		s.AddEvent(r.startedAt, "Normal", "Started", c.object(), "Started container "+c.name)
	})
}

// afterStart runs the postStart hook, then the probes, until the run
// exits. A failed postStart hook kills the run.
func (c *ctr) afterStart(ctx context.Context, r *run) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-r.exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	if h := c.lifecycle().PostStart; h != nil {
		if out, err := c.m.do(ctx, c, hookAction(h)); err != nil {
			if ctx.Err() != nil {
				return
			}
			c.m.event("Warning", "FailedPostStartHook", c.object(), fmt.Sprintf("PostStartHook failed: %s", probeMessage(out, err)))
			c.kill(ctx, r, c.m.podGrace(), "")
			return
		}
	}
	if c.role != kubelet.Sidecar {
		c.settle()
	}
	c.runProbes(ctx, r)
}

func (c *ctr) lifecycle() *corev1.Lifecycle {
	if c.spec.Lifecycle == nil {
		return &corev1.Lifecycle{}
	}
	return c.spec.Lifecycle
}

// setStarted marks run r as started; a sidecar's next init container may
// then start.
func (c *ctr) setStarted(r *run) {
	r.startedOnce.Do(func() { close(r.started) })
	c.m.update(func(s *state.Pod) {
		if rec := s.Container(c.name); rec != nil && rec.State == state.Running {
			rec.Started = true
		}
	})
	c.settle()
}

func (c *ctr) setReady(r *run, ready bool) {
	select {
	case <-r.exited:
		return
	default:
	}
	c.m.update(func(s *state.Pod) {
		if rec := s.Container(c.name); rec != nil && rec.State == state.Running {
			rec.Ready = ready
		}
	})
}

// reap waits for the run's process, drains its log and records the exit.
func (c *ctr) reap(r *run, logs *logPipes) {
	r.code, r.signal = wait(r.proc)
	c.m.created.remove(r.proc.Pid) // reaped: its pid may name an orphan next
	logs.wait()
	c.recordExit(r)
	close(r.exited)
}

// recordExit records how a run ended, as the kubelet reports it.
func (c *ctr) recordExit(r *run) {
	now := time.Now()
	c.m.update(func(s *state.Pod) {
		rec := s.Container(c.name)
		if rec == nil {
			return
		}
		rec.State = state.Terminated
		rec.ExitCode, rec.Signal = r.code, r.signal
		rec.Pid = state.Process{}
		rec.FinishedAt = now
		rec.Ready, rec.Started = false, false
		rec.Reason, rec.Message = exitReason(c.m.cfg.Layout.Bundle(c.name), r.code), terminationMessage(&c.spec, c.m.cfg.Layout.TerminationLog(c.name), rec.LogPath, r.code)
	})
}

func (c *ctr) startFailed(ctx context.Context, err error) {
	c.m.cfg.Log.Error("starting container", "container", c.name, "error", err)
	// The runtime may have left a container half-made.
	_ = c.m.rt.Delete(ctx, c.id, true)
	now := time.Now()
	c.m.update(func(s *state.Pod) {
		if r := s.Container(c.name); r != nil {
			r.State = state.Terminated
			r.Reason = "StartError"
			r.Message = startErrorMessage(err)
			r.ExitCode = 128
			r.StartedAt = time.Time{}
			r.FinishedAt = now
			r.RestartCount = c.restarts
			s.AddEvent(now, "Warning", "Failed", c.object(), "Error: "+r.Message)
		}
	})
}

// kill stops run r as the kubelet stops a container: the preStop hook,
// then the stop signal, then SIGKILL once grace (counted from the start of
// the hook) is over. Concurrent calls for one run stop it once.
func (c *ctr) kill(ctx context.Context, r *run, grace time.Duration, message string) {
	first := false
	r.killOnce.Do(func() { first = true })
	if !first {
		<-r.exited
		return
	}
	deadline := time.Now().Add(grace)
	if message != "" {
		c.m.event("Normal", "Killing", c.object(), message)
	}
	if h := c.lifecycle().PreStop; h != nil && grace > 0 {
		hctx, cancel := context.WithDeadline(ctx, deadline)
		out, err := c.m.do(hctx, c, hookAction(h))
		cancel()
		if err != nil {
			c.m.event("Warning", "FailedPreStopHook", c.object(), fmt.Sprintf("PreStopHook failed: %s", probeMessage(out, err)))
		}
	}
	_ = r.proc.Signal(c.stopSignal())
	select {
	case <-r.exited:
		return
	case <-time.After(time.Until(deadline)):
	}
	_ = r.proc.Signal(syscall.SIGKILL)
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
		c.m.cfg.Log.Error("container did not die after SIGKILL", "container", c.name)
	}
}

// stop stops the container's current run, if one is running, with grace.
func (c *ctr) stop(ctx context.Context, grace time.Duration) {
	c.mu.Lock()
	r := c.current
	c.mu.Unlock()
	if r == nil {
		return
	}
	select {
	case <-r.exited:
		return
	default:
	}
	c.kill(ctx, r, grace, "Stopping container "+c.name)
}
