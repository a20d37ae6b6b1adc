package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/podrun/podrun/internal/testenv"
)

// TestRootlessHolderPod is issue 14's pod, run the way a user runs it: an
// ordinary user's podrun (through setpriv, no root process in between)
// starts the per-user namespace holder on first use, and the pod runs in
// it: two containers, a ConfigMap volume and an emptyDir, runAsUser 1000
// writing a file that the host sees owned by the mapped subordinate id, a
// hostPort reached from the host's 127.0.0.1, a liveness probe restarting
// a container, the holder killed with -9 and its hostPort published again
// by the next command, exec, logs, delete, and the audit loginuid of the user's
// login on the containers' processes. After the delete no process of the
// user is left: the holder went with the last pod (newUserEnv's cleanup
// checks).
func TestRootlessHolderPod(t *testing.T) {
	testenv.RequireFile(t, "/usr/lib/cni/bridge", "install Debian's containernetworking-plugins: make deps")
	e := newUserEnv(t, nsUser)
	e.loginUID = true
	_, demo := binaries(t)
	tar := filepath.Join(e.runtimeDir, "busybox-demo.tar")
	if err := copyExecutable(demo, tar, 0o644); err != nil {
		t.Fatal(err)
	}
	e.must("image", "load", "-i", tar)
	shared := filepath.Join(e.runtimeDir, "shared")
	if err := os.Mkdir(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(shared, 0o777)
	port := 29000 + os.Getpid()%500
	m := filepath.Join(e.runtimeDir, "pod.yaml")
	if err := os.WriteFile(m, []byte(fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {index.html: hello-rootless}
---
apiVersion: v1
kind: Pod
metadata: {name: rl}
spec:
  terminationGracePeriodSeconds: 1
  volumes:
  - {name: cfg, configMap: {name: cfg}}
  - {name: scratch, emptyDir: {}}
  - {name: shared, hostPath: {path: %s, type: Directory}}
  containers:
  - name: web
    image: localhost/podrun/busybox:demo
    imagePullPolicy: Never
    command: [httpd, -f, -p, "8080", -h, /cfg]
    ports: [{containerPort: 8080, hostPort: %d}]
    volumeMounts: [{name: cfg, mountPath: /cfg}]
  - name: writer
    image: localhost/podrun/busybox:demo
    imagePullPolicy: Never
    securityContext: {runAsUser: 1000}
    command: [sh, -c, "echo data > /scratch/f && cat /scratch/f && echo mine > /shared/by-1000 && touch /tmp/alive && sleep 1000"]
    livenessProbe:
      exec: {command: [cat, /tmp/alive]}
      periodSeconds: 1
      failureThreshold: 1
    volumeMounts: [{name: scratch, mountPath: /scratch}, {name: shared, mountPath: /shared}]
`, shared, port)), 0o644); err != nil {
		t.Fatal(err)
	}
	e.must("apply", "-f", m)
	pod := func() corev1.Pod {
		var p corev1.Pod
		if err := yaml.Unmarshal([]byte(e.must("get", "pod", "rl", "-o", "json")), &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	eventually(t, 60*time.Second, func() error {
		p := pod()
		if p.Status.Phase != corev1.PodRunning || len(p.Status.ContainerStatuses) != 2 {
			return fmt.Errorf("pod rl: %s %+v", p.Status.Phase, p.Status.ContainerStatuses)
		}
		return nil
	})
	// The pods live under the user's run root as the command outside
	// chose it, where the holder's record is too.
	if _, err := os.Stat(filepath.Join(e.runRoot, "pods", "default_rl")); err != nil {
		t.Errorf("the pod is not under the user's run root %s: %v", e.runRoot, err)
	}
	if !strings.HasPrefix(pod().Status.PodIP, "10.") {
		t.Errorf("pod IP %q: want one of the user's subnet", pod().Status.PodIP)
	}
	eventually(t, 20*time.Second, func() error {
		body, err := fetch(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err == nil && body != "hello-rootless" {
			err = fmt.Errorf("GET 127.0.0.1:%d: %q", port, body)
		}
		return err
	})
	// kill -9 of the holder: the pod goes on in the same namespaces, the
	// next command starts a new holder and uplink and publishes the
	// hostPort on it again.
	old := e.record()
	if err := syscall.Kill(old.Holder.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() error {
		if p := pod(); p.Status.Phase != corev1.PodRunning {
			return fmt.Errorf("after the holder's crash, pod rl is %s", p.Status.Phase)
		}
		if rec := e.record(); rec.Holder.Pid == old.Holder.Pid {
			return fmt.Errorf("no new holder yet")
		}
		body, err := fetch(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err == nil && body != "hello-rootless" {
			err = fmt.Errorf("GET 127.0.0.1:%d after the holder's crash: %q", port, body)
		}
		return err
	})
	// runAsUser 1000 inside is a subordinate id outside, as the holder's
	// uid_map says.
	want := -1
	for _, line := range strings.Split(e.must("unshare", "--", "cat", "/proc/self/uid_map"), "\n") {
		var in, out, n int
		if _, err := fmt.Sscan(line, &in, &out, &n); err == nil && in <= 1000 && 1000 < in+n {
			want = out + 1000 - in
		}
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(shared, "by-1000"), &st); err != nil || int(st.Uid) != want || want == e.uid || want < 100000 {
		t.Errorf("the file written by uid 1000: owner %d, %v; want %d, a subordinate id", st.Uid, err, want)
	}
	// The audit subsystem sees the containers as the user's: the host
	// reads the user's loginuid on the pod's httpd (inside, it reads 0,
	// the user's uid as the namespace maps it).
	httpd := 0
	entries, _ := os.ReadDir("/proc")
	for _, d := range entries {
		cmdline, _ := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if string(cmdline) == "httpd\x00-f\x00-p\x008080\x00-h\x00/cfg\x00" {
			fmt.Sscan(d.Name(), &httpd)
			if got, err := os.ReadFile(filepath.Join("/proc", d.Name(), "loginuid")); err != nil || string(got) != fmt.Sprint(e.uid) {
				t.Errorf("the container's loginuid on the host: %q, %v; want the user's %d", got, err, e.uid)
			}
		}
	}
	if httpd == 0 {
		t.Errorf("the pod's httpd is not among the host's processes")
	}
	if out := e.must("exec", "rl", "-c", "writer", "--", "id", "-u"); out != "1000\n" {
		t.Errorf("exec id -u: %q", out)
	}
	if out := e.must("logs", "rl", "-c", "writer"); !strings.Contains(out, "data\n") {
		t.Errorf("logs: %q", out)
	}
	e.must("exec", "rl", "-c", "writer", "--", "rm", "/tmp/alive")
	eventually(t, 30*time.Second, func() error {
		for _, s := range pod().Status.ContainerStatuses {
			if s.Name == "writer" && s.RestartCount > 0 && s.State.Running != nil {
				return nil
			}
		}
		return fmt.Errorf("writer not restarted by its liveness probe: %+v", pod().Status.ContainerStatuses)
	})
	e.must("delete", "-f", m)
	if _, err := fetch(fmt.Sprintf("http://127.0.0.1:%d/", port)); err == nil {
		t.Errorf("the hostPort still answers after delete")
	}
}
