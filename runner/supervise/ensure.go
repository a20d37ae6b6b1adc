package supervise

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/podrun/podrun/runner/ready"
	"github.com/podrun/podrun/runner/state"
)

// Supervisors start, find again and stop the supervisors of a store's
// workloads. Each supervisor is Self re-executed with Args(key), in a
// session of its own, so that it outlives the command that started it
// and stays a descendant of the user's shell (its audit loginuid is the
// user's).
type Supervisors struct {
	Store Store
	Self  string
	// Args is a supervisor's command line after the binary.
	Args func(Key) []string
	Log  *slog.Logger
}

const (
	// readyTimeout bounds the wait for a new supervisor's ready line.
	readyTimeout = 30 * time.Second
	// StopTimeout is how long Stop waits after SIGTERM before SIGKILL: a
	// step's grace and a margin.
	StopTimeout = StepGrace + 5*time.Second
)

func (s *Supervisors) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// Ensure starts workload k's supervisor unless the one recorded is alive.
// A workload being deleted gets none; one not found is ErrNotFound.
func (s *Supervisors) Ensure(ctx context.Context, k Key) error {
	d := s.Store.Workload(k)
	l, err := d.Lock(ctx)
	if err != nil {
		return err
	}
	defer l.Unlock()
	return s.EnsureLocked(ctx, d)
}

// EnsureLocked is Ensure for a caller that holds the workload's lock.
func (s *Supervisors) EnsureLocked(ctx context.Context, d *Dir) error {
	rec, err := d.Read()
	if err != nil {
		return err
	}
	if _, err := d.ReadObject(); err != nil {
		return err
	}
	if rec.Supervisor.Alive() || !rec.Deleting.IsZero() {
		return nil
	}
	if rec.Supervisor.Pid > 0 {
		s.log().Warn("the workload's supervisor is gone; starting another", "workload", d.Key.String(), "pid", rec.Supervisor.Pid)
	}
	args := rec.Args
	if len(args) == 0 {
		args = s.Args(d.Key)
	}
	proc, err := s.start(ctx, d, args)
	if err != nil {
		return err
	}
	rec.Supervisor = proc
	rec.Starts++
	if err := d.Write(rec); err != nil {
		kill(proc)
		return err
	}
	return nil
}

// EnsureAll finds every workload whose supervisor is gone and starts
// another: what get, apply and delete run first, so that a supervisor
// killed is back by the next command. A live one costs a read of its
// record and of /proc; only the lost are locked. Every failure is
// returned, joined; the other workloads are seen to all the same.
func (s *Supervisors) EnsureAll(ctx context.Context) error {
	keys, err := s.Store.List()
	if err != nil {
		return err
	}
	var errs []error
	for _, k := range keys {
		rec, err := s.Store.Workload(k).Read()
		if err == nil && (rec.Supervisor.Alive() || !rec.Deleting.IsZero()) {
			continue
		}
		if err := s.Ensure(ctx, k); err != nil && !errors.Is(err, ErrNotFound) {
			errs = append(errs, fmt.Errorf("supervising %s: %w", k, err))
		}
	}
	return errors.Join(errs...)
}

// start re-executes Self as d's supervisor and waits for its ready line.
// On failure nothing is left running.
func (s *Supervisors) start(ctx context.Context, d *Dir, args []string) (state.Process, error) {
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return state.Process{}, err
	}
	defer readyR.Close()
	logPath := filepath.Join(d.Path, LogFile)
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		readyW.Close()
		return state.Process{}, err
	}
	defer logFile.Close()
	cmd := exec.Command(s.Self, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Dir = "/"
	cmd.ExtraFiles = []*os.File{readyW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	readyW.Close()
	if err != nil {
		return state.Process{}, fmt.Errorf("starting the supervisor of %s: %w", d.Key, err)
	}
	proc, err := state.Identify(cmd.Process.Pid)
	if err == nil {
		err = waitReady(ctx, readyR, logPath)
	}
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return state.Process{}, fmt.Errorf("starting the supervisor of %s: %w", d.Key, err)
	}
	// The supervisor is not ours to wait for: it lives as long as the
	// workload.
	_ = cmd.Process.Release()
	return proc, nil
}

func waitReady(ctx context.Context, f *os.File, logPath string) error {
	err := ready.Wait(ctx, f, readyTimeout)
	if errors.Is(err, ready.ErrExited) {
		return fmt.Errorf("it exited before it was ready (see %s)", logPath)
	}
	return err
}

// Stop records that workload d is being deleted, so that no supervisor is
// started again, then stops its supervisor: SIGTERM, a wait of at most
// StopTimeout, then SIGKILL to its process group. The caller holds the
// workload's lock. Stopping a workload without a live supervisor is no
// error.
func (s *Supervisors) Stop(ctx context.Context, d *Dir) error {
	rec, err := d.Read()
	if err != nil {
		return err
	}
	if rec.Deleting.IsZero() {
		rec.Deleting = time.Now()
		if err := d.Write(rec); err != nil {
			return err
		}
	}
	return s.stop(ctx, d, rec.Supervisor)
}

// Restart stops workload d's supervisor, if one runs, and starts
// another: for a re-apply whose options (network, pull policy...) the
// running one does not have. The caller holds the workload's lock.
func (s *Supervisors) Restart(ctx context.Context, d *Dir) error {
	rec, err := d.Read()
	if err != nil {
		return err
	}
	if err := s.stop(ctx, d, rec.Supervisor); err != nil {
		return err
	}
	rec.Supervisor = state.Process{} // stopped on purpose: no warning
	if err := d.Write(rec); err != nil {
		return err
	}
	return s.EnsureLocked(ctx, d)
}

// stop stops supervisor p of d: SIGTERM, a wait of at most StopTimeout,
// SIGKILL to its process group.
func (s *Supervisors) stop(ctx context.Context, d *Dir, p state.Process) error {
	if !p.Alive() {
		return nil
	}
	if err := p.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, state.ErrProcessGone) {
		return err
	}
	deadline := time.Now().Add(StopTimeout)
	for p.Alive() && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	if p.Alive() {
		s.log().Warn("the workload's supervisor did not stop in time; killing it", "workload", d.Key.String(), "pid", p.Pid)
		kill(p)
	}
	return nil
}

// kill SIGKILLs p's process group and waits a little for it to go.
func kill(p state.Process) {
	if err := p.SignalGroup(syscall.SIGKILL); err != nil {
		_ = p.Signal(syscall.SIGKILL)
	}
	for end := time.Now().Add(5 * time.Second); p.Alive() && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
}
