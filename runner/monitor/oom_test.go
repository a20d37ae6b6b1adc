package monitor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestExitReason(t *testing.T) {
	root := t.TempDir()
	old := cgroupRoot
	cgroupRoot = root
	t.Cleanup(func() { cgroupRoot = old })
	bundle := t.TempDir()
	write := func(path, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(bundle, "config.json"), `{"linux": {"cgroupsPath": "/podrun/uid/app"}}`)
	if got := exitReason(bundle, 0); got != ReasonCompleted {
		t.Errorf("no cgroup, code 0: %s", got)
	}
	oom := filepath.Join(root, "memory", "podrun", "uid", "app", "memory.oom_control")
	write(oom, "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n")
	if got := exitReason(bundle, 1); got != ReasonError {
		t.Errorf("no OOM kill, code 1: %s", got)
	}
	write(oom, "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")
	if got := exitReason(bundle, 137); got != ReasonOOMKilled {
		t.Errorf("an OOM kill: %s", got)
	}
	os.Remove(oom)
	write(filepath.Join(root, "podrun", "uid", "app", "memory.events"), "low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n")
	if got := exitReason(bundle, 137); got != ReasonOOMKilled {
		t.Errorf("an OOM kill on cgroup v2: %s", got)
	}
}

func TestTerminationMessage(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "msg")
	logPath := filepath.Join(dir, "0.log")
	var log strings.Builder
	for i := range 100 {
		log.WriteString("2024-01-01T00:00:00.000000000Z stdout F line " + strings.Repeat("x", i%3) + "\n")
	}
	if err := os.WriteFile(logPath, []byte(log.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	file2 := func(data string) {
		if err := os.WriteFile(file, []byte(data), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	fallback := &corev1.Container{TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError}
	readFile := &corev1.Container{TerminationMessagePolicy: corev1.TerminationMessageReadFile}

	file2("")
	if got := terminationMessage(fallback, file, logPath, 0); got != "" {
		t.Errorf("fallback on success: %q", got)
	}
	if got := terminationMessage(readFile, file, logPath, 1); got != "" {
		t.Errorf("File policy on failure: %q", got)
	}
	got := terminationMessage(fallback, file, logPath, 1)
	if n := strings.Count(got, "\n"); n != 80 || !strings.HasSuffix(got, "line xx\nline \n") {
		t.Errorf("fallback on failure: %d lines: %q", n, got)
	}
	file2(strings.Repeat("a", 5000) + "end")
	if got := terminationMessage(fallback, file, logPath, 1); len(got) != 4096 || !strings.HasSuffix(got, "end") {
		t.Errorf("long message: %d bytes", len(got))
	}
	os.Remove(file)
	if got := terminationMessage(readFile, file, logPath, 0); got != "" {
		t.Errorf("missing file: %q", got)
	}
}
