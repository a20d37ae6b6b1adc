package supervise

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeSupervisors start sh as each supervisor: it says it is ready on fd
// 3, or fails to when the workload is named "broken", then sleeps until
// signalled.
func fakeSupervisors(t *testing.T) *Supervisors {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	return &Supervisors{
		Store: Store{Dir: filepath.Join(t.TempDir(), "workloads")},
		Self:  sh,
		Args: func(k Key) []string {
			if k.Name() == "broken" {
				return []string{"-c", `echo '{"error":"no controller"}' >&3; exit 1`}
			}
			return []string{"-c", `echo '{}' >&3; exec 3>&-; trap 'exit 0' TERM; while :; do sleep 1; done`}
		},
	}
}

func applied(t *testing.T, s *Supervisors, name string) *Dir {
	t.Helper()
	k, _ := NewKey("test", "default", name)
	d := s.Store.Workload(k)
	if err := d.Create(); err != nil {
		t.Fatal(err)
	}
	d.WriteObject([]byte(`{}`))
	return d
}

func TestEnsure(t *testing.T) {
	ctx := context.Background()
	s := fakeSupervisors(t)
	d := applied(t, s, "web")
	if err := s.Ensure(ctx, d.Key); err != nil {
		t.Fatal(err)
	}
	rec, _ := d.Read()
	first := rec.Supervisor
	t.Cleanup(func() { first.SignalGroup(syscall.SIGKILL) })
	if !first.Alive() || rec.Starts != 1 {
		t.Fatalf("after Ensure: %+v", rec)
	}
	if err := s.EnsureAll(ctx); err != nil {
		t.Fatal(err)
	}
	if rec, _ := d.Read(); rec.Supervisor != first || rec.Starts != 1 {
		t.Errorf("a live supervisor was replaced: %+v", rec)
	}
	first.SignalGroup(syscall.SIGKILL)
	for first.Alive() {
		time.Sleep(10 * time.Millisecond)
	}
	if err := s.EnsureAll(ctx); err != nil {
		t.Fatal(err)
	}
	rec, _ = d.Read()
	second := rec.Supervisor
	t.Cleanup(func() { second.SignalGroup(syscall.SIGKILL) })
	if !second.Alive() || second == first || rec.Starts != 2 {
		t.Errorf("after a lost supervisor: %+v", rec)
	}

	l, _ := d.Lock(ctx)
	if err := s.Stop(ctx, d); err != nil {
		t.Fatal(err)
	}
	l.Unlock()
	if second.Alive() {
		t.Errorf("supervisor alive after Stop")
	}
	if err := s.Ensure(ctx, d.Key); err != nil {
		t.Fatal(err)
	}
	if rec, _ := d.Read(); rec.Supervisor.Alive() || rec.Deleting.IsZero() {
		t.Errorf("a workload being deleted got a supervisor: %+v", rec)
	}
}

func TestEnsureFails(t *testing.T) {
	ctx := context.Background()
	s := fakeSupervisors(t)
	d := applied(t, s, "broken")
	err := s.Ensure(ctx, d.Key)
	if err == nil || !strings.Contains(err.Error(), "no controller") {
		t.Fatalf("Ensure: %v", err)
	}
	if rec, _ := d.Read(); rec.Supervisor.Pid != 0 || rec.Starts != 0 {
		t.Errorf("a failed start was recorded: %+v", rec)
	}
	k, _ := NewKey("test", "default", "never")
	if err := s.Ensure(ctx, k); !errors.Is(err, ErrNotFound) {
		t.Errorf("Ensure of nothing: %v", err)
	}
	if err := s.EnsureAll(ctx); err == nil || !strings.Contains(err.Error(), "test/default/broken") {
		t.Errorf("EnsureAll: %v", err)
	}
}

// TestEnsureConcurrent: commands that find a workload's supervisor gone
// at once start one between them.
func TestEnsureConcurrent(t *testing.T) {
	ctx := context.Background()
	s := fakeSupervisors(t)
	d := applied(t, s, "web")
	errs := make(chan error, 4)
	for range 4 {
		go func() { errs <- s.EnsureAll(ctx) }()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	rec, _ := d.Read()
	t.Cleanup(func() { rec.Supervisor.SignalGroup(syscall.SIGKILL) })
	if rec.Starts != 1 || !rec.Supervisor.Alive() {
		t.Errorf("after 4 EnsureAll at once: %+v", rec)
	}
}

// TestRestart: a re-apply with other options replaces a live supervisor,
// without the warning of a lost one.
func TestRestart(t *testing.T) {
	ctx := context.Background()
	s := fakeSupervisors(t)
	d := applied(t, s, "web")
	if err := s.Ensure(ctx, d.Key); err != nil {
		t.Fatal(err)
	}
	rec, _ := d.Read()
	first := rec.Supervisor
	t.Cleanup(func() { first.SignalGroup(syscall.SIGKILL) })
	l, _ := d.Lock(ctx)
	err := s.Restart(ctx, d)
	l.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	rec, _ = d.Read()
	t.Cleanup(func() { rec.Supervisor.SignalGroup(syscall.SIGKILL) })
	if first.Alive() || !rec.Supervisor.Alive() || rec.Supervisor == first || rec.Starts != 2 || !rec.Deleting.IsZero() {
		t.Errorf("after Restart: first alive %v, record %+v", first.Alive(), rec)
	}
}
