package main

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

const (
	msgUnfreePorts = "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports."
	msgNodeMisfit  = "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."
)

// TestPendingHostPort: three pods of one file ask for one hostPort. The
// first runs; the others are created Pending as a scheduler leaves them,
// with the reason on apply's stderr, the condition in get -o json and the
// event in describe. Deleting the first starts the second, oldest first,
// without another apply, and the third waits on; deleting the second
// starts the third. A pod whose nodeSelector this node does not match
// stays Pending through it all.
func TestPendingHostPort(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	port := e.portBase + 3
	web := func(name string) string {
		return podYAML(name, "", container("web",
			fmt.Sprintf("mkdir -p /tmp/www && echo %s > /tmp/www/index.html && exec httpd -f -p 80 -h /tmp/www", name),
			fmt.Sprintf("    ports:\n    - containerPort: 80\n      hostPort: %d\n", port)))
	}
	path := e.manifest("pods.yaml", web("first")+"---\n"+web("second")+"---\n"+web("third"))
	out, errOut, err := e.run("apply", "-f", path)
	if err != nil || out != "pod/first created\npod/second created\npod/third created\n" {
		t.Fatalf("apply: %v\n%s%s", err, out, errOut)
	}
	for _, w := range []string{
		fmt.Sprintf("Warning: %s:25: pod second is Pending: Unschedulable: %s (hostPort %d/TCP is published by pod default/first)", path, msgUnfreePorts, port),
		fmt.Sprintf("Warning: %s:38: pod third is Pending: Unschedulable: %s", path, msgUnfreePorts),
	} {
		if !strings.Contains(errOut, w) {
			t.Errorf("apply's stderr lacks %q:\n%s", w, errOut)
		}
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	served := func(want string) func() error {
		return func() error {
			body, err := fetch(url)
			if err == nil && body != want+"\n" {
				return fmt.Errorf("GET %s: %q, want %q", url, body, want)
			}
			return err
		}
	}
	eventually(t, 15*time.Second, served("first"))
	second := e.pod("second")
	checkUnschedulable(t, second, msgUnfreePorts)
	e.checkPendingShown("second", msgUnfreePorts)

	// Render gives apply's verdict: no bundles for the Pending pods, exit 0.
	rendered := t.TempDir()
	out, errOut, err = e.run("render", "-f", path, "-o", rendered)
	if err != nil || strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "/default_first\n") ||
		!strings.Contains(errOut, fmt.Sprintf("%s:25: pod second would be Pending: Unschedulable: %s", path, msgUnfreePorts)) ||
		!strings.Contains(errOut, fmt.Sprintf("%s:38: pod third would be Pending: Unschedulable: %s", path, msgUnfreePorts)) {
		t.Errorf("render: %v\n%s%s", err, out, errOut)
	}

	// Applied again unchanged, nothing changes.
	if out := e.must("apply", "-f", path); out != "pod/first unchanged\npod/second unchanged\npod/third unchanged\n" {
		t.Errorf("apply again printed %q", out)
	}
	if again := e.pod("second"); again.UID != second.UID || again.Status.Phase != corev1.PodPending {
		t.Errorf("applied again: uid %s phase %s, want uid %s Pending", again.UID, again.Status.Phase, second.UID)
	}

	ssd := e.manifest("ssd.yaml", podYAML("ssd", "  nodeSelector:\n    disktype: ssd\n", container("app", "sleep 3600", "")))
	out, errOut, err = e.run("apply", "-f", ssd)
	if err != nil || out != "pod/ssd created\n" || !strings.Contains(errOut, "Warning: "+ssd+":6: pod ssd is Pending: Unschedulable: "+msgNodeMisfit) {
		t.Errorf("apply of a pod for another node: %v\n%s%s", err, out, errOut)
	}
	checkUnschedulable(t, e.pod("ssd"), msgNodeMisfit)

	// The port freed, the oldest Pending pod starts, the next waits on.
	e.must("delete", "pod", "first", "--grace-period", "0")
	eventually(t, 15*time.Second, func() error {
		if p := e.pod("second"); p.Status.Phase != corev1.PodRunning {
			return fmt.Errorf("second is %s after first was deleted", p.Status.Phase)
		}
		return nil
	})
	eventually(t, 10*time.Second, served("second"))
	started := e.pod("second")
	if started.UID != second.UID || started.Spec.NodeName == "" {
		t.Errorf("second started as uid %s on node %q, want uid %s on this node", started.UID, started.Spec.NodeName, second.UID)
	}
	if d := e.must("describe", "pod", "second"); !strings.Contains(d, "Scheduled") || !strings.Contains(d, "Successfully assigned default/second to ") {
		t.Errorf("describe of the started pod lacks the Scheduled event:\n%s", d)
	}
	checkUnschedulable(t, e.pod("third"), msgUnfreePorts)

	e.must("delete", "pod", "second", "--grace-period", "0")
	eventually(t, 15*time.Second, func() error {
		if p := e.pod("third"); p.Status.Phase != corev1.PodRunning {
			return fmt.Errorf("third is %s after second was deleted", p.Status.Phase)
		}
		return nil
	})
	eventually(t, 10*time.Second, served("third"))
	checkUnschedulable(t, e.pod("ssd"), msgNodeMisfit)

	e.must("delete", "-f", path, "--grace-period", "0")
	e.must("delete", "pod", "ssd")
	if out := e.must("get", "pods"); strings.Contains(out, "ssd") || strings.Contains(out, "third") {
		t.Errorf("pods left after delete:\n%s", out)
	}
}

// checkUnschedulable: p is Pending as the scheduler leaves a pod it
// cannot place: no node, PodScheduled False with reason Unschedulable and
// msg.
func checkUnschedulable(t *testing.T, p corev1.Pod, msg string) {
	t.Helper()
	if p.Status.Phase != corev1.PodPending || p.Spec.NodeName != "" || len(p.Status.ContainerStatuses) != 0 {
		t.Errorf("pod %s: phase %s, node %q, %d container statuses; want Pending, unscheduled", p.Name, p.Status.Phase, p.Spec.NodeName, len(p.Status.ContainerStatuses))
	}
	if len(p.Status.Conditions) != 1 {
		t.Fatalf("pod %s: conditions %+v, want PodScheduled alone", p.Name, p.Status.Conditions)
	}
	if c := p.Status.Conditions[0]; c.Type != corev1.PodScheduled || c.Status != corev1.ConditionFalse || c.Reason != "Unschedulable" || c.Message != msg {
		t.Errorf("pod %s: condition %+v, want PodScheduled False Unschedulable %q", p.Name, c, msg)
	}
}

// checkPendingShown: get pods lists pod name as Pending, and describe
// shows it unscheduled, with the condition and the scheduler's event.
func (e *env) checkPendingShown(name, msg string) {
	e.t.Helper()
	var row []string
	for _, line := range strings.Split(e.must("get", "pods"), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			row = f
		}
	}
	if len(row) < 3 || row[1] != "0/1" || row[2] != "Pending" {
		e.t.Errorf("get pods row of %s: %q, want 0/1 Pending", name, row)
	}
	d := e.must("describe", "pod", name)
	for _, want := range []string{"Node:", "<none>", "Status:", "Pending", "PodScheduled", "False", "Warning", "FailedScheduling", "default-scheduler", msg} {
		if !strings.Contains(d, want) {
			e.t.Errorf("describe pod %s lacks %q:\n%s", name, want, d)
		}
	}
}

// TestUpPendingPod: up runs two pods asking for one hostPort; the second
// is Pending, and up waits for it rather than failing to follow its
// logs. Deleting the first from another shell starts the second, whose
// logs up then follows; SIGINT ends up with exit status 0.
func TestUpPendingPod(t *testing.T) {
	e := upEnv(t)
	ports := fmt.Sprintf("    ports:\n    - containerPort: 80\n      hostPort: %d\n", e.portBase+4)
	loop := func(name string) string {
		return podYAML(name, "  terminationGracePeriodSeconds: 5\n", container("main",
			"trap 'exit 0' TERM; echo "+name+" up; while true; do sleep 0.1; done", ports))
	}
	u := e.startUp(t, e.manifest("pods.yaml", loop("a")+"---\n"+loop("b")))
	eventually(t, 30*time.Second, func() error {
		if out, _, _ := e.run("get", "pod", "b"); !strings.Contains(out, "Pending") {
			return fmt.Errorf("pod b is not Pending: %q", out)
		}
		return nil
	})
	checkUnschedulable(t, e.pod("b"), msgUnfreePorts)
	e.must("delete", "pod", "a")
	u.printed(t, "[pod/b/main] b up\n", false)
	if err := u.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := u.wait(t, 30*time.Second); code != 0 {
		t.Errorf("up exited %d, want 0: %s", code, u.errOut.String())
	}
	if s := u.errOut.String(); strings.Contains(s, "host assigned") {
		t.Errorf("up failed to follow the Pending pod:\n%s", s)
	}
	e.noPods(t)
}
