package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/kube"
)

// TestExitCodes: the monitor records each container's exit as the kubelet
// reports it, and logs -f returns once the container has stopped, having
// printed everything it wrote.
func TestExitCodes(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	path := e.manifest("pod.yaml", podYAML("exits", "  restartPolicy: Never\n",
		container("fails", "sleep 1; echo going; exit 3", ""),
		container("ok", "echo one; echo two >&2; exit 0", "")))
	e.must("apply", "-f", path)
	if out := e.must("logs", "-f", "exits", "-c", "fails"); out != "going\n" {
		t.Errorf("logs -f printed %q", out)
	}
	eventually(t, 10*time.Second, func() error {
		pod := e.pod("exits")
		if pod.Status.Phase != corev1.PodFailed {
			return errorf("phase %s, want Failed", pod.Status.Phase)
		}
		for _, cs := range pod.Status.ContainerStatuses {
			term := cs.State.Terminated
			want := map[string]int32{"ok": 0, "fails": 3}[cs.Name]
			wantReason := map[string]string{"ok": "Completed", "fails": "Error"}[cs.Name]
			if term == nil || term.ExitCode != want || term.Reason != wantReason || term.FinishedAt.IsZero() {
				return errorf("container %s: %+v", cs.Name, cs.State)
			}
		}
		return nil
	})
	// stdout and stderr are separate pipes: their relative order is not
	// kept, on Kubernetes either.
	if out := e.must("logs", "exits", "-c", "ok"); out != "one\ntwo\n" && out != "two\none\n" {
		t.Errorf("logs of ok: %q", out)
	}
	// kubectl's STATUS shows the first container's reason.
	if table := e.must("get", "pods"); !strings.Contains(table, "Error") || !strings.Contains(table, "0/2") {
		t.Errorf("get pods:\n%s", table)
	}
	e.must("delete", "pod", "exits")
}

// TestIdentity: hostname, the Kubernetes-managed files, and the audit
// login uid, which a container inherits from the user who ran podrun.
func TestIdentity(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	path := e.manifest("pod.yaml", podYAML("who", "  restartPolicy: Never\n",
		container("main", "hostname; cat /etc/hostname /etc/hosts /proc/self/loginuid; echo; grep -c nameserver /etc/resolv.conf; df -k /dev/shm | tail -1", "")))
	e.must("apply", "-f", path)
	eventually(t, 10*time.Second, func() error {
		if cs := e.pod("who").Status.ContainerStatuses; len(cs) != 1 || cs[0].State.Terminated == nil {
			return errorf("not finished: %+v", cs)
		}
		return nil
	})
	out := e.must("logs", "who")
	pod := e.pod("who")
	for _, want := range []string{"who\nwho\n", "# Kubernetes-managed hosts file.", pod.Status.PodIP + "\twho"} {
		if !strings.Contains(out, want) {
			t.Errorf("container output lacks %q:\n%s", want, out)
		}
	}
	if loginuid, err := os.ReadFile("/proc/self/loginuid"); err == nil && !strings.Contains(out, string(loginuid)+"\n") {
		t.Errorf("loginuid inside differs from ours (%s):\n%s", loginuid, out)
	}
	if !strings.Contains(out, "65536") {
		t.Errorf("/dev/shm is not the pod's 64 MiB tmpfs:\n%s", out)
	}
	e.must("delete", "pod", "who")
}

// TestNamespaces: -n places and finds pods; the same name in two
// namespaces is two pods.
func TestNamespaces(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	path := e.manifest("pod.yaml", podYAML("twin", "", container("main", "trap 'exit 0' TERM; sleep 600 & wait", "")))
	e.must("apply", "-f", path)
	e.must("-n", "other", "apply", "-f", path)
	all := e.must("get", "pods", "-A")
	if strings.Count(all, "twin") != 2 || !strings.Contains(all, "other") || !strings.Contains(all, "NAMESPACE") {
		t.Errorf("get pods -A:\n%s", all)
	}
	if out := e.must("-n", "other", "get", "pods"); strings.Count(out, "twin") != 1 {
		t.Errorf("get pods -n other:\n%s", out)
	}
	e.must("-n", "other", "delete", "pod", "twin")
	e.must("delete", "pod", "twin")
}

// TestRender writes each container's bundle as the manifest says, every
// path in it pointing into the output directory, and starts nothing.
func TestRender(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	out := filepath.Join(t.TempDir(), "bundles")
	dirs := e.must("render", "-f", "../../examples/hello", "-o", out)
	pod := filepath.Join(out, "default_hello")
	if strings.TrimSpace(dirs) != pod {
		t.Errorf("render printed %q", dirs)
	}
	read := func(c string) specs.Spec {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(pod, c, "config.json"))
		if err != nil {
			t.Fatal(err)
		}
		var spec specs.Spec
		if err := json.Unmarshal(data, &spec); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		if spec.Process == nil || spec.Root == nil || spec.Linux == nil {
			t.Fatalf("%s: incomplete spec", c)
		}
		if spec.Root.Path != filepath.Join(pod, c, "rootfs") {
			t.Errorf("%s: root %q, want the bundle's rootfs", c, spec.Root.Path)
		}
		return spec
	}

	infra := read("infra")
	if !slices.Equal(infra.Process.Args, []string{"/pause"}) || infra.Hostname != "hello" {
		t.Errorf("infra: args %q, hostname %q; want /pause and hello", infra.Process.Args, infra.Hostname)
	}
	objs, err := kube.Load([]string{"../../examples/hello"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pods, err := kube.Pods(objs, kube.Options{})
	if err != nil || len(pods) != 1 {
		t.Fatalf("examples/hello: %d pods, %v", len(pods), err)
	}
	for _, c := range pods[0].Pod.Spec.Containers {
		spec := read("containers/" + c.Name)
		if want := append(slices.Clone(c.Command), c.Args...); !slices.Equal(spec.Process.Args, want) {
			t.Errorf("%s: args %q, want %q", c.Name, spec.Process.Args, want)
		}
		if !slices.Contains(spec.Process.Env, "HOSTNAME=hello") {
			t.Errorf("%s: env %q lacks HOSTNAME=hello", c.Name, spec.Process.Env)
		}
		for _, ns := range spec.Linux.Namespaces {
			if ns.Type == specs.NetworkNamespace && ns.Path != filepath.Join(pod, "ns", "net") {
				t.Errorf("%s: network namespace %q, want the pod's", c.Name, ns.Path)
			}
		}
		for _, m := range spec.Mounts {
			if m.Type != "bind" {
				continue
			}
			if !strings.HasPrefix(m.Source, pod+"/") {
				t.Errorf("%s: mount %s from %s, outside the rendered pod", c.Name, m.Destination, m.Source)
			}
			if strings.HasPrefix(m.Destination, "/etc/") {
				if _, err := os.Stat(m.Source); err != nil {
					t.Errorf("%s: %s is not rendered: %v", c.Name, m.Destination, err)
				}
			}
		}
	}
	if hosts, err := os.ReadFile(filepath.Join(pod, "etc", "hosts")); err != nil || !strings.Contains(string(hosts), "Kubernetes-managed") {
		t.Errorf("rendered hosts: %q, %v", hosts, err)
	}
	if pods := e.must("get", "pods"); !strings.Contains(pods, "No resources found") {
		t.Errorf("render started something:\n%s", pods)
	}
	assertEmptyDir(t, filepath.Join(e.runRoot, "pods"))
}

// TestBadManifest: every problem at once, with file, line and field path,
// and nothing created. Needs no root.
func TestBadManifest(t *testing.T) {
	bin, _ := binaries(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "pod.yaml")
	text := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: Bad_Name\nspec:\n  containers:\n  - name: web\n    image: busybox\n    imagee: typo\n  - name: web\n    image: busybox\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, bin: bin, root: filepath.Join(dir, "root"), runRoot: filepath.Join(dir, "run")}
	_, errOut, err := e.run("apply", "-f", path)
	if err == nil {
		t.Fatal("apply of a bad manifest succeeded")
	}
	if !strings.Contains(errOut, path+":9: spec.containers[0].imagee: unknown field") {
		t.Errorf("error lacks the unknown field with its line:\n%s", errOut)
	}
	second := e.manifest("rc.yaml", "apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: d\n")
	_, errOut, _ = e.run("apply", "-f", second)
	if !strings.Contains(errOut, "kind ReplicationController (v1) is not supported yet; podrun accepts: Pod") {
		t.Errorf("unsupported kind:\n%s", errOut)
	}
	if _, err := os.Stat(e.runRoot); !os.IsNotExist(err) {
		t.Errorf("a rejected manifest created %s", e.runRoot)
	}
}

func errorf(format string, args ...any) error {
	return fmt.Errorf(format, args...)
}

// TestMonitorGone: when a pod's monitor dies (killed, or an apply cut
// short), delete still stops and removes everything, and a new apply
// replaces the remains instead of calling them unchanged.
func TestMonitorGone(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	path := e.manifest("pod.yaml", podYAML("orphan", "", container("main", "trap 'exit 0' TERM; sleep 600 & wait", "")))
	e.must("apply", "-f", path)
	killMonitor(t, e, "orphan")
	if out := e.must("apply", "-f", path); out != "pod/orphan created\n" {
		t.Errorf("apply over a pod without monitor printed %q", out)
	}
	if pod := e.pod("orphan"); pod.Status.Phase != corev1.PodRunning {
		t.Errorf("phase %s after re-apply", pod.Status.Phase)
	}
	killMonitor(t, e, "orphan")
	e.must("delete", "pod", "orphan")
}

func killMonitor(t *testing.T, e *env, name string) {
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
	if err := syscall.Kill(st.Monitor.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() error {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d/stat", st.Monitor.Pid)); err == nil {
			return fmt.Errorf("monitor %d still there", st.Monitor.Pid)
		}
		return nil
	})
}
