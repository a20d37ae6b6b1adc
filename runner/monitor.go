package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/podrun/podrun/runner/monitor"
	"github.com/podrun/podrun/runner/ready"
	"github.com/podrun/podrun/runner/state"
)

// MonitorCommand is the hidden podrun verb that runs a pod's monitor.
const MonitorCommand = "monitor"

// monitorStartTimeout bounds how long apply waits for a pod's containers
// to be started.
const monitorStartTimeout = 5 * time.Minute

// startMonitor re-executes podrun as the pod's monitor, in a session of its
// own so that it outlives this command, and waits until the monitor says
// that every container has been started, or why not.
func (r *Runner) startMonitor(ctx context.Context, h podHandle) error {
	dir, l := h.dir, h.layout
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer readyR.Close()
	logFile, err := os.OpenFile(filepath.Join(l.Dir, "monitor.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		readyW.Close()
		return err
	}
	defer logFile.Close()
	st, err := dir.Read()
	if err != nil {
		readyW.Close()
		return err
	}
	cmd := exec.Command(r.cfg.Self, r.MonitorArgs(st.Namespace, st.Name)...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Dir = "/" // hold no directory of the caller's busy
	cmd.Env = monitorEnv(os.Environ())
	cmd.ExtraFiles = []*os.File{readyW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	readyW.Close()
	if err != nil {
		return fmt.Errorf("starting the pod monitor: %w", err)
	}
	proc, err := state.Identify(cmd.Process.Pid)
	if err == nil {
		_, err = dir.Update(ctx, func(s *state.Pod) error { s.Monitor, s.Stage = proc, state.StageMonitor; return nil })
	}
	if err == nil {
		r.reached(dir, state.StageMonitor)
	}
	// The monitor is not ours to wait for: it lives as long as the pod.
	defer cmd.Process.Release()
	if err != nil {
		return err
	}
	if err := waitReady(ctx, readyR, filepath.Join(l.Dir, "monitor.log")); err != nil {
		return err
	}
	return r.recordStage(ctx, dir, state.StageRunning)
}

// monitorEnv is the environment of a pod's monitor: env, with GOMAXPROCS=1
// unless env sets it. A monitor waits on its containers, the runtime and
// the clock, and works little, while every processor (P) the Go runtime
// gives it, one per CPU by default, caches heap spans of its own: a cost
// per pod that grows with the machine (docs/workloads.md, "Memory",
// BenchmarkMonitorProcesses). Set from the start, the runtime never makes
// the other Ps. The runtime commands the monitor runs (runc is Go too)
// inherit it; the containers do not, their environment is their spec's.
func monitorEnv(env []string) []string {
	for _, kv := range env {
		if strings.HasPrefix(kv, "GOMAXPROCS=") {
			return env
		}
	}
	return append(env, "GOMAXPROCS=1")
}

// MonitorArgs is the command line, after the binary, of a pod's monitor.
func (r *Runner) MonitorArgs(namespace, name string) []string {
	args := []string{"--root", r.cfg.Root, "--run-root", r.cfg.RunRoot, "--runtime", r.cfg.Runtime}
	if r.cfg.Log.Enabled(context.Background(), slog.LevelDebug) {
		args = append(args, "--log-level", "debug") // the monitor times its steps too
	}
	return append(args, MonitorCommand, namespace, name)
}

// waitReady reads the monitor's report.
func waitReady(ctx context.Context, f *os.File, logPath string) error {
	err := ready.Wait(ctx, f, monitorStartTimeout)
	switch {
	case errors.Is(err, ready.ErrExited):
		return fmt.Errorf("the pod monitor exited before starting the pod (see %s)", logPath)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("waiting for the pod monitor: %w", err)
	}
	return err
}

// BackoffEnv, when set to a Go duration, replaces the kubelet's 10 s
// restart back-off base (the cap stays 30 times the base). It is for
// tests, which cannot wait minutes for a crash loop; leave it unset.
const BackoffEnv = "PODRUN_TEST_BACKOFF"

// HousekeepingEnv, when set to a Go duration, replaces the 10 s period
// at which the monitor measures emptyDirs against their sizeLimit. It is
// for tests; leave it unset.
const HousekeepingEnv = "PODRUN_TEST_HOUSEKEEPING"

// TokenRefreshEnv, when set to a Go duration, replaces the period at
// which the monitor renews its pod's service account tokens (80% of
// their lifetime, at most 24 h, as the kubelet). It is for tests; leave
// it unset.
const TokenRefreshEnv = "PODRUN_TEST_TOKEN_REFRESH"

// MonitorOptions tune Monitor.
type MonitorOptions struct {
	// Ready receives the monitor's report once the pod has started.
	Ready *os.File
}

// Monitor runs the monitor of pod namespace/name in this process until
// the pod is stopped (SIGTERM or SIGINT).
func (r *Runner) Monitor(ctx context.Context, namespace, name string, opts MonitorOptions) error {
	k, err := state.PodKey(namespace, name)
	if err != nil {
		return err
	}
	h := r.pod(k)
	backoff, _ := time.ParseDuration(os.Getenv(BackoffEnv))
	housekeeping, _ := time.ParseDuration(os.Getenv(HousekeepingEnv))
	tokenRefresh, _ := time.ParseDuration(os.Getenv(TokenRefreshEnv))
	return monitor.Run(ctx, monitor.Config{
		Pod:          h.dir,
		Layout:       h.layout,
		Runtime:      r.runtime,
		Image:        r.monitorImage,
		Ready:        opts.Ready,
		Log:          r.cfg.Log,
		Backoff:      backoff,
		Housekeeping: housekeeping,
		TokenRefresh: tokenRefresh,
		RefreshTokens: func(ctx context.Context) error {
			return r.refreshPod(ctx, k, holdsToken)
		},
		Endpoints: func(ctx context.Context) { r.syncEndpoints(ctx, namespace) },
	})
}

func (r *Runner) monitorImage(ref string) (monitor.Image, error) {
	img, err := r.images.Get(ref)
	if err != nil {
		return monitor.Image{}, err
	}
	return monitor.Image{Layers: img.Layers, StopSignal: img.Config.StopSignal}, nil
}
