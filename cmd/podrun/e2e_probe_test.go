package main

// Probe integration tests: gRPC probes against a real health server in
// the pod, exec probes that time out, and the OOM score of what the
// monitor runs inside containers.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podrun/podrun/internal/testenv"
)

// grpcHealthBinary builds testdata/grpchealth, a static gRPC health
// server, into a directory of its own, for a hostPath volume.
func grpcHealthBinary(t *testing.T) (dir string) {
	t.Helper()
	testenv.RequireBinary(t, "go")
	dir = t.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "grpchealth"), "./testdata/grpchealth")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the gRPC health server: %v\n%s", err, out)
	}
	return dir
}

// TestProbeGRPC: gRPC probes call grpc.health.v1.Health/Check on a real
// server in the pod. A liveness probe answered SERVING passes (no
// restart), a readiness probe naming a SERVING service makes the
// container ready, and a liveness probe whose service is NOT_SERVING
// restarts its container.
func TestProbeGRPC(t *testing.T) {
	e := lifeEnv(t)
	bin := grpcHealthBinary(t)
	server := func(name string, port int, probes string) string {
		return fmt.Sprintf("  - name: %s\n    image: %s\n    command: [\"/probe/grpchealth\", \"%d\"]\n"+
			"    volumeMounts: [{name: bin, mountPath: /probe, readOnly: true}]\n%s", name, lifeImage, port, probes)
	}
	probe := func(kind string, port int, service string) string {
		s := fmt.Sprintf("    %s:\n      grpc:\n        port: %d\n", kind, port)
		if service != "" {
			s += "        service: " + service + "\n"
		}
		return s + "      initialDelaySeconds: 1\n      periodSeconds: 1\n      failureThreshold: 1\n"
	}
	e.must("apply", "-f", e.manifest("pod.yaml", podYAML("grpc",
		"  terminationGracePeriodSeconds: 1\n  volumes:\n  - {name: bin, hostPath: {path: "+bin+", type: Directory}}\n",
		server("good", 9090, probe("livenessProbe", 9090, "")+probe("readinessProbe", 9090, "ok")),
		server("sick", 9091, probe("livenessProbe", 9091, "sick")))))
	eventually(t, 20*time.Second, func() error {
		p := e.pod("grpc")
		good, sick := lifeStatus(p, "good"), lifeStatus(p, "sick")
		if good == nil || !good.Ready || sick == nil || sick.RestartCount < 1 {
			return fmt.Errorf("good %+v\nsick %+v\n%s", good, sick, lifeDump(e, "grpc"))
		}
		return nil
	})
	if good := lifeStatus(e.pod("grpc"), "good"); good.RestartCount != 0 {
		t.Errorf("good restarted though SERVING: %+v\n%s", good, lifeDump(e, "grpc"))
	}
	// The server saw both of good's probes: the check passed, not skipped.
	if out := e.must("logs", "grpc", "-c", "good"); !strings.Contains(out, `check "": 1`) || !strings.Contains(out, `check "ok": 1`) {
		t.Errorf("good's server saw no liveness and readiness checks:\n%s", out)
	}
	if out := e.must("describe", "pod", "grpc"); !strings.Contains(out, "NOT_SERVING") || !strings.Contains(out, "failed liveness probe") {
		t.Errorf("describe lacks sick's NOT_SERVING and its restart:\n%s", out)
	}
	e.must("delete", "pod", "grpc")
}

// TestProbeExecTimeoutKillsTree: an exec probe that times out is killed
// with what it started in the background: no "sleep 300" is left in the
// container once the probe has been reported as timed out.
func TestProbeExecTimeoutKillsTree(t *testing.T) {
	e := lifeEnv(t)
	e.must("apply", "-f", e.manifest("pod.yaml", podYAML("slowprobe", "  terminationGracePeriodSeconds: 1\n",
		container("main", "exec tail -f /dev/null",
			"    livenessProbe:\n      exec:\n        command: [\"sh\", \"-c\", \"sleep 300 & sleep 300\"]\n"+
				"      timeoutSeconds: 1\n      periodSeconds: 60\n      failureThreshold: 5\n"))))
	eventually(t, 15*time.Second, func() error {
		if out := e.must("describe", "pod", "slowprobe"); !strings.Contains(out, "timed out") {
			return fmt.Errorf("no timed-out probe yet:\n%s", out)
		}
		return nil
	})
	// The next attempt is a minute away: whatever runs now is left over.
	ps := e.must("exec", "slowprobe", "--", "ps", "-o", "pid,args")
	if !strings.Contains(ps, "tail -f /dev/null") {
		t.Fatalf("ps in the container does not show its own process:\n%s", ps)
	}
	if strings.Contains(ps, "sleep 300") {
		t.Errorf("the timed-out probe left processes in the container:\n%s", ps)
	}
	if cs := lifeStatus(e.pod("slowprobe"), "main"); cs.RestartCount != 0 {
		t.Errorf("one timeout of five allowed restarted the container: %+v", cs)
	}
	// The probe's processes, orphaned when their `runc exec` was killed,
	// became the monitor's (the subreaper's) children: reaped, not left as
	// zombies that would keep the container's init from dying.
	monitor := monitorPid(t, e, "slowprobe")
	eventually(t, 5*time.Second, func() error {
		if z := zombieChildrenOf(monitor); len(z) > 0 {
			return fmt.Errorf("the monitor (pid %d) has zombie children %v", monitor, z)
		}
		return nil
	})
	e.must("delete", "pod", "slowprobe")
}

// monitorPid is the pid of pod name's monitor, from its state.
func monitorPid(t *testing.T, e *env, name string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(e.runRoot, "pods", "default_"+name, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Monitor struct{ Pid int } `json:"monitor"`
	}
	if err := json.Unmarshal(data, &st); err != nil || st.Monitor.Pid <= 0 {
		t.Fatalf("no monitor recorded: %v %s", err, data)
	}
	return st.Monitor.Pid
}

// zombieChildrenOf lists the exited, unreaped children of pid.
func zombieChildrenOf(pid int) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, d := range entries {
		status, err := os.ReadFile(filepath.Join("/proc", d.Name(), "status"))
		if err != nil {
			continue
		}
		var ppid, state string
		for _, line := range strings.Split(string(status), "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[0] == "PPid:" {
				ppid = f[1]
			} else if len(f) > 1 && f[0] == "State:" {
				state = f[1]
			}
		}
		if ppid == strconv.Itoa(pid) && state == "Z" {
			out = append(out, d.Name())
		}
	}
	return out
}

// TestProbeOOMScore: exec probes and hooks run with the container's own
// oom_score_adj (its spec's, the kubelet's value for its QoS class: 1000
// for BestEffort), not the monitor's (-1000 where the kernel allows it).
func TestProbeOOMScore(t *testing.T) {
	e := lifeEnv(t)
	write := func(file string) string {
		return fmt.Sprintf("[\"sh\", \"-c\", \"cat /proc/self/oom_score_adj > /dev/shm/%s\"]", file)
	}
	e.must("apply", "-f", e.manifest("pod.yaml", podYAML("oom", "  terminationGracePeriodSeconds: 1\n",
		container("main", "exec tail -f /dev/null",
			"    lifecycle:\n      postStart:\n        exec:\n          command: "+write("hook")+"\n"+
				"    readinessProbe:\n      exec:\n        command: "+write("probe")+"\n      periodSeconds: 1\n"))))
	eventually(t, 10*time.Second, func() error {
		if cs := lifeStatus(e.pod("oom"), "main"); cs == nil || !cs.Ready {
			return fmt.Errorf("main not ready: %+v\n%s", cs, lifeDump(e, "oom"))
		}
		return nil
	})
	data, err := os.ReadFile(filepath.Join(e.runRoot, "pods", "default_oom", "containers", "main", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Process struct {
			OOMScoreAdj *int `json:"oomScoreAdj"`
		} `json:"process"`
	}
	if err := json.Unmarshal(data, &spec); err != nil || spec.Process.OOMScoreAdj == nil {
		t.Fatalf("the container's spec sets no oomScoreAdj: %v\n%s", err, data)
	}
	want := strconv.Itoa(*spec.Process.OOMScoreAdj)
	monitorPid, containerPid := lifePids(t, e, "oom")
	if monitor := procFile(t, monitorPid, "oom_score_adj"); monitor == want {
		t.Fatalf("the monitor's oom_score_adj is the container's (%s): this test would prove nothing", want)
	}
	if got := procFile(t, containerPid, "oom_score_adj"); got != want {
		t.Errorf("container: oom_score_adj %s, want %s", got, want)
	}
	for _, file := range []string{"hook", "probe"} {
		if got := strings.TrimSpace(e.must("exec", "oom", "--", "cat", "/dev/shm/"+file)); got != want {
			t.Errorf("%s: oom_score_adj %s, want the container's %s", file, got, want)
		}
	}
	e.must("delete", "pod", "oom")
}
