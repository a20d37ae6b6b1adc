package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/runner/supervise"
	"github.com/podrun/podrun/runner/supervise/supervisetest"
)

// testReplicasYAML is an object of the test-only kind: n pods that sleep.
func testReplicasYAML(name string, n int) string {
	return fmt.Sprintf(`apiVersion: test.podrun.io/v1
kind: TestReplicas
metadata:
  name: %s
spec:
  replicas: %d
  template:
    metadata:
      labels: {app: %s}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: main
        image: localhost/podrun/busybox:demo
        command: ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"]
`, name, n, name)
}

// record reads a workload's record of the test kind.
func (e *env) record(name string) supervise.Record {
	e.t.Helper()
	var rec supervise.Record
	data, err := os.ReadFile(filepath.Join(e.runRoot, "workloads", supervisetest.Kind, "default_"+name, supervise.RecordFile))
	if err != nil {
		e.t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		e.t.Fatal(err)
	}
	return rec
}

// owned lists the pods owned by uid, by name, with their uids.
func (e *env) owned(uid string) map[string]string {
	e.t.Helper()
	var list corev1.PodList
	if err := json.Unmarshal([]byte(e.must("get", "pods", "-o", "json")), &list); err != nil {
		e.t.Fatal(err)
	}
	pods := map[string]string{}
	for _, p := range supervise.Owned(list.Items, uid) {
		if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning {
			pods[p.Name] = string(p.UID)
		}
	}
	return pods
}

// objectUID is the uid apply gave the workload.
func (e *env) objectUID(name string) string {
	e.t.Helper()
	data, err := os.ReadFile(filepath.Join(e.runRoot, "workloads", supervisetest.Kind, "default_"+name, supervise.ObjectFile))
	if err != nil {
		e.t.Fatal(err)
	}
	var obj supervisetest.Object
	if err := json.Unmarshal(data, &obj); err != nil {
		e.t.Fatal(err)
	}
	return string(obj.UID)
}

func waitForPods(t *testing.T, e *env, uid string, n int) map[string]string {
	t.Helper()
	var pods map[string]string
	eventually(t, 60*time.Second, func() error {
		if pods = e.owned(uid); len(pods) != n {
			return fmt.Errorf("want %d running pods, have %v", n, pods)
		}
		return nil
	})
	return pods
}

// TestSupervise: a workload's supervisor makes its pods after apply
// returns, replaces a pod deleted by hand, comes back after kill -9 at
// the next command and converges, and goes with its pods at delete.
func TestSupervise(t *testing.T) {
	e := newEnv(t)
	t.Setenv(supervisetest.Env, "1")
	e.loadDemo()
	path := e.manifest("web.yaml", testReplicasYAML("web", 2))
	if out := e.must("test-workload", "apply", path); !strings.Contains(out, "testreplicas/web created") {
		t.Errorf("apply said %q", out)
	}
	sup := e.record("web").Supervisor
	if !sup.Alive() {
		t.Fatalf("no live supervisor recorded: %+v", sup)
	}
	checkSupervisorProcess(t, sup)
	uid := e.objectUID("web")
	pods := waitForPods(t, e, uid, 2)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range pods {
			if !yield(n) {
				return
			}
		}
	})
	for _, n := range names {
		if len(n) != len("web-")+5 || !strings.HasPrefix(n, "web-") {
			t.Errorf("pod name %q, want web-<5 chars>", n)
		}
	}

	// A pod deleted by hand is replaced.
	e.must("delete", "pod", names[0], "--grace-period", "0")
	deleted := time.Now()
	eventually(t, 60*time.Second, func() error {
		now := e.owned(uid)
		if _, back := now[names[0]]; back || len(now) != 2 {
			return fmt.Errorf("after deleting %s: %v", names[0], now)
		}
		return nil
	})
	t.Logf("a pod deleted by hand was replaced, running, %v after the delete returned", time.Since(deleted).Round(10*time.Millisecond))
	// The deleted pod's monitor was the supervisor's child: it is reaped.
	eventually(t, 10*time.Second, func() error {
		if z := zombies(sup.Pid); len(z) > 0 {
			return fmt.Errorf("the supervisor leaves zombies: %v", z)
		}
		return nil
	})

	// An unchanged re-apply changes nothing.
	before := e.owned(uid)
	if out := e.must("test-workload", "apply", path); !strings.Contains(out, "unchanged") {
		t.Errorf("re-apply said %q", out)
	}
	if after := e.owned(uid); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("an unchanged re-apply changed the pods: %v, then %v", before, after)
	}

	measureIdle(t, e, sup, before)

	// kill -9 of the supervisor: the next command starts another, once.
	if err := sup.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if sup.Alive() {
			return fmt.Errorf("supervisor %d still alive", sup.Pid)
		}
		return nil
	})
	_, errOut, err := e.run("get", "pods")
	if err != nil || strings.Count(errOut, "supervisor is gone") != 1 {
		t.Errorf("get pods after kill -9: %v, stderr %q", err, errOut)
	}
	again := e.record("web")
	if !again.Supervisor.Alive() || again.Supervisor == sup || again.Starts != 2 {
		t.Fatalf("after get: %+v", again)
	}
	if _, errOut, _ := e.run("get", "pods"); strings.Contains(errOut, "supervisor") {
		t.Errorf("a second get warned again: %q", errOut)
	}
	// ...and converges: scaled to 3, then its pods are watched again.
	e.must("test-workload", "apply", e.manifest("web3.yaml", testReplicasYAML("web", 3)))
	waitForPods(t, e, uid, 3)

	if log, err := os.ReadFile(filepath.Join(e.runRoot, "workloads", supervisetest.Kind, "default_web", supervise.LogFile)); err == nil && t.Failed() {
		t.Logf("supervisor.log:\n%s", log)
	}
	// Delete stops the supervisor and deletes its pods.
	e.must("test-workload", "delete", "web")
	if again.Supervisor.Alive() {
		t.Errorf("supervisor %d alive after delete", again.Supervisor.Pid)
	}
	if left := e.owned(uid); len(left) != 0 {
		t.Errorf("pods left after delete: %v", left)
	}
	if _, err := os.Stat(filepath.Join(e.runRoot, "workloads", supervisetest.Kind, "default_web")); !os.IsNotExist(err) {
		t.Errorf("workload directory left: %v", err)
	}
	if _, _, err := e.run("test-workload", "delete", "web"); err == nil {
		t.Errorf("deleting a deleted workload succeeded")
	}
}

// TestSuperviseOrphan: --cascade=orphan leaves the pods running, without
// their ownerReference.
func TestSuperviseOrphan(t *testing.T) {
	e := newEnv(t)
	t.Setenv(supervisetest.Env, "1")
	e.loadDemo()
	e.must("test-workload", "apply", e.manifest("keep.yaml", testReplicasYAML("keep", 1)))
	uid := e.objectUID("keep")
	pods := waitForPods(t, e, uid, 1)
	e.must("test-workload", "delete", "keep", "--cascade", "orphan")
	for name := range pods {
		p := e.pod(name)
		if len(p.OwnerReferences) != 0 || p.Status.Phase != corev1.PodRunning {
			t.Errorf("orphan %s: owners %v, phase %s", name, p.OwnerReferences, p.Status.Phase)
		}
		e.must("delete", "pod", name, "--grace-period", "0")
	}
}

// checkSupervisorProcess: the supervisor is podrun's hidden verb, leads
// a session of its own, and is the user's for the audit subsystem.
func checkSupervisorProcess(t *testing.T, p state.Process) {
	t.Helper()
	dir := "/proc/" + strconv.Itoa(p.Pid)
	cmdline, _ := os.ReadFile(dir + "/cmdline")
	if !strings.Contains(string(cmdline), "\x00supervise\x00"+supervisetest.Kind+"\x00") {
		t.Errorf("supervisor command line %q", cmdline)
	}
	if sid, _ := syscall.Getpgid(p.Pid); sid != p.Pid {
		t.Errorf("supervisor %d leads no process group of its own (%d)", p.Pid, sid)
	}
	if ours, err := os.ReadFile("/proc/self/loginuid"); err == nil {
		theirs, _ := os.ReadFile(dir + "/loginuid")
		if string(theirs) != string(ours) {
			t.Errorf("supervisor loginuid %q, ours %q", theirs, ours)
		}
	}
}

// measureIdle logs the memory of the idle supervisor and of one pod
// monitor: numbers for docs/workloads.md, not assertions.
func measureIdle(t *testing.T, e *env, sup state.Process, pods map[string]string) {
	t.Helper()
	for name := range pods {
		var st state.Pod
		data, err := os.ReadFile(filepath.Join(e.runRoot, "pods", "default_"+name, "state.json"))
		if err == nil && json.Unmarshal(data, &st) == nil {
			t.Logf("memory: supervisor %s; pod monitor %s", memory(sup.Pid), memory(st.Monitor.Pid))
		}
		return
	}
}

// memory is a process's Rss and Pss from smaps_rollup.
func memory(pid int) string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[0] == "Rss:" || f[0] == "Pss:" || f[0] == "Pss_Anon:" || f[0] == "Anonymous:") {
			out = append(out, f[0]+" "+f[1]+" kB")
		}
	}
	return strings.Join(out, ", ")
}

// TestSuperviseMemory measures what supervising a workload of 10 pods
// costs: its supervisor and the 10 pod monitors, as Pss (shared pages
// divided among their users). It runs only with PODRUN_MEASURE=1: ten
// pods are a load on a shared machine, and the numbers are for
// docs/workloads.md, not assertions.
func TestSuperviseMemory(t *testing.T) {
	if os.Getenv("PODRUN_MEASURE") != "1" {
		t.Skip("set PODRUN_MEASURE=1 to measure the memory of a 10-pod workload")
	}
	e := newEnv(t)
	t.Setenv(supervisetest.Env, "1")
	e.loadDemo()
	e.must("test-workload", "apply", e.manifest("ten.yaml", testReplicasYAML("ten", 10)))
	uid := e.objectUID("ten")
	pods := waitForPods(t, e, uid, 10)
	time.Sleep(3 * time.Second) // idle: no step under way
	sup := e.record("ten").Supervisor
	total := pss(sup.Pid)
	t.Logf("supervisor: %s", memory(sup.Pid))
	for name := range pods {
		var st state.Pod
		data, _ := os.ReadFile(filepath.Join(e.runRoot, "pods", "default_"+name, "state.json"))
		json.Unmarshal(data, &st)
		total += pss(st.Monitor.Pid)
		t.Logf("monitor of %s: %s", name, memory(st.Monitor.Pid))
	}
	t.Logf("supervisor and 10 monitors: Pss %d kB in all", total)
	e.must("test-workload", "delete", "ten")
}

// pss is a process's Pss in kB.
func pss(pid int) int {
	data, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "Pss:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

// zombies lists the zombie children of pid.
func zombies(pid int) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, d := range entries {
		data, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		i := strings.LastIndexByte(string(data), ')')
		f := strings.Fields(string(data)[i+1:]) // f[0] state, f[1] ppid
		if len(f) > 1 && f[0] == "Z" && f[1] == strconv.Itoa(pid) {
			n, _ := strconv.Atoi(d.Name())
			out = append(out, n)
		}
	}
	return out
}
