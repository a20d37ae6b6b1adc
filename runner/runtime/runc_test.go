package runtime

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/internal/testenv"
)

// bundle makes an OCI bundle in a temp dir whose rootfs holds only
// /bin/busybox, running args.
func bundle(t *testing.T, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "rootfs", "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("/usr/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	spec := minimalSpec(args)
	cfg, err := json.MarshalIndent(spec, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// minimalSpec is what `runc spec` writes, without a terminal.
func minimalSpec(args []string) *specs.Spec {
	caps := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	return &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			Args: args,
			Env:  []string{"PATH=/bin"},
			Cwd:  "/",
			Capabilities: &specs.LinuxCapabilities{
				Bounding: caps, Effective: caps, Permitted: caps,
			},
			NoNewPrivileges: true,
		},
		Root:     &specs.Root{Path: "rootfs", Readonly: true},
		Hostname: "podrun-test",
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		},
		Linux: &specs.Linux{
			Resources: &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}},
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace}, {Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace}, {Type: specs.MountNamespace},
			},
			MaskedPaths:   []string{"/proc/kcore", "/proc/keys", "/sys/firmware"},
			ReadonlyPaths: []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
		},
	}
}

func TestRunc(t *testing.T) {
	testenv.RequireRoot(t)
	runc := testenv.RequireRuntime(t, Bundled)
	testenv.RequireFile(t, "/usr/bin/busybox", "apt-get install busybox-static")

	// Orphaned container processes come to us, so we can reap them.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := &CLI{Binary: runc, Root: filepath.Join(t.TempDir(), "runc")}
	const id = "podrun-runtime-test"
	dir := bundle(t, "busybox", "sh", "-c", "echo hi; sleep 30")
	t.Cleanup(func() {
		IgnoreNotExist(r.Delete(context.Background(), id, true))
	})

	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	pidFile := filepath.Join(t.TempDir(), "pid")
	err = r.Create(ctx, id, dir, CreateOpts{PidFile: pidFile, Stdio: Stdio{Stdout: pw, Stderr: pw}})
	pw.Close() // the container holds its own copy
	if err != nil {
		t.Fatal(err)
	}
	if s, err := r.State(ctx, id); err != nil || s.Status != StatusCreated {
		t.Fatalf("State after create = %+v, %v; want created", s, err)
	}
	if err := r.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || line != "hi\n" {
		t.Fatalf("container said %q, %v; want %q", line, err, "hi\n")
	}
	s, err := r.State(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != StatusRunning || s.Pid <= 0 || s.Bundle != dir {
		t.Errorf("State = %+v; want running with a pid, bundle %s", s, dir)
	}
	if data, _ := os.ReadFile(pidFile); strings.TrimSpace(string(data)) == "" {
		t.Errorf("pid file %s is empty", pidFile)
	}
	if list, err := r.List(ctx); err != nil || len(list) != 1 || list[0].ID != id {
		t.Errorf("List = %+v, %v; want just %s", list, err, id)
	}
	pids, err := r.Ps(ctx, id)
	if err != nil || len(pids) < 1 {
		t.Errorf("Ps = %v, %v; want busybox sleep (sh execs its last command)", pids, err)
	}

	var out strings.Builder
	code, err := r.Exec(ctx, id, ExecOpts{Args: []string{"busybox", "sh", "-c", "echo $FOO; pwd; exit 7"}, Env: []string{"FOO=bar"}, Cwd: "/dev", IO: IO{Stdout: &out}})
	if err != nil || code != 7 || out.String() != "bar\n/dev\n" {
		t.Errorf("Exec = %d, %v, output %q; want 7, nil, %q", code, err, out.String(), "bar\n/dev\n")
	}
	if _, err := r.Exec(ctx, id, ExecOpts{Args: []string{"/no/such/program"}}); err == nil {
		t.Errorf("Exec of a missing program succeeded")
	} else if !strings.Contains(err.Error(), "no such file") {
		t.Errorf("Exec of a missing program: %v; want the runtime's reason", err)
	}

	if err := r.Kill(ctx, id, syscall.SIGKILL, false); err != nil {
		t.Fatal(err)
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(s.Pid, &ws, 0, nil); err != nil {
		t.Errorf("reaping the container's init: %v", err)
	} else if ws.Signal() != syscall.SIGKILL {
		t.Errorf("container init ended with %v, want SIGKILL", ws)
	}
	waitStatus(ctx, t, r, id, StatusStopped)

	if err := r.Delete(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	err = r.Delete(ctx, id, false)
	if !errors.Is(err, ErrNotExist) {
		t.Fatalf("second Delete = %v, want ErrNotExist", err)
	}
	if IgnoreNotExist(err) != nil {
		t.Errorf("IgnoreNotExist(%v) != nil", err)
	}
	if _, err := r.State(ctx, id); !errors.Is(err, ErrNotExist) {
		t.Errorf("State after delete = %v, want ErrNotExist", err)
	}
	if list, err := r.List(ctx); err != nil || len(list) != 0 {
		t.Errorf("List after delete = %+v, %v; want empty", list, err)
	}
	if _, err := io.ReadAll(pr); err != nil {
		t.Errorf("draining the pipe: %v", err)
	}
	// Leak check: the runtime's root is empty and every process that was
	// in the container is gone (reaped by us, their subreaper).
	if entries, err := os.ReadDir(r.Root); err != nil || len(entries) != 0 {
		t.Errorf("runtime root after delete holds %v, %v", entries, err)
	}
	for _, pid := range pids {
		reap(t, pid)
	}
}

// reap waits for pid, a child of ours, to exit and reaps it; a pid that
// is not our child (already reaped) is fine.
func reap(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		if errors.Is(err, unix.ECHILD) || got == pid {
			return
		}
		if err != nil || time.Now().After(deadline) {
			t.Errorf("process %d of the container is still there: %v", pid, err)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRuncCreateError checks that a failure inside runc create, whose
// stderr is the container's, is still readable from the log.
func TestRuncCreateError(t *testing.T) {
	testenv.RequireRoot(t)
	runc := testenv.RequireRuntime(t, Bundled)
	testenv.RequireFile(t, "/usr/bin/busybox", "apt-get install busybox-static")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := &CLI{Binary: runc, Root: filepath.Join(t.TempDir(), "runc")}
	const id = "podrun-runtime-create-error"
	t.Cleanup(func() { IgnoreNotExist(r.Delete(context.Background(), id, true)) })

	dir := bundle(t, "/no/such/program")
	err := r.Create(ctx, id, dir, CreateOpts{})
	var rerr *Error
	if !errors.As(err, &rerr) {
		t.Fatalf("Create = %v, want *Error", err)
	}
	if rerr.ExitCode != 1 || !strings.Contains(rerr.Message, "no such file") {
		t.Errorf("Create error = %+v; want exit 1 and runc's reason", rerr)
	}
	if errors.Is(err, ErrNotExist) {
		t.Errorf("a failed create matches ErrNotExist: %v", err)
	}
}

// waitStatus polls the runtime until container id has status want.
func waitStatus(ctx context.Context, t *testing.T, r *CLI, id, want string) {
	t.Helper()
	for {
		s, err := r.State(ctx, id)
		if err == nil && s.Status == want {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("container %s never became %s: last %+v, %v", id, want, s, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
