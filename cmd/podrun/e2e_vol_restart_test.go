package main

// What the kubelet does with volumes between and around container
// starts: subPaths resolved again at each restart, containers refused
// with CreateContainerConfigError, emptyDir sizeLimit evictions.

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/runner"
)

// containerStatus finds container name's status in pod p.
func containerStatus(p corev1.Pod, name string) (corev1.ContainerStatus, error) {
	for _, s := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		if s.Name == name {
			return s, nil
		}
	}
	return corev1.ContainerStatus{}, fmt.Errorf("pod %s has no status for container %q", p.Name, name)
}

// TestVolumeSubPathAtRestart: a restarted container sees its subPath as
// the volume has it then; one whose earlier run replaced its subPath with
// a symlink to / is refused at the restart; one whose subPathExpr expands
// to `..` never starts. The others keep running.
func TestVolumeSubPathAtRestart(t *testing.T) {
	t.Setenv(runner.BackoffEnv, "200ms")
	e := newEnv(t)
	e.loadDemo()
	mounts := func(sub string) string {
		return "    volumeMounts:\n    - {name: v, mountPath: /vol}\n    - {name: v, mountPath: /sub, " + sub + "}\n"
	}
	path := e.manifest("pod.yaml", podYAML("subs", "  volumes:\n  - {name: v, emptyDir: {}}\n",
		container("fresh", `if [ -f /vol/fresh-ran ]; then echo "sees $(cat /sub/f)"; sleep 3600; fi
echo old > /sub/f; touch /vol/fresh-ran; rm -rf /vol/data; mkdir /vol/data; echo new > /vol/data/f; exit 1`, mounts("subPath: data")),
		container("escape", `if [ -f /vol/escape-ran ]; then echo "escaped $(ls /sub)"; sleep 3600; fi
touch /vol/escape-ran; rm -rf /vol/link; ln -s / /vol/link; exit 1`, mounts("subPath: link")),
		container("dotdot", "echo started; sleep 3600", mounts("subPathExpr: $(D)")+"    env:\n    - {name: D, value: '..'}\n")))
	e.must("apply", "-f", path)
	e.waitLog(t, "subs", "fresh", "sees new")

	eventually(t, 20*time.Second, func() error {
		s, err := containerStatus(e.pod("subs"), "escape")
		if err != nil {
			return err
		}
		if w := s.State.Waiting; w == nil || w.Reason != runner.ReasonConfigError || !strings.Contains(w.Message, "resolves outside volume") {
			return fmt.Errorf("escape: state %+v, want waiting with %s", s.State, runner.ReasonConfigError)
		}
		if s.RestartCount != 0 || s.LastTerminationState.Terminated == nil {
			return fmt.Errorf("escape: restarts %d, last state %+v", s.RestartCount, s.LastTerminationState)
		}
		return nil
	})
	// Still refused after several back-off periods, never started.
	time.Sleep(time.Second)
	p := e.pod("subs")
	if s, _ := containerStatus(p, "escape"); s.State.Waiting == nil || s.State.Waiting.Reason != runner.ReasonConfigError {
		t.Errorf("escape after retries: %+v", s.State)
	}
	if out, _, _ := e.run("logs", "subs", "-c", "escape"); strings.Contains(out, "escaped") {
		t.Errorf("the container whose subPath became a symlink to / ran again: %s", out)
	}
	s, err := containerStatus(p, "dotdot")
	if err != nil {
		t.Fatal(err)
	}
	if w := s.State.Waiting; w == nil || w.Reason != runner.ReasonConfigError || s.RestartCount != 0 {
		t.Errorf("dotdot: %+v, restarts %d", s.State, s.RestartCount)
	}
	if out, _, _ := e.run("logs", "subs", "-c", "dotdot"); strings.Contains(out, "started") {
		t.Errorf("the container with a `..` subPathExpr ran: %s", out)
	}
	if s, _ := containerStatus(p, "fresh"); s.State.Running == nil || s.RestartCount != 1 {
		t.Errorf("fresh: %+v, restarts %d", s.State, s.RestartCount)
	}
	if _, err := os.Stat("/f"); err == nil {
		t.Error("a file /f exists on the host")
	}
	e.must("delete", "pod", "subs", "--grace-period", "0")
}

// TestVolumeEmptyDirSizeLimitEvicts: a container writing past its
// disk-backed emptyDir's sizeLimit gets the pod evicted within seconds,
// and the Failed pod stays until deleted.
func TestVolumeEmptyDirSizeLimitEvicts(t *testing.T) {
	t.Setenv(runner.HousekeepingEnv, "500ms")
	e := newEnv(t)
	e.loadDemo()
	path := e.manifest("pod.yaml", podYAML("full", "  terminationGracePeriodSeconds: 30\n  volumes:\n  - {name: scratch, emptyDir: {sizeLimit: 1Mi}}\n",
		container("c", "echo writing; dd if=/dev/zero of=/scratch/f bs=1024 count=2048; echo written; sleep 3600",
			"    volumeMounts:\n    - {name: scratch, mountPath: /scratch}\n")))
	e.must("apply", "-f", path)
	start := time.Now()
	var p corev1.Pod
	eventually(t, 15*time.Second, func() error {
		p = e.pod("full")
		if p.Status.Phase != corev1.PodFailed || p.Status.Reason != "Evicted" {
			return fmt.Errorf("phase %s reason %q", p.Status.Phase, p.Status.Reason)
		}
		if s, err := containerStatus(p, "c"); err != nil || s.State.Terminated == nil {
			return fmt.Errorf("container c not stopped: %+v %v", s.State, err)
		}
		return nil
	})
	t.Logf("evicted after %v", time.Since(start))
	if want := `Usage of EmptyDir volume "scratch" exceeds the limit "1Mi".`; p.Status.Message != want {
		t.Errorf("message %q, want %q", p.Status.Message, want)
	}
	// Stopped with the eviction's grace period, not the pod's 30 s.
	if d := time.Since(start); d > 12*time.Second {
		t.Errorf("eviction took %v", d)
	}
	time.Sleep(time.Second)
	if s, _ := containerStatus(e.pod("full"), "c"); s.RestartCount != 0 || s.State.Terminated == nil {
		t.Errorf("an evicted container restarted: %+v, restarts %d", s.State, s.RestartCount)
	}
	e.must("delete", "pod", "full", "--grace-period", "0")
}
