package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// TestRulesOnFailureNeverReadsFailed: a pod under OnFailure whose
// container fails once, sampled every ~50 ms through the failure and the
// restart, never reads Failed: the kubelet keeps such a pod Running while
// it restarts the container, and anything that waits on phases takes
// Failed as final. The emptyDir outlives the restart (each run gets a
// fresh writable layer), so the first run exits 1 and the second 0.
func TestRulesOnFailureNeverReadsFailed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	e.must("apply", "-f", e.manifest("pod.yaml", podYAML("once", "  restartPolicy: OnFailure\n  terminationGracePeriodSeconds: 1\n"+
		"  volumes:\n  - name: mark\n    emptyDir: {}\n",
		container("main", "sleep 1; test -f /mark/x || { touch /mark/x; exit 1; }; sleep 1",
			"    volumeMounts:\n    - name: mark\n      mountPath: /mark\n"))))
	var seen []string
	deadline := time.Now().Add(30 * time.Second)
	for {
		p := e.pod("once")
		cs := lifeStatus(p, "main")
		if cs == nil {
			t.Fatalf("no status for main: %+v", p.Status)
		}
		sample := fmt.Sprintf("%s/%d/%s", p.Status.Phase, cs.RestartCount, containerState(cs.State))
		if len(seen) == 0 || seen[len(seen)-1] != sample {
			seen = append(seen, sample)
		}
		if p.Status.Phase == corev1.PodFailed {
			t.Fatalf("the pod read Failed while its container was to be restarted: %+v\nsamples: %v", cs, seen)
		}
		if p.Status.Phase == corev1.PodSucceeded {
			if cs.RestartCount != 1 || cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 0 {
				t.Errorf("main: %+v", cs)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not Succeeded in time; samples: %v\n%s", seen, lifeDump(e, "once"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("phase/restarts/container state sampled: %v", seen)
	e.must("delete", "pod", "once")
}

// TestRulesDeleteStopSignal: delete stops a container with its
// lifecycle.stopSignal, whether the pod's monitor does it or, the monitor
// gone, delete itself. The container ignores SIGTERM and exits 0 on
// SIGUSR1, writing its name into a file of the test's (a hostPath); the
// grace period is long, so a delete that sent SIGTERM would take it all.
func TestRulesDeleteStopSignal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	heard := t.TempDir()
	for _, monitorGone := range []bool{false, true} {
		name := map[bool]string{false: "usr1-monitor", true: "usr1-delete"}[monitorGone]
		e.must("apply", "-f", e.manifest(name+".yaml", podYAML(name,
			"  terminationGracePeriodSeconds: 30\n  volumes:\n  - {name: heard, hostPath: {path: "+heard+", type: Directory}}\n",
			container("main", fmt.Sprintf("trap 'echo %s > /heard/%s; exit 0' USR1; trap '' TERM; sleep 600 & wait", name, name),
				"    lifecycle:\n      stopSignal: SIGUSR1\n    volumeMounts: [{name: heard, mountPath: /heard}]\n"))))
		e.must("wait", "--for=condition=Ready", "pod/"+name, "--timeout=60s")
		if monitorGone {
			killMonitor(t, e, name)
		}
		start := time.Now()
		e.must("delete", "pod", name)
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s: delete took %v: the container was not sent SIGUSR1", name, d)
		}
		if got, err := os.ReadFile(filepath.Join(heard, name)); err != nil || string(got) != name+"\n" {
			t.Errorf("%s: the container did not handle SIGUSR1: %q, %v", name, got, err)
		}
	}
}

// containerState names a container's state, with its exit code once it
// has terminated.
func containerState(s corev1.ContainerState) string {
	switch {
	case s.Running != nil:
		return "running"
	case s.Terminated != nil:
		return fmt.Sprintf("exited:%d", s.Terminated.ExitCode)
	case s.Waiting != nil:
		return "waiting:" + s.Waiting.Reason
	}
	return "none"
}
