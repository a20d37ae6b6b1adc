package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// TestHello runs examples/hello as a user would: two containers sharing
// the pod's network, the web page published on a hostPort, both reporting
// the pod's name as hostname, logs readable, status Running; then delete.
func TestHello(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	data, err := os.ReadFile("../../examples/hello/hello.yaml")
	if err != nil {
		t.Fatal(err)
	}
	hostPort := e.portBase
	text := strings.Replace(string(data), "hostPort: 8080", fmt.Sprintf("hostPort: %d", hostPort), 1)
	path := e.manifest("hello.yaml", text)

	if out := e.must("apply", "-f", path); out != "pod/hello created\n" {
		t.Errorf("apply printed %q", out)
	}
	if out := e.must("apply", "-f", path); out != "pod/hello unchanged\n" {
		t.Errorf("second apply printed %q", out)
	}

	url := fmt.Sprintf("http://127.0.0.1:%d/", hostPort)
	eventually(t, 10*time.Second, func() error {
		body, err := fetch(url)
		if err == nil && body != "hello from podrun\n" {
			return fmt.Errorf("GET %s: %q", url, body)
		}
		return err
	})
	eventually(t, 15*time.Second, func() error {
		logs := e.must("logs", "hello", "-c", "client")
		if !strings.Contains(logs, "client in pod hello") || !strings.Contains(logs, "hello from podrun") {
			return fmt.Errorf("client log lacks its hostname or the page fetched over localhost:\n%s", logs)
		}
		return nil
	})
	if logs := e.must("logs", "hello", "-c", "web"); !strings.Contains(logs, "web in pod hello") {
		t.Errorf("web log lacks its hostname:\n%s", logs)
	}
	if _, errOut, err := e.run("logs", "hello"); err == nil || !strings.Contains(errOut, "choose one of: [web client]") {
		t.Errorf("logs without -c on a two-container pod: %v %s", err, errOut)
	}

	pod := e.pod("hello")
	if pod.Status.Phase != corev1.PodRunning {
		t.Errorf("phase %q, want Running", pod.Status.Phase)
	}
	if !strings.HasPrefix(pod.Status.PodIP, e.subnet) {
		t.Errorf("podIP %q is not in the test's subnet %s0/24", pod.Status.PodIP, e.subnet)
	}
	if pod.Status.HostIP == "" || pod.Status.StartTime == nil {
		t.Errorf("hostIP %q, startTime %v: want both set", pod.Status.HostIP, pod.Status.StartTime)
	}
	if len(pod.Status.ContainerStatuses) != 2 {
		t.Fatalf("containerStatuses: %+v", pod.Status.ContainerStatuses)
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.State.Running == nil || !cs.Ready || cs.RestartCount != 0 {
			t.Errorf("container %s: %+v", cs.Name, cs)
		}
	}
	// The pod's address answers from the host too.
	if body, err := fetch("http://" + pod.Status.PodIP + ":8080/"); err != nil || body != "hello from podrun\n" {
		t.Errorf("GET pod IP: %q, %v", body, err)
	}
	table := e.must("get", "pods", "-o", "wide")
	if !strings.Contains(table, "hello") || !strings.Contains(table, "2/2") || !strings.Contains(table, "Running") || !strings.Contains(table, pod.Status.PodIP) {
		t.Errorf("get pods -o wide:\n%s", table)
	}

	if out := e.must("delete", "-f", path); out != "pod \"hello\" deleted\n" {
		t.Errorf("delete printed %q", out)
	}
	if out := e.must("get", "pods"); !strings.Contains(out, "No resources found") {
		t.Errorf("after delete: %s", out)
	}
	if _, err := fetch(url); err == nil {
		t.Errorf("the hostPort still answers after delete")
	}
	// Deleting what is gone succeeds with -f, as kubectl's does not fail.
	e.must("delete", "-f", path)
}

// podYAML is a one- or two-container pod on the demo image.
func podYAML(name, extra string, containers ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\nspec:\n%s  containers:\n", name, extra)
	for _, c := range containers {
		b.WriteString(c)
	}
	return b.String()
}

func container(name, command string, more string) string {
	return fmt.Sprintf("  - name: %s\n    image: localhost/podrun/busybox:demo\n    command: [\"sh\", \"-c\", %q]\n%s", name, command, more)
}

// TestHostPortInUseRollsBack: an apply that fails after the pod's network
// namespace exists (its hostPort is held by another process) leaves
// nothing behind.
func TestHostPortInUseRollsBack(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	port := e.portBase + 1
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	path := e.manifest("pod.yaml", podYAML("busy", "",
		container("web", "exec httpd -f -p 80", fmt.Sprintf("    ports:\n    - containerPort: 80\n      hostPort: %d\n", port))))
	_, errOut, err := e.run("apply", "-f", path)
	if err == nil || !strings.Contains(errOut, fmt.Sprintf("pod.yaml:12: pod default/busy: spec.containers[0].ports[0].hostPort: hostPort in use: %d/TCP is held by another process", port)) {
		t.Fatalf("apply: %v, %s", err, errOut)
	}
	if out := e.must("get", "pods"); !strings.Contains(out, "No resources found") {
		t.Errorf("a failed apply left a pod:\n%s", out)
	}
	assertEmptyDir(t, filepath.Join(e.runRoot, "pods"))
}

// TestRuntimeFailureRollsBack: the OCI runtime fails to create the infra
// container, after network and root file systems are set up; apply fails
// with the runtime's words and leaves nothing behind.
func TestRuntimeFailureRollsBack(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	real := e.runtime
	e.runtime = e.failingRuntime()
	path := e.manifest("pod.yaml", podYAML("doomed", "", container("main", "sleep 600", "")))
	_, errOut, err := e.run("apply", "-f", path)
	if err == nil || !strings.Contains(errOut, "infra container") {
		t.Fatalf("apply with a failing runtime: %v, %s", err, errOut)
	}
	e.runtime = real
	if out := e.must("get", "pods"); !strings.Contains(out, "No resources found") {
		t.Errorf("a failed apply left a pod:\n%s", out)
	}
	assertEmptyDir(t, filepath.Join(e.runRoot, "pods"))
}

// TestCommandNotFound behaves as on Kubernetes: the pod exists, the other
// container runs, and the broken one's status says why it could not start.
func TestCommandNotFound(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	// restartPolicy Never: under Always the kubelet (and podrun) retries
	// the broken container, in CrashLoopBackOff with StartError as its
	// last state.
	path := e.manifest("pod.yaml", podYAML("broken", "  restartPolicy: Never\n",
		container("good", "sleep 600", ""),
		"  - name: bad\n    image: localhost/podrun/busybox:demo\n    command: [\"/no/such/program\"]\n"))
	e.must("apply", "-f", path)
	pod := e.pod("broken")
	var good, bad *corev1.ContainerStatus
	for i, cs := range pod.Status.ContainerStatuses {
		switch cs.Name {
		case "good":
			good = &pod.Status.ContainerStatuses[i]
		case "bad":
			bad = &pod.Status.ContainerStatuses[i]
		}
	}
	if good == nil || good.State.Running == nil {
		t.Errorf("good container: %+v", good)
	}
	if bad == nil || bad.State.Terminated == nil {
		t.Fatalf("bad container: %+v", bad)
	}
	if term := bad.State.Terminated; term.Reason != "StartError" || term.ExitCode != 128 || !strings.Contains(term.Message, "/no/such/program") {
		t.Errorf("bad container terminated: %+v", term)
	}
	if table := e.must("get", "pods"); !strings.Contains(table, "StartError") || !strings.Contains(table, "1/2") {
		t.Errorf("get pods:\n%s", table)
	}
	e.must("delete", "pod", "broken", "--grace-period", "1")
}

// TestConcurrentApply: two applies of one pod at once create it once.
func TestConcurrentApply(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	path := e.manifest("pod.yaml", podYAML("twice", "", container("main", "sleep 600", "")))
	var wg sync.WaitGroup
	outs := make([]string, 2)
	errs := make([]error, 2)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var errOut string
			outs[i], errOut, errs[i] = e.run("apply", "-f", path)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("%v: %s", errs[i], errOut)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := outs[0] + outs[1]
	if strings.Count(got, "created") != 1 || strings.Count(got, "unchanged") != 1 {
		t.Errorf("two applies printed %q", got)
	}
	pod := e.pod("twice")
	if pod.Status.Phase != corev1.PodRunning {
		t.Errorf("phase %s", pod.Status.Phase)
	}
	e.must("delete", "pod", "twice", "--grace-period", "0")
}

// TestHostNetwork: a hostNetwork pod serves on the host's own 127.0.0.1.
func TestHostNetwork(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	port := e.portBase + 2
	path := e.manifest("pod.yaml", podYAML("hostnet", "  hostNetwork: true\n",
		container("web", fmt.Sprintf("exec httpd -f -p 127.0.0.1:%d -h /www", port), "")))
	e.must("apply", "-f", path)
	eventually(t, 10*time.Second, func() error {
		body, err := fetch(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err == nil && body != "hello from podrun\n" {
			return fmt.Errorf("body %q", body)
		}
		return err
	})
	if pod := e.pod("hostnet"); pod.Status.PodIP != pod.Status.HostIP || pod.Status.PodIP == "" {
		t.Errorf("hostNetwork pod IP %q, host IP %q: want both the host's", pod.Status.PodIP, pod.Status.HostIP)
	}
	e.must("delete", "pod", "hostnet", "--grace-period", "0")
}

// TestDeleteGone: deleting a pod that does not exist is an error by name
// (as kubectl) unless --ignore-not-found.
func TestDeleteGone(t *testing.T) {
	e := newEnv(t)
	if _, errOut, err := e.run("delete", "pod", "ghost"); err == nil || !strings.Contains(errOut, "not found") {
		t.Errorf("delete of a missing pod: %v %s", err, errOut)
	}
	e.must("delete", "pod", "ghost", "--ignore-not-found")
}

// TestMissingImage says how to load the image, before creating anything.
func TestMissingImage(t *testing.T) {
	e := newEnv(t)
	path := e.manifest("pod.yaml", podYAML("noimage", "", container("main", "true", "")))
	_, errOut, err := e.run("apply", "-f", path)
	if err == nil || !strings.Contains(errOut, "podrun image load") {
		t.Errorf("apply with a missing image: %v %s", err, errOut)
	}
	assertEmptyDir(t, filepath.Join(e.runRoot, "pods"))
}

// TestMissingPrerequisites names the missing runtime or CNI plugin and
// how to install it, before anything is created.
func TestMissingPrerequisites(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	path := e.manifest("pod.yaml", podYAML("prereq", "", container("main", "sleep 60", "")))
	real := e.runtime
	e.runtime = "no-such-runtime"
	if _, errOut, err := e.run("apply", "-f", path); err == nil || !strings.Contains(errOut, `"no-such-runtime" not found`) || !strings.Contains(errOut, "make deps") {
		t.Errorf("missing runtime: %v %s", err, errOut)
	}
	e.runtime = real
	_, errOut, err := e.run("--cni-plugin-dir", t.TempDir(), "apply", "-f", path)
	if err == nil || !strings.Contains(errOut, "CNI plugin missing") || !strings.Contains(errOut, "containernetworking-plugins") {
		t.Errorf("missing CNI plugins: %v %s", err, errOut)
	}
	assertEmptyDir(t, filepath.Join(e.runRoot, "pods"))
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if len(entries) > 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("%s holds %v after a failed apply", dir, names)
	}
}
