package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podrun/podrun/runner/objects"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// portForward starts podrun port-forward with args and returns it with
// the local port of its first "Forwarding from" line.
func (e *env) portForward(args ...string) (*exec.Cmd, *bytes.Buffer, int) {
	e.t.Helper()
	full := append([]string{"--root", e.root, "--run-root", e.runRoot, "--runtime", e.runtime,
		"--network", e.network, "--cni-config-dir", e.confDir, "port-forward"}, args...)
	cmd := exec.Command(e.bin, full...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	m := regexp.MustCompile(`^Forwarding from 127\.0\.0\.1:(\d+) -> 8000\n$`).FindStringSubmatch(line)
	if err != nil || m == nil {
		e.t.Fatalf("port-forward %v: first line %q (%v)\n%s", args, line, err, errb.String())
	}
	go func() { // the "Handling connection" lines
		b := make([]byte, 4096)
		for {
			if _, err := out.Read(b); err != nil {
				return
			}
		}
	}()
	var port int
	fmt.Sscan(m[1], &port)
	return cmd, &errb, port
}

// TestPortForward: port-forward reaches a server listening on the pod's
// loopback only, by pod/NAME, bare NAME and deployment/NAME, with :REMOTE
// picking a free local port and LOCAL:REMOTE a given one; SIGTERM ends it
// cleanly, and the pod going ends it with an error.
func TestPortForward(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	serve := `
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: localhost/podrun/busybox:demo
        command: ["sh", "-c", "mkdir -p /www && echo hello from $HOSTNAME > /www/index.html && exec httpd -f -p 127.0.0.1:8000 -h /www"]
`
	path := e.manifest("web.yaml", `apiVersion: v1
kind: Pod
metadata: {name: lo, labels: {app: lo}}
spec:`+strings.ReplaceAll(serve, "\n      ", "\n  ")+`    ports: [{name: http, containerPort: 8000}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:`+serve)
	e.must("apply", "--wait", "--timeout", "60s", "-f", path)
	if out, err := fetch(fmt.Sprintf("http://%s:8000/", e.pod("lo").Status.PodIP)); err == nil {
		t.Fatalf("the server answers on the pod's address, not its loopback only: %q", out)
	}

	get := func(port int) error {
		var out string
		var err error
		for range 50 { // the server may take a moment to listen
			if out, err = fetch(fmt.Sprintf("http://127.0.0.1:%d/", port)); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil || !strings.HasPrefix(out, "hello from ") {
			return fmt.Errorf("through port %d: %q %v", port, out, err)
		}
		return nil
	}
	for _, target := range []string{"pod/lo", "lo"} {
		cmd, errb, port := e.portForward(target, ":8000")
		if err := get(port); err != nil {
			t.Errorf("%s: %v", target, err)
		}
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("%s: port-forward ended with %v\n%s", target, err, errb.String())
		}
	}

	// A Service, stored as apply will store it once Services apply:
	// service port 80 named web, targetPort the pod's port named http.
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "lo", Namespace: "default"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "lo"},
			Ports: []corev1.ServicePort{{Name: "web", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("http")}}}}
	if _, err := objects.Open(filepath.Join(e.runRoot, "objects")).Services.Put(svc); err != nil {
		t.Fatal(err)
	}
	for _, spec := range []string{":80", ":web"} {
		cmd, errb, port := e.portForward("svc/lo", spec)
		if err := get(port); err != nil {
			t.Errorf("svc/lo %s: %v", spec, err)
		}
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("svc/lo: port-forward ended with %v\n%s", err, errb.String())
		}
	}
	if err := objects.Open(filepath.Join(e.runRoot, "objects")).Services.Delete("default", "lo"); err != nil {
		t.Fatal(err)
	}

	local := e.portBase + 9
	cmd, errb, port := e.portForward("deployment/web", fmt.Sprintf("%d:8000", local))
	if port != local {
		t.Errorf("listening on %d, want %d", port, local)
	}
	if err := get(port); err != nil {
		t.Errorf("deployment/web: %v", err)
	}
	e.must("delete", "deploy", "web")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(errb.String(), "lost connection to pod") {
			t.Errorf("port-forward after its pod went: %v\n%s", err, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Errorf("port-forward still runs after its pod went")
	}
	e.must("delete", "pod", "lo")
}
