package state

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	rest := " S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 424242 20 21"
	tests := []struct {
		name  string
		line  string
		want  stat
		error bool
	}{
		{"plain", "123 (sleep)" + rest, stat{'S', 424242}, false},
		{"spaces", "123 (a b c)" + rest, stat{'S', 424242}, false},
		{"parens", "123 (a) S 9 (b)" + rest, stat{'S', 424242}, false},
		{"empty comm", "123 ()" + rest, stat{'S', 424242}, false},
		{"zombie", "123 (x) Z 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 7 20", stat{'Z', 7}, false},
		{"short", "123 (x) S 1 2 3", stat{}, true},
		{"no comm", "123 x S" + rest, stat{}, true},
		{"bad time", "123 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 -1 20", stat{}, true},
		{"empty", "", stat{}, true},
	}
	for _, tt := range tests {
		got, err := parseStat([]byte(tt.line))
		if (err != nil) != tt.error || got != tt.want {
			t.Errorf("%s: parseStat = %+v, %v; want %+v, error %v", tt.name, got, err, tt.want, tt.error)
		}
	}
}

func startSleep(t *testing.T, path string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(path, "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

func TestProcess(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep")
	}
	// A command name with spaces and parentheses, as /proc/PID/stat shows it.
	odd := filepath.Join(t.TempDir(), "a) b (c")
	data, _ := os.ReadFile(sleep)
	if err := os.WriteFile(odd, data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{sleep, odd} {
		cmd := startSleep(t, path)
		p, err := Identify(cmd.Process.Pid)
		if err != nil {
			t.Fatal(err)
		}
		if p.Pid != cmd.Process.Pid || p.StartTime == 0 || !p.Alive() {
			t.Errorf("%s: Identify = %+v, alive %v", path, p, p.Alive())
		}
		self, _ := Identify(os.Getpid())
		if p.StartTime < self.StartTime {
			t.Errorf("child started at %d, before us at %d", p.StartTime, self.StartTime)
		}

		// The pid reused by another process: same pid, other start time.
		reused := Process{Pid: p.Pid, StartTime: p.StartTime - 1}
		if reused.Alive() {
			t.Errorf("a process with the wrong start time is alive")
		}
		if err := reused.Signal(syscall.SIGKILL); !errors.Is(err, ErrProcessGone) {
			t.Errorf("Signal with the wrong start time = %v, want ErrProcessGone", err)
		}
		if !p.Alive() {
			t.Fatalf("the reused-pid check signalled the process")
		}

		if err := p.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err == nil {
			t.Errorf("sleep exited cleanly after SIGTERM")
		}
		if p.Alive() {
			t.Errorf("reaped process is alive")
		}
		if err := p.Signal(syscall.SIGTERM); !errors.Is(err, ErrProcessGone) {
			t.Errorf("Signal of a reaped process = %v, want ErrProcessGone", err)
		}
	}
}

func TestProcessZombie(t *testing.T) {
	cmd := exec.Command("/bin/sh", "-c", "exit 0")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	p, err := Identify(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for p.Alive() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if p.Alive() {
		t.Errorf("an exited, unreaped process is alive")
	}
}

func TestProcessZero(t *testing.T) {
	var p Process
	if p.Alive() {
		t.Errorf("zero Process is alive")
	}
	if err := p.Signal(syscall.SIGKILL); err == nil {
		t.Errorf("zero Process was signalled (pid 0 is our process group!)")
	}
	if _, err := Identify(1 << 30); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Identify of a missing pid = %v, want ErrNotExist", err)
	}
}

// TestSignalGroup: a signal to a session leader's group reaches the
// children it started, which a signal to the leader alone would not.
func TestSignalGroup(t *testing.T) {
	cmd := exec.Command("sh", "-c", "sleep 100 & echo $!; wait")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var childPid int
	if _, err := fmt.Fscan(out, &childPid); err != nil {
		t.Fatal(err)
	}
	leader, err := Identify(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	child, err := Identify(childPid)
	if err != nil {
		t.Fatal(err)
	}
	if err := leader.SignalGroup(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for child.Alive() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if child.Alive() {
		syscall.Kill(childPid, syscall.SIGKILL)
		t.Error("the leader's child survived a signal to the group")
	}
	if err := leader.SignalGroup(syscall.SIGKILL); !errors.Is(err, ErrProcessGone) {
		t.Errorf("SignalGroup of a dead leader = %v, want ErrProcessGone", err)
	}
}
