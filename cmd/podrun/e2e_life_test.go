package main

// Lifecycle integration tests (issue 6): restarts and back-off, init
// containers and sidecars, probes, hooks, graceful stop, a lost monitor.
// Timings are scaled down: probe periods of 1 s and a restart back-off
// base of 200 ms (runner.BackoffEnv, for tests only).

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/runner"
)

const lifeImage = "localhost/podrun/busybox:demo"

// lifeEnv is newEnv with the scaled-down restart back-off.
func lifeEnv(t *testing.T) *env {
	t.Setenv(runner.BackoffEnv, "200ms")
	e := newEnv(t)
	e.loadDemo()
	return e
}

// lifeDump is a pod's recorded events and its monitor's log, to explain
// a failure.
func lifeDump(e *env, name string) string {
	dir := filepath.Join(e.runRoot, "pods", "default_"+name)
	st, _ := os.ReadFile(filepath.Join(dir, "state.json"))
	var rec struct {
		Events []json.RawMessage `json:"events"`
	}
	_ = json.Unmarshal(st, &rec)
	var b strings.Builder
	for _, ev := range rec.Events {
		fmt.Fprintf(&b, "event: %s\n", ev)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "monitor.log"))
	fmt.Fprintf(&b, "monitor.log:\n%s", log)
	return b.String()
}

// lifeStatus finds a container's status, init or app.
func lifeStatus(p corev1.Pod, name string) *corev1.ContainerStatus {
	for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

func lifeCondition(p corev1.Pod, typ corev1.PodConditionType) corev1.ConditionStatus {
	for _, c := range p.Status.Conditions {
		if c.Type == typ {
			return c.Status
		}
	}
	return ""
}

// lifeCountScript exits 1 on its first run, 0 on its second and then runs,
// counting runs in the pod's /dev/shm, which outlives the container's
// writable layer.
const lifeCountScript = `n=$(cat /dev/shm/runs 2>/dev/null || echo 0); echo $((n+1)) > /dev/shm/runs; echo run $n; case $n in 0) exit 1;; 1) exit 0;; esac; exec sleep 600`

// TestLifeRestartCounts: the restart-count script under Always,
// OnFailure and Never restarts 2, 1 and 0 times.
func TestLifeRestartCounts(t *testing.T) {
	e := lifeEnv(t)
	var docs []string
	for _, policy := range []string{"Always", "OnFailure", "Never"} {
		name := "count-" + strings.ToLower(policy)
		docs = append(docs, podYAML(name, "  restartPolicy: "+policy+"\n  terminationGracePeriodSeconds: 1\n",
			container("main", lifeCountScript, "")))
	}
	e.must("apply", "-f", e.manifest("pods.yaml", strings.Join(docs, "---\n")))
	want := map[string]struct {
		restarts int32
		phase    corev1.PodPhase
		check    func(corev1.ContainerStatus) bool
	}{
		"count-always": {2, corev1.PodRunning, func(cs corev1.ContainerStatus) bool {
			l := cs.LastTerminationState.Terminated
			return cs.State.Running != nil && l != nil && l.ExitCode == 0 && l.Reason == "Completed"
		}},
		"count-onfailure": {1, corev1.PodSucceeded, func(cs corev1.ContainerStatus) bool {
			l := cs.LastTerminationState.Terminated
			return cs.State.Terminated != nil && cs.State.Terminated.Reason == "Completed" && l != nil && l.ExitCode == 1 && l.Reason == "Error"
		}},
		"count-never": {0, corev1.PodFailed, func(cs corev1.ContainerStatus) bool {
			return cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 1 && cs.LastTerminationState.Terminated == nil
		}},
	}
	for name, w := range want {
		eventually(t, 20*time.Second, func() error {
			p := e.pod(name)
			cs := lifeStatus(p, "main")
			if cs == nil || cs.RestartCount != w.restarts || p.Status.Phase != w.phase || !w.check(*cs) {
				return fmt.Errorf("%s: phase %s, status %+v", name, p.Status.Phase, cs)
			}
			return nil
		})
	}
	// Each run has its own log; --previous shows the one before.
	if out := e.must("logs", "count-always", "--previous"); out != "run 1\n" {
		t.Errorf("logs --previous: %q", out)
	}
	if out := e.must("logs", "count-always"); out != "run 2\n" {
		t.Errorf("logs: %q", out)
	}
	if out := e.must("logs", "count-always", "--previous", "--timestamps"); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\S+ run 1\n$`).MatchString(out) {
		t.Errorf("logs --timestamps: %q", out)
	}
	if out := e.must("logs", "count-always", "--tail", "0"); out != "" {
		t.Errorf("logs --tail 0: %q", out)
	}
	if out := e.must("logs", "count-always", "--since", "1h", "--all-containers"); out != "run 2\n" {
		t.Errorf("logs --since 1h --all-containers: %q", out)
	}
	// The restarts stay put once running.
	time.Sleep(time.Second)
	if cs := lifeStatus(e.pod("count-always"), "main"); cs.RestartCount != 2 {
		t.Errorf("restarts went on: %+v", cs)
	}
	for name := range want {
		e.must("delete", "pod", name)
	}
}

// TestLifeInitContainers: init containers run in order, each to success,
// before the app; a sidecar starts in order and keeps running; a failing
// init container fails the pod under Never and is retried otherwise.
func TestLifeInitContainers(t *testing.T) {
	e := lifeEnv(t)
	initc := func(name, script, more string) string {
		return fmt.Sprintf("  - name: %s\n    image: %s\n    command: [\"sh\", \"-c\", %q]\n%s", name, lifeImage, script, more)
	}
	order := func(name string) string { return fmt.Sprintf("echo %s >> /dev/shm/order", name) }
	ok := podYAML("ordered", "  terminationGracePeriodSeconds: 1\n  initContainers:\n"+
		initc("first", order("first")+"; sleep 1", "")+
		initc("side", order("side")+"; exec sleep 600", "    restartPolicy: Always\n")+
		initc("second", order("second"), ""),
		container("app", order("app")+"; cat /dev/shm/order; exec sleep 600", ""))
	var docs = []string{ok}
	for _, policy := range []string{"Never", "OnFailure", "Always"} {
		docs = append(docs, podYAML("initfail-"+strings.ToLower(policy),
			"  restartPolicy: "+policy+"\n  terminationGracePeriodSeconds: 1\n  initContainers:\n"+initc("broken", "echo no; exit 2", ""),
			container("app", "exec sleep 600", "")))
	}
	e.must("apply", "-f", e.manifest("pods.yaml", strings.Join(docs, "---\n")))

	eventually(t, 15*time.Second, func() error {
		p := e.pod("ordered")
		if p.Status.Phase != corev1.PodRunning || lifeCondition(p, corev1.PodInitialized) != corev1.ConditionTrue || lifeCondition(p, corev1.PodReady) != corev1.ConditionTrue {
			return fmt.Errorf("ordered: phase %s, conditions %+v", p.Status.Phase, p.Status.Conditions)
		}
		if side := lifeStatus(p, "side"); side == nil || side.State.Running == nil {
			return fmt.Errorf("sidecar: %+v", side)
		}
		return nil
	})
	if out := e.must("logs", "ordered", "-c", "app"); out != "first\nside\nsecond\napp\n" {
		t.Errorf("order of runs: %q", out)
	}
	eventually(t, 10*time.Second, func() error {
		p := e.pod("initfail-never")
		app := lifeStatus(p, "app")
		if p.Status.Phase != corev1.PodFailed || app == nil || app.State.Waiting == nil || app.State.Waiting.Reason != "PodInitializing" {
			return fmt.Errorf("initfail-never: phase %s, app %+v", p.Status.Phase, app)
		}
		return nil
	})
	for _, name := range []string{"initfail-onfailure", "initfail-always"} {
		eventually(t, 15*time.Second, func() error {
			p := e.pod(name)
			cs := lifeStatus(p, "broken")
			if p.Status.Phase != corev1.PodPending || cs == nil || cs.RestartCount < 2 || lifeStatus(p, "app").State.Running != nil {
				return fmt.Errorf("%s: phase %s, broken %+v", name, p.Status.Phase, cs)
			}
			return nil
		})
	}
	if table := e.must("get", "pods"); !strings.Contains(table, "Init:Error") && !strings.Contains(table, "Init:CrashLoopBackOff") {
		t.Errorf("get pods shows no failing init container:\n%s", table)
	}
	for _, name := range []string{"ordered", "initfail-never", "initfail-onfailure", "initfail-always"} {
		e.must("delete", "pod", name)
	}
}

// TestLifeSidecarStartupGate: the init container after a sidecar starts
// only once the sidecar's startup probe has passed, not when its first
// run ends. The sidecar's first run exits after 1 s; its second makes the
// probe's file 3 s after the pod began. The next init container fails
// (and with it the pod, under Never) if it starts before the file exists.
func TestLifeSidecarStartupGate(t *testing.T) {
	e := lifeEnv(t)
	side := `n=$(cat /dev/shm/side 2>/dev/null || echo 0); echo $((n+1)) > /dev/shm/side; ` +
		`if [ $n = 0 ]; then date +%s > /dev/shm/t0; sleep 1; exit 1; fi; sleep 2; touch /dev/shm/ready; exec sleep 600`
	initc := func(name, script, more string) string {
		return fmt.Sprintf("  - name: %s\n    image: %s\n    command: [\"sh\", \"-c\", %q]\n%s", name, lifeImage, script, more)
	}
	e.must("apply", "-f", e.manifest("pod.yaml", podYAML("gate", "  restartPolicy: Never\n  terminationGracePeriodSeconds: 1\n  initContainers:\n"+
		initc("side", side, "    restartPolicy: Always\n    startupProbe:\n      exec:\n        command: [\"test\", \"-f\", \"/dev/shm/ready\"]\n      periodSeconds: 1\n      failureThreshold: 30\n")+
		initc("next", "test -f /dev/shm/ready && date +%s > /dev/shm/next", ""),
		container("app", "exec sleep 600", ""))))
	eventually(t, 20*time.Second, func() error {
		p := e.pod("gate")
		next := lifeStatus(p, "next")
		if p.Status.Phase == corev1.PodFailed {
			t.Fatalf("the pod failed: next %+v\n%s", next, lifeDump(e, "gate"))
		}
		if p.Status.Phase != corev1.PodRunning || lifeCondition(p, corev1.PodReady) != corev1.ConditionTrue {
			return fmt.Errorf("phase %s, next %+v", p.Status.Phase, next)
		}
		if next.State.Terminated == nil || next.State.Terminated.ExitCode != 0 || next.RestartCount != 0 {
			return fmt.Errorf("next: %+v", next)
		}
		if cs := lifeStatus(p, "side"); cs.RestartCount != 1 || cs.Started == nil || !*cs.Started {
			return fmt.Errorf("side: %+v", cs)
		}
		return nil
	})
	// Whole seconds: 3 s apart reads as at least 2.
	var t0, next int
	times := e.must("exec", "gate", "-c", "app", "--", "cat", "/dev/shm/t0", "/dev/shm/next")
	if _, err := fmt.Sscan(times, &t0, &next); err != nil || next-t0 < 2 {
		t.Errorf("the sidecar began and the next init container started at %q (%v): want 3 s apart", times, err)
	}
	e.must("delete", "pod", "gate")
}

// TestLifeLivenessRestarts: an exec liveness probe that starts failing
// after a few seconds gets the container restarted, with events.
func TestLifeLivenessRestarts(t *testing.T) {
	e := lifeEnv(t)
	path := e.manifest("pod.yaml", podYAML("live", "  terminationGracePeriodSeconds: 1\n",
		container("main", "touch /tmp/healthy; (sleep 2; rm /tmp/healthy) & exec sleep 600",
			"    livenessProbe:\n      exec:\n        command: [\"cat\", \"/tmp/healthy\"]\n      periodSeconds: 1\n      failureThreshold: 2\n")))
	watch := exec.Command(e.bin, "--root", e.root, "--run-root", e.runRoot, "get", "pods", "-w")
	var watched syncBuffer
	watch.Stdout = &watched
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	e.must("apply", "-f", path)
	eventually(t, 30*time.Second, func() error {
		cs := lifeStatus(e.pod("live"), "main")
		if cs == nil || cs.RestartCount < 1 || cs.LastTerminationState.Terminated == nil {
			return fmt.Errorf("main: %+v\n%s", cs, lifeDump(e, "live"))
		}
		return nil
	})
	eventually(t, 5*time.Second, func() error {
		if !regexp.MustCompile(`(?m)^live +1/1 +Running +0 `).MatchString(watched.String()) ||
			!regexp.MustCompile(`(?m)^live +\S+ +\S+ +1 `).MatchString(watched.String()) {
			return fmt.Errorf("get pods -w printed:\n%s", watched.String())
		}
		return nil
	})
	_ = watch.Process.Signal(syscall.SIGINT)
	if err := watch.Wait(); err != nil {
		t.Errorf("get pods -w after SIGINT: %v", err)
	}
	out := e.must("describe", "pod", "live")
	for _, want := range []string{"Unhealthy", "Liveness probe failed", "Killing", "failed liveness probe, will be restarted"} {
		if !strings.Contains(out, want) {
			t.Errorf("describe lacks %q:\n%s", want, out)
		}
	}
	e.must("delete", "pod", "live")
}

// TestLifeReadinessHTTP: an httpGet readiness probe on a port nobody
// serves keeps the container unready without restarting it; one on
// httpd's port makes its container ready. Both run from the pod's
// network namespace: the image has no curl.
func TestLifeReadinessHTTP(t *testing.T) {
	e := lifeEnv(t)
	probe := func(port int) string {
		return fmt.Sprintf("    readinessProbe:\n      httpGet:\n        path: /\n        port: %d\n      periodSeconds: 1\n", port)
	}
	path := e.manifest("pod.yaml", podYAML("ready", "  terminationGracePeriodSeconds: 1\n",
		// failureThreshold 3: httpd may take a moment to listen on a loaded
		// machine, and a first miss must not restart it.
		container("web", "exec httpd -f -p 80 -h /www", probe(80)+
			"    livenessProbe:\n      tcpSocket:\n        port: 80\n      periodSeconds: 1\n      failureThreshold: 3\n"),
		container("lonely", "exec sleep 600", probe(8081))))
	e.must("apply", "-f", path)
	eventually(t, 10*time.Second, func() error {
		p := e.pod("ready")
		if web := lifeStatus(p, "web"); web == nil || !web.Ready {
			return fmt.Errorf("web not ready: %+v\n%s", web, lifeDump(e, "ready"))
		}
		return nil
	})
	time.Sleep(3 * time.Second)
	p := e.pod("ready")
	lonely := lifeStatus(p, "lonely")
	if lonely.Ready || lonely.RestartCount != 0 || lonely.State.Running == nil {
		t.Errorf("lonely: %+v", lonely)
	}
	if web := lifeStatus(p, "web"); web.RestartCount != 0 { // its tcpSocket liveness probe passes
		t.Errorf("web restarted: %+v", web)
	}
	if lifeCondition(p, corev1.PodReady) != corev1.ConditionFalse || lifeCondition(p, corev1.ContainersReady) != corev1.ConditionFalse {
		t.Errorf("conditions: %+v", p.Status.Conditions)
	}
	if out := e.must("describe", "pod", "ready"); !strings.Contains(out, "Readiness probe failed") {
		t.Errorf("describe lacks the failed readiness probe:\n%s", out)
	}
	if table := e.must("get", "pods"); !strings.Contains(table, "1/2") {
		t.Errorf("get pods:\n%s", table)
	}
	e.must("delete", "pod", "ready")
}

// TestLifeStartupProbe: a startup probe holds off a liveness probe that
// would fail until the application has started.
func TestLifeStartupProbe(t *testing.T) {
	e := lifeEnv(t)
	check := "        command: [\"test\", \"-f\", \"/tmp/started\"]\n"
	path := e.manifest("pod.yaml", podYAML("slow", "  terminationGracePeriodSeconds: 1\n",
		container("main", "sleep 4; touch /tmp/started; exec sleep 600",
			"    startupProbe:\n      exec:\n"+check+"      periodSeconds: 1\n      failureThreshold: 10\n"+
				"    livenessProbe:\n      exec:\n"+check+"      periodSeconds: 1\n      failureThreshold: 1\n")))
	e.must("apply", "-f", path)
	if cs := lifeStatus(e.pod("slow"), "main"); cs.Started == nil || *cs.Started || cs.Ready {
		t.Errorf("started before its startup probe passed: %+v", cs)
	}
	eventually(t, 15*time.Second, func() error {
		cs := lifeStatus(e.pod("slow"), "main")
		if cs == nil || !cs.Ready || cs.Started == nil || !*cs.Started {
			return fmt.Errorf("main: %+v", cs)
		}
		return nil
	})
	time.Sleep(2 * time.Second)
	if cs := lifeStatus(e.pod("slow"), "main"); cs.RestartCount != 0 {
		t.Errorf("the liveness probe ran before startup: %+v", cs)
	}
	e.must("delete", "pod", "slow")
}

// TestLifePreStop: delete runs the preStop hook before the stop signal,
// and another pod sees both, in that order.
func TestLifePreStop(t *testing.T) {
	e := lifeEnv(t)
	e.must("apply", "-f", e.manifest("ear.yaml", podYAML("ear", "  terminationGracePeriodSeconds: 1\n",
		container("listen", "while true; do nc -l -p 7000; done", ""))))
	ear := e.pod("ear").Status.PodIP
	tell := func(what string) string { return fmt.Sprintf("echo %s | nc -w 1 %s 7000", what, ear) }
	e.must("apply", "-f", e.manifest("mouth.yaml", podYAML("mouth", "  terminationGracePeriodSeconds: 10\n",
		container("talk", "trap '"+tell("term")+"; exit 0' TERM; sleep 600 & wait",
			fmt.Sprintf("    lifecycle:\n      preStop:\n        exec:\n          command: [\"sh\", \"-c\", %q]\n", tell("prestop")+"; sleep 1")))))
	e.must("delete", "pod", "mouth")
	eventually(t, 5*time.Second, func() error {
		if out := e.must("logs", "ear"); out != "prestop\nterm\n" {
			return fmt.Errorf("the other pod heard %q\n%s", out, lifeDump(e, "mouth"))
		}
		return nil
	})
	e.must("delete", "pod", "ear")
}

// TestLifeGracePeriod: a container that ignores SIGTERM is killed once
// its grace period is over.
func TestLifeGracePeriod(t *testing.T) {
	e := lifeEnv(t)
	e.must("apply", "-f", e.manifest("pod.yaml", podYAML("stubborn", "  terminationGracePeriodSeconds: 2\n",
		container("main", "trap '' TERM; while true; do sleep 1; done", ""))))
	start := time.Now()
	e.must("delete", "pod", "stubborn")
	if d := time.Since(start); d < 2*time.Second || d > 10*time.Second {
		t.Errorf("delete took %v, want the 2 s grace period and a little", d)
	}
}

// TestLifeMonitorKilled: a pod whose monitor is killed reads as Unknown,
// and delete still removes everything (the leak check).
func TestLifeMonitorKilled(t *testing.T) {
	e := lifeEnv(t)
	e.must("apply", "-f", e.manifest("pod.yaml", podYAML("lost", "  terminationGracePeriodSeconds: 1\n",
		container("main", "exec sleep 600", ""))))
	// The monitor is the OOM killer's last choice; its containers are not.
	monitorPid, containerPid := lifePids(t, e, "lost")
	canProtect := exec.Command("sh", "-c", "echo -1000 > /proc/self/oom_score_adj").Run() == nil
	if score := procFile(t, monitorPid, "oom_score_adj"); score != "-1000" && canProtect {
		t.Errorf("monitor oom_score_adj %s", score)
	} else if !canProtect {
		t.Logf("this machine lets no process lower its oom_score_adj (no CAP_SYS_RESOURCE); monitor has %s", score)
	}
	if score := procFile(t, containerPid, "oom_score_adj"); score == "-1000" {
		t.Errorf("container oom_score_adj %s, inherited from the monitor", score)
	}
	killMonitor(t, e, "lost")
	p := e.pod("lost")
	if p.Status.Phase != corev1.PodUnknown || p.Status.Reason != "MonitorLost" {
		t.Errorf("phase %s reason %q", p.Status.Phase, p.Status.Reason)
	}
	if table := e.must("get", "pods"); !strings.Contains(table, "MonitorLost") {
		t.Errorf("get pods:\n%s", table)
	}
	e.must("delete", "pod", "lost")
}

// TestLifeExec: exec runs as the container's user, with its environment
// and working directory, passes stdin, and returns the command's exit code.
func TestLifeExec(t *testing.T) {
	e := lifeEnv(t)
	e.must("apply", "-f", e.manifest("pod.yaml", podYAML("shell", "  terminationGracePeriodSeconds: 1\n",
		container("main", "exec sleep 600", "    workingDir: /www\n    env:\n    - name: GREETING\n      value: hi\n"),
		container("other", "exec sleep 600", ""))))
	out, errOut, err := e.runStdin("from stdin\n", "exec", "-i", "shell", "--", "sh", "-c", `pwd; echo $GREETING; id -u; cat; exit 3`)
	if out != "/www\nhi\n0\nfrom stdin\n" {
		t.Errorf("exec printed %q (stderr %q)", out, errOut)
	}
	if code := exitCodeOf(err); code != 3 || !strings.Contains(errOut, "command terminated with exit code 3") {
		t.Errorf("exec: exit code %d (%v), stderr %q", code, err, errOut)
	}
	if out := e.must("exec", "shell", "-c", "other", "--", "pwd"); out != "/\n" {
		t.Errorf("exec -c other printed %q", out)
	}
	e.must("delete", "pod", "shell")
}

func exitCodeOf(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestLifeWait: apply --wait returns once pods are Ready, and fails when
// one fails; wait --for condition, jsonpath and delete.
func TestLifeWait(t *testing.T) {
	e := lifeEnv(t)
	ready := e.manifest("ready.yaml", podYAML("slowready", "  terminationGracePeriodSeconds: 1\n",
		container("main", "sleep 2; touch /tmp/ready; exec sleep 600",
			"    readinessProbe:\n      exec:\n        command: [\"test\", \"-f\", \"/tmp/ready\"]\n      periodSeconds: 1\n")))
	if out := e.must("apply", "-f", ready, "--wait", "--timeout", "20s"); !strings.Contains(out, "pod/slowready condition met") {
		t.Errorf("apply --wait printed %q", out)
	}
	if p := e.pod("slowready"); lifeCondition(p, corev1.PodReady) != corev1.ConditionTrue {
		t.Errorf("apply --wait returned before Ready: %+v", p.Status.Conditions)
	}
	failing := e.manifest("failing.yaml", podYAML("failing", "  restartPolicy: Never\n",
		container("main", "sleep 1; exit 4", "")))
	if _, errOut, err := e.run("apply", "-f", failing, "--wait", "--timeout", "20s"); err == nil || !strings.Contains(errOut, "Failed") {
		t.Errorf("apply --wait of a failing pod: %v, %s", err, errOut)
	}
	job := e.manifest("job.yaml", podYAML("job", "  restartPolicy: Never\n", container("main", "sleep 1", "")))
	e.must("apply", "-f", job)
	if out := e.must("wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/job", "--timeout", "20s"); out != "pod/job condition met\n" {
		t.Errorf("wait jsonpath printed %q", out)
	}
	if _, _, err := e.run("wait", "--for=condition=Ready", "pod/job", "--timeout", "1s"); err == nil {
		t.Errorf("wait for Ready of a finished pod succeeded")
	}
	if out := e.must("apply", "-f", job, "--wait"); !strings.Contains(out, "pod/job condition met") {
		t.Errorf("apply --wait of a pod that succeeded printed %q", out)
	}
	e.must("wait", "--for=condition=Ready", "pod/slowready", "--timeout", "5s")
	deleted := make(chan string, 1)
	go func() {
		out, errOut, err := e.run("delete", "pod", "slowready")
		deleted <- fmt.Sprintf("%v\n%s%s", err, out, errOut)
	}()
	if out, errOut, err := e.run("wait", "--for=delete", "pod/slowready", "--timeout", "20s"); err != nil {
		t.Errorf("wait --for=delete: %v\n%s%s\nthe delete it waited for said: %s", err, out, errOut, <-deleted)
	} else if res := <-deleted; !strings.HasPrefix(res, "<nil>") {
		t.Errorf("delete pod slowready: %s", res)
	}
	e.must("delete", "pod", "failing")
	e.must("delete", "pod", "job")
}

// TestLifeUp: up streams every container's output with a pod/container
// prefix, as logs -f --prefix, stops and removes everything on SIGINT
// (the container sees its SIGTERM, and up exits 0), and exits by itself
// with the pods' verdict once they finish.
func TestLifeUp(t *testing.T) {
	e := lifeEnv(t)
	path := e.manifest("pod.yaml", podYAML("fg", "  terminationGracePeriodSeconds: 5\n",
		container("talk", "trap 'echo bye; exit 0' TERM; echo hello; sleep 600 & wait", ""),
		container("quiet", "echo also >&2; exec sleep 600", "")))
	cmd := exec.Command(e.bin, "--root", e.root, "--run-root", e.runRoot, "--runtime", e.runtime,
		"--network", e.network, "--cni-config-dir", e.confDir, "up", "-f", path)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, func() error {
		if s := out.String(); !strings.Contains(s, "[pod/fg/talk] hello\n") || !strings.Contains(s, "[pod/fg/quiet] also\n") {
			return fmt.Errorf("up printed %q", s)
		}
		return nil
	})
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if s := out.String(); !strings.Contains(s, "[pod/fg/talk] bye\n") {
		t.Errorf("the container did not hear its SIGTERM: %q", s)
	}
	if code := exitCodeOf(err); code != 0 {
		t.Errorf("up interrupted exited %d, want 0: %s", code, out.String())
	}
	if table := e.must("get", "pods"); !strings.Contains(table, "No resources found") {
		t.Errorf("up left pods:\n%s", table)
	}

	jobs := e.manifest("jobs.yaml", podYAML("ok", "  restartPolicy: Never\n", container("main", "echo done", ""))+"---\n"+
		podYAML("bad", "  restartPolicy: Never\n", container("main", "exit 3", "")))
	if _, _, err := e.run("up", "-f", jobs); exitCodeOf(err) != 1 {
		t.Errorf("up with a failing job: %v, want exit 1", err)
	}
	stdout, stderr, err := e.run("up", "-f", e.manifest("job.yaml", podYAML("ok", "  restartPolicy: Never\n", container("main", "echo done", ""))))
	if err != nil || stdout != "[pod/ok/main] done\n" {
		t.Errorf("up with a job: %v, %q, %s", err, stdout, stderr)
	}
}

// TestLifeLogsFollowAll: logs -f --all-containers --prefix follows both
// containers at once: their alternating lines come interleaved, each
// whole with its own prefix, and logs returns once both have exited.
func TestLifeLogsFollowAll(t *testing.T) {
	e := lifeEnv(t)
	loop := "for i in 1 2 3 4 5; do echo %s $i; sleep 0.4; done"
	e.must("apply", "-f", e.manifest("pod.yaml", podYAML("talk", "  restartPolicy: Never\n",
		container("a", fmt.Sprintf(loop, "a"), ""),
		container("b", "sleep 0.2; "+fmt.Sprintf(loop, "b"), ""))))
	cmd := exec.Command(e.bin, "--root", e.root, "--run-root", e.runRoot, "logs", "-f", "--all-containers", "--prefix", "talk")
	var out, errOut syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("logs -f: %v: %s", err, errOut.String())
		}
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("logs -f did not return once both containers exited; printed %q", out.String())
	}
	if p := e.pod("talk"); p.Status.Phase != corev1.PodSucceeded {
		t.Errorf("logs -f returned while the pod is %s", p.Status.Phase)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	whole := regexp.MustCompile(`^\[pod/talk/([ab])\] ([ab]) [1-5]$`)
	lastA, firstB, count := -1, -1, map[string]int{}
	for i, l := range lines {
		m := whole.FindStringSubmatch(l)
		if m == nil || m[1] != m[2] {
			t.Errorf("line %d is not whole or has the wrong prefix: %q", i, l)
			continue
		}
		count[m[1]]++
		if m[1] == "a" {
			lastA = i
		} else if firstB < 0 {
			firstB = i
		}
	}
	if count["a"] != 5 || count["b"] != 5 {
		t.Errorf("lines per container %v, want 5 each:\n%s", count, out.String())
	}
	if firstB > lastA {
		t.Errorf("the containers were followed one after the other, not together:\n%s", out.String())
	}
	e.must("delete", "pod", "talk")
}

// syncBuffer is a bytes.Buffer safe for a process's output and a test.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLifeDeadlineAndPostStart: activeDeadlineSeconds fails the pod and
// stops its containers; a failed postStart hook kills its container and
// the restart policy applies.
func TestLifeDeadlineAndPostStart(t *testing.T) {
	e := lifeEnv(t)
	deadline := podYAML("deadline", "  activeDeadlineSeconds: 2\n  terminationGracePeriodSeconds: 1\n", container("main", "exec sleep 600", ""))
	hook := podYAML("hook", "  restartPolicy: Never\n  terminationGracePeriodSeconds: 1\n", container("main", "exec sleep 600",
		"    lifecycle:\n      postStart:\n        exec:\n          command: [\"sh\", \"-c\", \"echo no; exit 1\"]\n"))
	e.must("apply", "-f", e.manifest("pods.yaml", deadline+"---\n"+hook))
	eventually(t, 15*time.Second, func() error {
		p := e.pod("deadline")
		cs := lifeStatus(p, "main")
		// Terminated, or, on a machine so loaded that the deadline passed
		// before the container was created, never started: not running.
		if p.Status.Phase != corev1.PodFailed || p.Status.Reason != "DeadlineExceeded" || cs.State.Running != nil || cs.RestartCount != 0 {
			return fmt.Errorf("deadline: phase %s reason %q, %+v", p.Status.Phase, p.Status.Reason, cs.State)
		}
		return nil
	})
	eventually(t, 15*time.Second, func() error {
		p := e.pod("hook")
		if cs := lifeStatus(p, "main"); p.Status.Phase != corev1.PodFailed || cs.State.Terminated == nil {
			return fmt.Errorf("hook: phase %s, %+v", p.Status.Phase, cs.State)
		}
		return nil
	})
	if out := e.must("describe", "pod", "hook"); !strings.Contains(out, "FailedPostStartHook") {
		t.Errorf("describe lacks FailedPostStartHook:\n%s", out)
	}
	e.must("delete", "pod", "deadline")
	e.must("delete", "pod", "hook")
}

// lifePids reads a pod's monitor pid and its first container's pid.
func lifePids(t testing.TB, e *env, name string) (monitor, container int) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(e.runRoot, "pods", "default_"+name, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Monitor    struct{ Pid int } `json:"monitor"`
		Containers []struct {
			Pid struct{ Pid int } `json:"pid"`
		} `json:"containers"`
	}
	if err := json.Unmarshal(data, &st); err != nil || len(st.Containers) == 0 {
		t.Fatalf("state: %v %s", err, data)
	}
	return st.Monitor.Pid, st.Containers[0].Pid.Pid
}

func procFile(t testing.TB, pid int, name string) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}
