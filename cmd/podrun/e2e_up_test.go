package main

// up runs each pod under a detached monitor of its own, as apply does,
// follows the logs and deletes its pods: these tests drive it as a user
// would, from another shell too.

import (
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// upProc is a `podrun up` running in the background.
type upProc struct {
	cmd         *exec.Cmd
	out, errOut syncBuffer
	exited      chan struct{} // closed once it has exited; then err is set
	err         error
}

// startUp starts `podrun up -f path` with the test's roots and network.
// A test that ends with it still running kills it.
func (e *env) startUp(t *testing.T, path string) *upProc {
	t.Helper()
	u := &upProc{exited: make(chan struct{})}
	u.cmd = exec.Command(e.bin, "--root", e.root, "--run-root", e.runRoot, "--runtime", e.runtime,
		"--network", e.network, "--cni-config-dir", e.confDir, "up", "-f", path)
	u.cmd.Stdout, u.cmd.Stderr = &u.out, &u.errOut
	if err := u.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		u.err = u.cmd.Wait()
		close(u.exited)
	}()
	t.Cleanup(func() {
		_ = u.cmd.Process.Kill()
		<-u.exited
	})
	return u
}

// wait waits for up to exit and returns its exit code; past timeout it
// kills up and fails the test.
func (u *upProc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-u.exited:
		return exitCodeOf(u.err)
	case <-time.After(timeout):
		_ = u.cmd.Process.Kill()
		<-u.exited
		t.Fatalf("up did not exit within %s\nstdout: %s\nstderr: %s", timeout, u.out.String(), u.errOut.String())
		return 0
	}
}

// running fails the test if up has exited.
func (u *upProc) running(t *testing.T) {
	t.Helper()
	select {
	case <-u.exited:
		t.Fatalf("up exited (%v)\nstdout: %s\nstderr: %s", u.err, u.out.String(), u.errOut.String())
	default:
	}
}

// printed waits until up has written want to stdout (or stderr, with
// errOut).
func (u *upProc) printed(t *testing.T, want string, errOut bool) {
	t.Helper()
	eventually(t, 30*time.Second, func() error {
		b := &u.out
		if errOut {
			b = &u.errOut
		}
		if !strings.Contains(b.String(), want) {
			return fmt.Errorf("up did not print %q\nstdout: %s\nstderr: %s", want, u.out.String(), u.errOut.String())
		}
		return nil
	})
}

// noPods fails the test if any pod is left.
func (e *env) noPods(t *testing.T) {
	t.Helper()
	if out := e.must("get", "pods", "-A"); !strings.Contains(out, "No resources found") {
		t.Errorf("up left pods:\n%s", out)
	}
}

// upEnv is a test env with the demo image, for a test that runs alone
// in it, side by side with others.
func upEnv(t *testing.T) *env {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	return e
}

// TestUpFailedPod: a job that exits non-zero makes up exit 1 by itself,
// naming the pod and the container, after printing the job's output;
// up neither kills itself nor panics, and removes the pods.
func TestUpFailedPod(t *testing.T) {
	e := upEnv(t)
	path := e.manifest("jobs.yaml", podYAML("job", "  restartPolicy: Never\n", container("main", "echo failing; exit 3", ""))+"---\n"+
		podYAML("fine", "  restartPolicy: Never\n", container("main", "echo fine", "")))
	u := e.startUp(t, path)
	if code := u.wait(t, 60*time.Second); code != 1 {
		t.Errorf("up exited %d, want 1", code)
	}
	stdout, stderr := u.out.String(), u.errOut.String()
	if !strings.Contains(stderr, `pod default/job: container "main" exited with 3`) || strings.Contains(stderr, "panic") {
		t.Errorf("up's stderr: %q", stderr)
	}
	if !strings.Contains(stdout, "[pod/job/main] failing\n") || !strings.Contains(stdout, "[pod/fine/main] fine\n") {
		t.Errorf("up's stdout: %q", stdout)
	}
	e.noPods(t)
}

// TestUpPodCannotStart: a container whose command does not exist
// (StartError) and an image that may not be pulled make up exit 1 with
// the reason, by itself.
func TestUpPodCannotStart(t *testing.T) {
	e := upEnv(t)
	nostart := e.manifest("nostart.yaml", podYAML("nostart", "  restartPolicy: Never\n",
		"  - name: main\n    image: localhost/podrun/busybox:demo\n    command: [\"/no/such/command\"]\n"))
	u := e.startUp(t, nostart)
	if code := u.wait(t, 60*time.Second); code != 1 {
		t.Errorf("up exited %d, want 1", code)
	}
	if s := u.errOut.String(); !strings.Contains(s, `pod default/nostart: container "main" could not start: `) ||
		!strings.Contains(s, "/no/such/command") || strings.Contains(s, "panic") {
		t.Errorf("up's stderr: %q", s)
	}
	e.noPods(t)

	noimage := e.manifest("noimage.yaml", podYAML("noimage", "",
		"  - name: main\n    image: localhost/podrun/absent:1\n    imagePullPolicy: Never\n"))
	u = e.startUp(t, noimage)
	if code := u.wait(t, 60*time.Second); code != 1 {
		t.Errorf("up exited %d, want 1", code)
	}
	if s := u.errOut.String(); !strings.Contains(s, "ErrImageNeverPull") {
		t.Errorf("up's stderr: %q", s)
	}
	e.noPods(t)
}

// TestUpStopsWaitingPod: SIGTERM stops up while its pod waits for a
// ConfigMap that does not exist; up deletes the pod and exits 0.
func TestUpStopsWaitingPod(t *testing.T) {
	e := upEnv(t)
	path := e.manifest("pod.yaml", podYAML("waits", "  volumes:\n  - {name: cfg, configMap: {name: absent}}\n",
		container("main", "exec sleep 600", "    volumeMounts:\n    - {name: cfg, mountPath: /cfg}\n")))
	u := e.startUp(t, path)
	eventually(t, 30*time.Second, func() error {
		if out, _, _ := e.run("get", "pod", "waits"); !strings.Contains(out, "ContainerCreating") {
			return fmt.Errorf("the pod does not wait: %q", out)
		}
		return nil
	})
	if err := u.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := u.wait(t, 20*time.Second); code != 0 {
		t.Errorf("up exited %d, want 0: %s", code, u.errOut.String())
	}
	e.noPods(t)
}

// TestUpFollowsEveryRun: up follows a pod that waits for a ConfigMap
// until another command applies it, then its init container, and its
// app container through a restart; it exits 0 once the pod succeeded.
func TestUpFollowsEveryRun(t *testing.T) {
	e := upEnv(t)
	extra := "  restartPolicy: OnFailure\n  volumes:\n  - {name: cfg, configMap: {name: later}}\n  - {name: data, emptyDir: {}}\n" +
		"  initContainers:\n" + container("setup", "echo init", "")
	path := e.manifest("pod.yaml", podYAML("runs", extra,
		container("main", "if [ -f /data/once ]; then echo second $(cat /cfg/k); exit 0; fi; touch /data/once; echo first; exit 1",
			"    volumeMounts:\n    - {name: cfg, mountPath: /cfg}\n    - {name: data, mountPath: /data}\n")))
	u := e.startUp(t, path)
	eventually(t, 30*time.Second, func() error {
		if out, _, _ := e.run("get", "pod", "runs"); !strings.Contains(out, "ContainerCreating") {
			return fmt.Errorf("the pod does not wait: %q", out)
		}
		return nil
	})
	u.running(t)
	e.must("apply", "-f", e.manifest("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: later}\ndata: {k: v1}\n"))
	if code := u.wait(t, 60*time.Second); code != 0 {
		t.Errorf("up exited %d, want 0: %s", code, u.errOut.String())
	}
	// Containers are followed side by side: only each one's lines are
	// in order.
	s := u.out.String()
	first, second := strings.Index(s, "[pod/runs/main] first\n"), strings.Index(s, "[pod/runs/main] second v1\n")
	if !strings.Contains(s, "[pod/runs/setup] init\n") || first < 0 || second < first || strings.Count(s, "\n") != 3 {
		t.Errorf("up printed %q", s)
	}
	e.noPods(t)
}

// TestUpDeleteFromElsewhere: `podrun delete pod a` from another shell
// deletes only a, promptly; up says so and goes on with b until SIGINT,
// then exits 0.
func TestUpDeleteFromElsewhere(t *testing.T) {
	e := upEnv(t)
	loop := "trap 'exit 0' TERM; echo up; while true; do sleep 0.1; done"
	path := e.manifest("pods.yaml", podYAML("a", "  terminationGracePeriodSeconds: 5\n", container("main", loop, ""))+"---\n"+
		podYAML("b", "  terminationGracePeriodSeconds: 5\n", container("main", loop, "")))
	u := e.startUp(t, path)
	eventually(t, 30*time.Second, func() error {
		for _, name := range []string{"a", "b"} {
			if out, _, _ := e.run("get", "pod", name); !strings.Contains(out, "Running") {
				return fmt.Errorf("pod %s does not run: %q", name, out)
			}
		}
		return nil
	})
	start := time.Now()
	e.must("delete", "pod", "a")
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("delete pod a took %s", d)
	}
	u.printed(t, "pod/a deleted\n", true)
	if _, _, err := e.run("get", "pod", "a"); err == nil {
		t.Errorf("pod a is still there")
	}
	if p := e.pod("b"); p.Status.Phase != "Running" {
		t.Errorf("pod b: %s, want Running", p.Status.Phase)
	}
	time.Sleep(time.Second)
	u.running(t)
	if err := u.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := u.wait(t, 30*time.Second); code != 0 {
		t.Errorf("up exited %d, want 0: %s", code, u.errOut.String())
	}
	if s := u.out.String(); !strings.Contains(s, "[pod/a/main] up\n") || !strings.Contains(s, "[pod/b/main] up\n") {
		t.Errorf("up printed %q", s)
	}
	e.noPods(t)
}

// TestUpSecondSignal: a second SIGINT kills a pod that ignores its
// SIGTERM at once, instead of waiting out its 30 s grace period.
func TestUpSecondSignal(t *testing.T) {
	e := upEnv(t)
	path := e.manifest("pod.yaml", podYAML("stubborn", "",
		container("main", "trap '' TERM; echo up; while true; do sleep 0.1; done", "")))
	u := e.startUp(t, path)
	u.printed(t, "[pod/stubborn/main] up\n", false)
	start := time.Now()
	for range 2 {
		if err := u.cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
	}
	if code := u.wait(t, 30*time.Second); code != 0 {
		t.Errorf("up exited %d, want 0: %s", code, u.errOut.String())
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("up took %s after two SIGINTs", d)
	}
	e.noPods(t)
}
