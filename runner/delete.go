package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/kube/kubelet"
	"github.com/podrun/podrun/runner/runtime"
	"github.com/podrun/podrun/runner/state"
)

// ErrPodNotFound is returned for a pod that does not exist.
var ErrPodNotFound = errors.New("pod not found")

// DeleteOptions tune Delete.
type DeleteOptions struct {
	// GracePeriod overrides the pod's terminationGracePeriodSeconds when
	// not nil; zero kills at once.
	GracePeriod *time.Duration
}

// Delete stops pod namespace/name as the kubelet does (each container's
// stop signal, then SIGKILL once the grace period is over) and removes
// every trace of it. Deleting a pod that does not exist returns
// ErrPodNotFound, which callers that want kubectl's --ignore-not-found
// treat as success; a pod left half-made is finished off all the same,
// and one whose apply never reached its monitor is only torn down.
// Once it holds the pod's lock, an end of ctx cuts the grace period
// short: what still runs is killed at once, and the pod removed. Once
// the pod is gone (and its lock released), the Pending pods that fit now
// start (SchedulePending).
func (r *Runner) Delete(ctx context.Context, namespace, name string, opts DeleteOptions) error {
	err := r.deletePod(ctx, namespace, name, opts)
	if err == nil {
		r.scheduleWaiting(ctx)
	}
	return err
}

// deletePod is Delete without starting the Pending pods.
func (r *Runner) deletePod(ctx context.Context, namespace, name string, opts DeleteOptions) error {
	k, err := state.PodKey(namespace, name)
	if err != nil {
		return err
	}
	h := r.pod(k)
	unlock, err := h.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	dir := h.dir
	if _, err := os.Stat(dir.Dir); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("pod %s: %w", k, ErrPodNotFound)
	}
	st, err := dir.Read()
	if err == nil && !st.Stage.Before(state.StageMonitor) {
		r.stopPod(ctx, dir, st, opts)
	}
	// teardown kills what is left.
	ctx = context.WithoutCancel(ctx)
	err = r.teardown(ctx, h)
	r.syncEndpoints(ctx, namespace) // gone, or half gone: not ready
	if err != nil {
		return fmt.Errorf("deleting pod %s: %w", k, err)
	}
	r.releaseProxy(ctx)
	if err := r.releaseUnusedClaims(); err != nil {
		return fmt.Errorf("releasing the claims pod %s kept: %w", k, err)
	}
	return nil
}

// PodRef names one pod.
type PodRef struct{ Namespace, Name string }

// DeletePods deletes pods as Delete does, side by side (at most
// parallelPods at once, each under its own lock only, so that their grace
// periods pass together), and returns each pod's error at its index in
// pods. Once they are gone, the Pending pods that fit now start, once.
func (r *Runner) DeletePods(ctx context.Context, pods []PodRef, opts DeleteOptions) []error {
	errs := make([]error, len(pods))
	inParallel(len(pods), parallelPods, func(i int) {
		errs[i] = r.deletePod(ctx, pods[i].Namespace, pods[i].Name, opts)
	})
	if slices.Contains(errs, nil) {
		r.scheduleWaiting(ctx)
	}
	return errs
}

// stopPod records that the pod is stopping and stops its containers: by
// its monitor, or from here when the monitor is gone.
func (r *Runner) stopPod(ctx context.Context, dir *state.PodDir, st *state.Pod, opts DeleteOptions) {
	if err := r.recordStage(ctx, dir, state.StageStopping); err != nil {
		r.cfg.Log.Warn("stopping the pod all the same", "pod", st.Name, "error", err)
	}
	pod := manifest(st)
	grace := kubelet.GracePeriod(&pod.Spec, opts.GracePeriod)
	if !r.stopByMonitor(ctx, dir, st, grace) && ctx.Err() == nil {
		r.stop(ctx, st, pod, grace)
	}
}

// manifest is the pod as it was applied. An unreadable manifest reads as
// an empty pod, whose rules are the defaults: the pod is deleted all the
// same.
func manifest(st *state.Pod) *corev1.Pod {
	var pod corev1.Pod
	_ = json.Unmarshal(st.Manifest, &pod)
	return &pod
}

// monitorExitMargin is how long past the grace period delete waits for a
// monitor to finish stopping its pod before doing it from the CLI.
const monitorExitMargin = 15 * time.Second

// stopByMonitor asks the pod's monitor to stop the pod (preStop hooks,
// stop signals, grace, SIGKILL; no more restarts) and waits until it has
// exited. It reports false when there is no live monitor to ask, or it
// did not finish in time; the caller then stops the pod itself.
func (r *Runner) stopByMonitor(ctx context.Context, dir *state.PodDir, st *state.Pod, grace time.Duration) bool {
	if !st.Monitor.Alive() {
		return false
	}
	secs := int64(grace / time.Second)
	if _, err := dir.Update(ctx, func(s *state.Pod) error {
		s.Deleting = time.Now()
		s.DeletionGracePeriod = &secs
		return nil
	}); err != nil {
		return false
	}
	r.syncEndpoints(ctx, st.Namespace) // terminating: no new connections
	if err := st.Monitor.Signal(syscall.SIGTERM); err != nil {
		return false
	}
	deadline := time.Now().Add(grace + monitorExitMargin)
	for st.Monitor.Alive() && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	if st.Monitor.Alive() {
		r.cfg.Log.Warn("the pod monitor did not stop the pod in time; stopping it from here", "pod", st.Name)
		return false
	}
	return true
}

// stop is delete's fallback when the monitor is gone: it sends every
// running container its stop signal, waits for them all up to grace,
// kills what is left, then stops the infra container and the monitor.
// No preStop hook runs: they need the monitor.
func (r *Runner) stop(ctx context.Context, st *state.Pod, pod *corev1.Pod, grace time.Duration) {
	var running []state.Container
	for _, c := range st.Containers {
		if c.State == state.Running {
			running = append(running, c)
		}
	}
	for _, c := range running {
		r.signal(ctx, c.ID, r.stopSignal(pod, c))
	}
	deadline := time.Now().Add(grace)
	for _, c := range running {
		r.waitStopped(ctx, c.ID, deadline)
	}
	for _, c := range running {
		r.signal(ctx, c.ID, syscall.SIGKILL)
		r.waitStopped(ctx, c.ID, time.Now().Add(5*time.Second))
	}
	if st.Infra != nil {
		r.signal(ctx, st.Infra.ID, syscall.SIGKILL)
		r.waitStopped(ctx, st.Infra.ID, time.Now().Add(5*time.Second))
	}
	if st.Monitor.Pid > 0 && st.Monitor.Signal(syscall.SIGTERM) == nil {
		for end := time.Now().Add(5 * time.Second); st.Monitor.Alive() && time.Now().Before(end); {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// stopSignal is the signal that stops container c, by kubelet.StopSignal,
// as the monitor stops it.
func (r *Runner) stopSignal(pod *corev1.Pod, c state.Container) syscall.Signal {
	var image string
	if img, err := r.images.Get(c.Image); err == nil {
		image = img.Config.StopSignal
	}
	sig, err := runtime.ParseSignal(kubelet.StopSignal(containerSpec(pod, c.Name), image))
	if err != nil {
		r.cfg.Log.Warn("stopping with SIGTERM", "container", c.Name, "error", err)
		return syscall.SIGTERM
	}
	return sig
}

// containerSpec is the spec of pod's container name, init or app; an
// empty one if the pod has none of that name.
func containerSpec(pod *corev1.Pod, name string) *corev1.Container {
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return &corev1.Container{}
}

func (r *Runner) signal(ctx context.Context, id string, sig syscall.Signal) {
	if id == "" {
		return
	}
	if err := r.runtime.Kill(ctx, id, sig, false); err != nil && !errors.Is(err, runtime.ErrNotExist) {
		r.cfg.Log.Debug("signalling container", "id", id, "signal", sig, "error", err)
	}
}

// waitStopped polls the runtime until container id has stopped or is gone.
func (r *Runner) waitStopped(ctx context.Context, id string, deadline time.Time) {
	for delay := 10 * time.Millisecond; time.Now().Before(deadline); delay = min(2*delay, 200*time.Millisecond) {
		s, err := r.runtime.State(ctx, id)
		if err != nil || s.Status == "stopped" {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}
