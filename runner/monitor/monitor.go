// Package monitor is the per-pod supervisor that outlives `podrun apply`,
// the role conmon plays for Podman, one per pod instead of one per
// container.
//
// It runs as podrun re-executed in a session of its own and as a child
// subreaper, so that every container's init becomes its child once the
// runtime's create command exits. It starts the infra container and pins
// its namespaces, runs init containers in order, starts app containers
// side by side, holds their output pipes and writes their logs in the CRI
// format, reaps their exits and records them in the pod's state. It exits
// on SIGTERM, which delete sends once the containers are stopped.
package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/runner/runtime"
	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/translate"
)

// Config is what a monitor needs.
type Config struct {
	Pod     *state.PodDir
	Layout  translate.Layout
	Runtime *runtime.CLI
	// Ready receives one JSON line, {} or {"error": "..."}, once every
	// container has been started or has failed to, and is then closed.
	Ready *os.File
	Log   *slog.Logger
}

// Report is the line written to Config.Ready.
type Report struct {
	Error string `json:"error,omitempty"`
}

type monitor struct {
	cfg   Config
	exits sync.WaitGroup // one per started container process
}

// Run supervises the pod until SIGTERM. An error before the report means
// the pod could not start; the caller tears it down.
func Run(ctx context.Context, cfg Config) error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return report(cfg.Ready, fmt.Errorf("becoming a child subreaper: %w", err))
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT)
	m := &monitor{cfg: cfg}
	st, err := cfg.Pod.Read()
	if err != nil {
		return report(cfg.Ready, fmt.Errorf("reading the pod's state: %w", err))
	}
	if st.Infra == nil {
		return report(cfg.Ready, fmt.Errorf("the pod's state names no infra container"))
	}
	if err := m.startInfra(ctx, *st.Infra); err != nil {
		return report(cfg.Ready, err)
	}
	if m.runInits(ctx, st.Containers) {
		m.startApps(ctx, st.Containers)
	}
	_ = report(cfg.Ready, nil)

	<-sigs
	// delete stops the containers before it signals us; give the last
	// exits a moment to be recorded.
	waited := make(chan struct{})
	go func() { m.exits.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(2 * time.Second):
	}
	return nil
}

func report(w *os.File, err error) error {
	var rep Report
	if err != nil {
		rep.Error = err.Error()
	}
	line, _ := json.Marshal(rep)
	_, _ = w.Write(append(line, '\n'))
	_ = w.Close()
	return err
}

// startInfra starts the infra container and pins the namespaces it made.
func (m *monitor) startInfra(ctx context.Context, c state.Container) error {
	if _, err := m.create(ctx, c, nil); err != nil {
		return fmt.Errorf("creating the infra container: %w", err)
	}
	if err := m.cfg.Runtime.Start(ctx, c.ID); err != nil {
		return fmt.Errorf("starting the infra container: %w", err)
	}
	pid, err := m.pid(ctx, c.ID)
	if err != nil {
		return err
	}
	if err := m.pinNamespaces(pid); err != nil {
		return err
	}
	return m.update(ctx, func(s *state.Pod) {
		if s.Infra == nil {
			return
		}
		s.Infra.State = state.Running
		s.Infra.Reason = ""
		s.Infra.StartedAt = time.Now()
		s.Infra.Pid, _ = state.Identify(pid)
	})
}

// pinNamespaces bind-mounts the infra's ipc, uts and pid namespace files
// where the app containers' specs expect them, for each one the infra does
// not share with the host.
func (m *monitor) pinNamespaces(pid int) error {
	for _, t := range []string{"ipc", "uts", "pid"} {
		src := fmt.Sprintf("/proc/%d/ns/%s", pid, t)
		if sameNamespace(src, "/proc/self/ns/"+t) {
			continue
		}
		dst := m.cfg.Layout.Namespace(t)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, nil, 0o444); err != nil {
			return err
		}
		if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("pinning the pod's %s namespace: %w", t, err)
		}
	}
	return nil
}

func sameNamespace(a, b string) bool {
	var sa, sb unix.Stat_t
	return unix.Stat(a, &sa) == nil && unix.Stat(b, &sb) == nil && sa.Ino == sb.Ino && sa.Dev == sb.Dev
}

// runInits runs init containers one after another, each to completion. It
// reports whether all succeeded, so that app containers may start.
func (m *monitor) runInits(ctx context.Context, cs []state.Container) bool {
	for _, c := range cs {
		if !c.Init {
			continue
		}
		done, ok := m.startContainer(ctx, c)
		if !ok {
			return false
		}
		if code := <-done; code != 0 {
			return false
		}
	}
	return true
}

// startApps starts every app container at once and waits until each has
// started or failed to.
func (m *monitor) startApps(ctx context.Context, cs []state.Container) {
	var wg sync.WaitGroup
	for _, c := range cs {
		if c.Init {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.startContainer(ctx, c)
		}()
	}
	wg.Wait()
}

// startContainer creates and starts one container with its output going to
// its log. A failure is the container's, recorded in its status as the
// kubelet records it (StartError, exit code 128), not the pod's. The
// channel yields the exit code once the container exits.
func (m *monitor) startContainer(ctx context.Context, c state.Container) (<-chan int, bool) {
	logs, err := m.openLog(c)
	if err != nil {
		m.startFailed(ctx, c, err)
		return nil, false
	}
	proc, err := m.create(ctx, c, logs)
	if err == nil {
		err = m.cfg.Runtime.Start(ctx, c.ID)
	}
	if err != nil {
		logs.abandon()
		m.startFailed(ctx, c, err)
		return nil, false
	}
	id, _ := state.Identify(proc.Pid)
	_ = m.update(ctx, func(s *state.Pod) {
		if r := s.Container(c.Name); r != nil {
			r.State, r.Reason, r.Message = state.Running, "", ""
			r.StartedAt = time.Now()
			r.Pid = id
			r.LogPath = logs.path
		}
	})
	done := make(chan int, 1)
	m.exits.Add(1)
	go func() {
		defer m.exits.Done()
		code, signal := wait(proc)
		logs.wait()
		_ = m.update(context.Background(), func(s *state.Pod) {
			if r := s.Container(c.Name); r != nil {
				r.State = state.Terminated
				r.ExitCode, r.Signal = code, signal
				r.Pid = state.Process{}
				r.FinishedAt = time.Now()
				r.Reason = "Completed"
				if code != 0 {
					r.Reason = "Error"
				}
			}
		})
		done <- code
	}()
	return done, true
}

// create runs the runtime's create verb for c. The container's init is
// then this process's child: the runtime's create command has exited and
// we are the subreaper.
func (m *monitor) create(ctx context.Context, c state.Container, logs *logPipes) (*os.Process, error) {
	var stdio runtime.Stdio // nil streams are /dev/null
	if logs != nil {
		stdio.Stdout, stdio.Stderr = logs.outW, logs.errW
	}
	bundle := m.cfg.Layout.Bundle(c.Name)
	err := m.cfg.Runtime.Create(ctx, c.ID, bundle, runtime.CreateOpts{
		PidFile: filepath.Join(bundle, "pid"),
		Stdio:   stdio,
	})
	if logs != nil {
		logs.closeWriters()
	}
	if err != nil {
		return nil, err
	}
	pid, err := m.pid(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	return os.FindProcess(pid)
}

func (m *monitor) pid(ctx context.Context, id string) (int, error) {
	s, err := m.cfg.Runtime.State(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("asking the runtime for container %s: %w", id, err)
	}
	if s.Pid <= 0 {
		return 0, fmt.Errorf("container %s has no process (status %q)", id, s.Status)
	}
	return s.Pid, nil
}

// wait reaps a container's init and returns its exit code, as the kubelet
// reports it: the status, or 128+signal for a signalled process.
func wait(p *os.Process) (code, signal int) {
	ps, err := p.Wait()
	if err != nil {
		return 255, 0
	}
	ws, ok := ps.Sys().(unix.WaitStatus)
	if ok && ws.Signaled() {
		return 128 + int(ws.Signal()), int(ws.Signal())
	}
	return ps.ExitCode(), 0
}

func (m *monitor) startFailed(ctx context.Context, c state.Container, err error) {
	m.cfg.Log.Error("starting container", "container", c.Name, "error", err)
	// The runtime may have left a container half-made.
	_ = m.cfg.Runtime.Delete(ctx, c.ID, true)
	_ = m.update(ctx, func(s *state.Pod) {
		if r := s.Container(c.Name); r != nil {
			r.State = state.Terminated
			r.Reason = "StartError"
			r.Message = startErrorMessage(err)
			r.ExitCode = 128
			r.StartedAt = time.Time{}
			r.FinishedAt = time.Now()
		}
	})
}

// startErrorMessage is the runtime's own words where it gave any.
func startErrorMessage(err error) string {
	var rerr *runtime.Error
	if errors.As(err, &rerr) && rerr.Message != "" {
		return rerr.Message
	}
	return err.Error()
}

func (m *monitor) update(ctx context.Context, fn func(*state.Pod)) error {
	_, err := m.cfg.Pod.Update(ctx, func(s *state.Pod) error { fn(s); return nil })
	return err
}
