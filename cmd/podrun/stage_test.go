package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// stagesLogged are the pod stages a podrun command logged at debug
// level, in order.
func stagesLogged(stderr string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`msg="pod stage" .*stage=(\w+)`).FindAllStringSubmatch(stderr, -1) {
		out = append(out, m[1])
	}
	return out
}

// recordedStage is the stage in pod name's state file.
func recordedStage(t *testing.T, e *env, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(e.runRoot, "pods", "default_"+name, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ Stage string }
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatal(err)
	}
	return st.Stage
}

// TestApplyStages: apply records each stage as its step completes, in
// order, and delete records stopping before it stops anything.
func TestApplyStages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	path := e.manifest("pod.yaml", podYAML("staged", "", container("main", "sleep 600", "")))
	_, errOut, err := e.run("--log-level", "debug", "apply", "-f", path)
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, errOut)
	}
	want := []string{"created", "network", "bundles", "monitor", "running"}
	if got := stagesLogged(errOut); !slices.Equal(got, want) {
		t.Errorf("apply recorded stages %v, want %v", got, want)
	}
	if got := recordedStage(t, e, "staged"); got != "running" {
		t.Errorf("state file's stage after apply: %q", got)
	}
	_, errOut, err = e.run("--log-level", "debug", "delete", "pod", "staged", "--grace-period", "0")
	if err != nil {
		t.Fatalf("delete: %v\n%s", err, errOut)
	}
	if got := stagesLogged(errOut); !slices.Equal(got, []string{"stopping"}) {
		t.Errorf("delete recorded stages %v, want [stopping]", got)
	}
}

// TestFailedApplyStages: an apply whose infra container cannot be created
// got as far as the monitor, and left nothing.
func TestFailedApplyStages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	real := e.runtime
	e.runtime = e.failingRuntime()
	path := e.manifest("pod.yaml", podYAML("doomed", "", container("main", "sleep 600", "")))
	_, errOut, err := e.run("--log-level", "debug", "apply", "-f", path)
	e.runtime = real
	if err == nil {
		t.Fatal("apply with a failing runtime succeeded")
	}
	want := []string{"created", "network", "bundles", "monitor"}
	if got := stagesLogged(errOut); !slices.Equal(got, want) {
		t.Errorf("failed apply recorded stages %v, want %v", got, want)
	}
	assertEmptyDir(t, filepath.Join(e.runRoot, "pods"))
}

// TestInterruptedApplyRemains: the record of an apply killed after the
// network stage reads as ApplyInterrupted; apply over it starts the pod
// afresh, and delete removes it.
func TestInterruptedApplyRemains(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	path := e.manifest("pod.yaml", podYAML("half", "", container("main", "sleep 600", "")))
	for _, then := range []string{"apply", "delete"} {
		e.must("apply", "-f", path)
		e.must("delete", "pod", "half", "--grace-period", "0")
		writeRemains(t, e, "half", "network")
		pod := e.pod("half")
		if pod.Status.Reason != "ApplyInterrupted" || !strings.Contains(pod.Status.Message, `"network"`) {
			t.Errorf("status of remains: reason %q, message %q", pod.Status.Reason, pod.Status.Message)
		}
		if table := e.must("get", "pods"); !strings.Contains(table, "ApplyInterrupted") {
			t.Errorf("get pods:\n%s", table)
		}
		if then == "delete" {
			e.must("delete", "pod", "half")
			assertEmptyDir(t, filepath.Join(e.runRoot, "pods"))
			continue
		}
		if out := e.must("apply", "-f", path); out != "pod/half created\n" {
			t.Errorf("apply over remains printed %q", out)
		}
		if pod := e.pod("half"); pod.Status.Phase != corev1.PodRunning || pod.Status.Reason != "" {
			t.Errorf("after apply over remains: phase %s, reason %q", pod.Status.Phase, pod.Status.Reason)
		}
		if got := recordedStage(t, e, "half"); got != "running" {
			t.Errorf("stage after apply over remains: %q", got)
		}
		e.must("delete", "pod", "half", "--grace-period", "0")
	}
}

// writeRemains writes the record an apply of pod name leaves when it is
// killed once it has reached stage, before the monitor.
func writeRemains(t *testing.T, e *env, name, stage string) {
	t.Helper()
	dir := filepath.Join(e.runRoot, "pods", "default_"+name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	manifest := `{"metadata":{"name":"` + name + `","namespace":"default","uid":"6f1c2d9e-0000-4000-8000-000000000001"},` +
		`"spec":{"containers":[{"name":"main","image":"localhost/podrun/busybox:demo"}]}}`
	st := `{"version":1,"uid":"6f1c2d9e-0000-4000-8000-000000000001","namespace":"default","name":"` + name +
		`","stage":"` + stage + `","created":"2026-01-01T00:00:00Z","manifest":` + manifest + `}`
	if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte(st), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestKilledApplyStillRunning: apply killed while it waits for the
// monitor (an init container is still running) loses nothing: the monitor
// starts the pod and records the running stage itself.
func TestKilledApplyStillRunning(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	path := e.manifest("pod.yaml", podYAML("orphan", "  initContainers:\n"+
		container("wait", "sleep 3", ""),
		container("main", "exec sleep 600", "")))
	cmd := exec.Command(e.bin, "--root", e.root, "--run-root", e.runRoot, "--runtime", e.runtime,
		"--network", e.network, "--cni-config-dir", e.confDir, "apply", "-f", path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stateFile := filepath.Join(e.runRoot, "pods", "default_orphan", "state.json")
	eventually(t, 20*time.Second, func() error {
		if _, err := os.Stat(stateFile); err != nil {
			return err
		}
		if got := recordedStage(t, e, "orphan"); got != "monitor" {
			return fmt.Errorf("stage %q, waiting for monitor", got)
		}
		return nil
	})
	cmd.Process.Kill()
	cmd.Wait()
	eventually(t, 20*time.Second, func() error {
		if got := recordedStage(t, e, "orphan"); got != "running" {
			return fmt.Errorf("stage %q after apply was killed, want running", got)
		}
		return nil
	})
	if p := e.pod("orphan"); p.Status.Phase != corev1.PodRunning {
		t.Errorf("phase %s after apply was killed", p.Status.Phase)
	}
	e.must("delete", "pod", "orphan", "--grace-period", "0")
}
