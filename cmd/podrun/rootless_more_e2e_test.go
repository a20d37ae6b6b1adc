package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podrun/podrun/internal/testenv"
	"github.com/podrun/podrun/internal/testregistry"
)

// rootlessDemo loads the demo image as e's user, from a copy the user may
// read; the first command starts the user's namespace holder.
func rootlessDemo(t testing.TB, e *userEnv) {
	t.Helper()
	_, demo := binaries(t)
	tar := filepath.Join(e.runtimeDir, "busybox-demo.tar")
	if err := copyExecutable(demo, tar, 0o644); err != nil {
		t.Fatal(err)
	}
	e.must("image", "load", "-i", tar)
}

// userManifest writes a manifest where e's user may read it.
func userManifest(t testing.TB, e *userEnv, name, text string) string {
	t.Helper()
	p := filepath.Join(e.runtimeDir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRootlessCommands: the commands the pod test does not use work as
// an ordinary user too: render, up (exit 0 of a pod that succeeds), wait,
// describe, get -o yaml, image ls and save, volume ls with a claim's
// volume, delete of the claim; and nothing of the user is left.
func TestRootlessCommands(t *testing.T) {
	testenv.RequireFile(t, "/usr/lib/cni/bridge", "install Debian's containernetworking-plugins: make deps")
	e := newUserEnv(t, nsUser)
	rootlessDemo(t, e)
	job := userManifest(t, e, "job.yaml", podYAML("once", "  restartPolicy: Never\n",
		container("main", "echo done-once", "    imagePullPolicy: Never\n")))
	rendered := filepath.Join(e.runtimeDir, "rendered")
	if out := e.must("render", "-f", job, "-o", rendered); !strings.Contains(out, "default_once") {
		t.Errorf("render printed %q", out)
	}
	if out, errOut, err := e.run("up", "-f", job); err != nil || !strings.Contains(out, "done-once") {
		t.Errorf("up of a pod that succeeds: %v\n%s%s", err, out, errOut)
	}
	pvc := userManifest(t, e, "pvc.yaml", `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Mi}}
---
`+podYAML("keeper", "  terminationGracePeriodSeconds: 1\n  volumes:\n  - {name: data, persistentVolumeClaim: {claimName: data}}\n",
		container("main", "echo kept > /data/f; exec sleep 600", "    imagePullPolicy: Never\n    volumeMounts: [{name: data, mountPath: /data}]\n")))
	e.must("apply", "-f", pvc)
	if out := e.must("wait", "--for=condition=Ready", "pod/keeper", "--timeout=60s"); out != "pod/keeper condition met\n" {
		t.Errorf("wait printed %q", out)
	}
	if out := e.must("describe", "pod", "keeper"); !strings.Contains(out, "Status:") || !strings.Contains(out, "Running") {
		t.Errorf("describe:\n%s", out)
	}
	if out := e.must("get", "pod", "keeper", "-o", "yaml"); !strings.Contains(out, "claimName: data") {
		t.Errorf("get -o yaml:\n%s", out)
	}
	if out := e.must("volume", "ls"); !strings.Contains(out, "data") {
		t.Errorf("volume ls:\n%s", out)
	}
	if out := e.must("image", "ls"); !strings.Contains(out, "localhost/podrun/busybox") {
		t.Errorf("image ls:\n%s", out)
	}
	saved := filepath.Join(e.runtimeDir, "saved.tar")
	e.must("image", "save", "-o", saved, "localhost/podrun/busybox:demo")
	if st, err := os.Stat(saved); err != nil || st.Size() == 0 {
		t.Errorf("image save wrote nothing: %v", err)
	}
	e.must("delete", "-f", pvc, "--purge-volumes")
	if out, _, _ := e.run("get", "pods", "-o", "name"); out != "" {
		t.Errorf("pods left (up deletes its own): %q", out)
	}
}

// BenchmarkRootlessPodStart measures `podrun apply` of a two-container
// pod run by an ordinary user (the holder already running) beside the
// same apply as root, in the same iterations: their ratio is what the
// user namespace, slirp4netns and the holder's re-entry cost.
func BenchmarkRootlessPodStart(b *testing.B) {
	root := newEnv(b)
	root.loadDemo()
	user := newUserEnv(b, nsUser)
	rootlessDemo(b, user)
	pod := podYAML("bench", "  terminationGracePeriodSeconds: 1\n",
		container("one", "trap 'exit 0' TERM; sleep 600 & wait", "    imagePullPolicy: Never\n"),
		container("two", "trap 'exit 0' TERM; sleep 600 & wait", "    imagePullPolicy: Never\n"))
	rootPath := root.manifest("pod.yaml", pod)
	userPath := userManifest(b, user, "pod.yaml", pod)
	// A pod of the user's that stays keeps the holder up, as it would be
	// on a machine in use.
	keep := userManifest(b, user, "keep.yaml", podYAML("keep", "  terminationGracePeriodSeconds: 1\n",
		container("main", "exec sleep 600", "    imagePullPolicy: Never\n")))
	user.must("apply", "-f", keep)
	b.Cleanup(func() { user.run("delete", "-f", keep) })
	var asRoot, asUser time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		root.must("apply", "-f", rootPath)
		asRoot += time.Since(start)
		start = time.Now()
		user.must("apply", "-f", userPath)
		asUser += time.Since(start)
		b.StopTimer()
		root.must("delete", "pod", "bench", "--grace-period", "0")
		user.must("delete", "pod", "bench", "--grace-period", "0")
		b.StartTimer()
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(asRoot.Milliseconds())/n, "root-ms/pod")
	b.ReportMetric(float64(asUser.Milliseconds())/n, "rootless-ms/pod")
	b.ReportMetric(float64(asUser)/float64(asRoot), "ratio")
	b.Logf("root %v, rootless %v per pod", asRoot/time.Duration(b.N), asUser/time.Duration(b.N))
}

// TestRootlessServices: Services work for an ordinary user as for root:
// a client pod reaches a ClusterIP Service by name (cluster DNS and the
// proxy, both inside the user's namespaces), and the host reaches its
// NodePort and LoadBalancer ports on 127.0.0.1 through the port driver.
// Deleting the Service takes the host's ports away.
func TestRootlessServices(t *testing.T) {
	testenv.RequireFile(t, "/usr/lib/cni/bridge", "install Debian's containernetworking-plugins: make deps")
	e := newUserEnv(t, nsUser)
	rootlessDemo(t, e)
	tools := netecho(t)
	nodePort, lbPort := 31000+os.Getpid()%500, 29500+os.Getpid()%400
	m := userManifest(t, e, "svc.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: localhost/podrun/busybox:demo
    imagePullPolicy: Never
    command: [sh, -c, "mkdir -p /www && echo served-rootless > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: tools, hostPath: {path: %s, type: Directory}}]
  containers:
  - name: client
    image: localhost/podrun/busybox:demo
    imagePullPolicy: Never
    command: [sleep, "600"]
    volumeMounts: [{name: tools, mountPath: /tools, readOnly: true}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: http, nodePort: %d}]
---
apiVersion: v1
kind: Service
metadata: {name: web-lb}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: %d, targetPort: http}]
`, tools, nodePort, lbPort))
	e.must("apply", "-f", m)
	e.must("wait", "--for=condition=Ready", "pod/web", "pod/client", "--timeout=60s")
	eventually(t, 20*time.Second, func() error {
		out, errOut, err := e.run("exec", "client", "--", "/tools/netecho", "get", "http://web/", "1")
		if err != nil || strings.TrimSpace(out) != "served-rootless" {
			return fmt.Errorf("http://web/ from a pod: %v %q %s", err, out, errOut)
		}
		return nil
	})
	for _, port := range []int{nodePort, lbPort} {
		url := fmt.Sprintf("http://127.0.0.1:%d/", port)
		eventually(t, 20*time.Second, func() error {
			body, err := fetch(url)
			if err == nil && body != "served-rootless\n" {
				err = fmt.Errorf("GET %s: %q", url, body)
			}
			return err
		})
	}
	e.must("delete", "-f", m)
	for _, port := range []int{nodePort, lbPort} {
		if _, err := fetch(fmt.Sprintf("http://127.0.0.1:%d/", port)); err == nil {
			t.Errorf("127.0.0.1:%d still answers after delete", port)
		}
	}
}

// TestRootlessImagePull: an ordinary user pulls from a registry on the
// host's loopback (image verbs keep the host's network, as Podman's
// pulls do), removes the image, and a pod then runs the pulled image with
// imagePullPolicy Never.
func TestRootlessImagePull(t *testing.T) {
	testenv.RequireFile(t, "/usr/lib/cni/bridge", "install Debian's containernetworking-plugins: make deps")
	e := newUserEnv(t, nsUser)
	reg := testregistry.Start(t, "", "")
	ref := reg.Push(t, "podrun/busybox:rootless", testregistry.Demo(t))
	digest := strings.TrimSpace(e.must("image", "pull", "-q", ref))
	if !strings.HasPrefix(digest, "sha256:") {
		t.Fatalf("image pull -q printed %q, want the digest", digest)
	}
	if ls := e.must("image", "ls"); !strings.Contains(ls, reg.Addr+"/podrun/busybox") {
		t.Errorf("image ls:\n%s", ls)
	}
	m := userManifest(t, e, "pulled.yaml", strings.Replace(podYAML("pulled", "  restartPolicy: Never\n",
		container("main", "echo ran-pulled", "    imagePullPolicy: Never\n")), "localhost/podrun/busybox:demo", ref, 1))
	if out, errOut, err := e.run("up", "-f", m); err != nil || !strings.Contains(out, "ran-pulled") {
		t.Errorf("a pod of the pulled image: %v\n%s%s", err, out, errOut)
	}
	e.must("image", "rm", ref)
	if ls := e.must("image", "ls"); strings.Contains(ls, reg.Addr+"/podrun/busybox") {
		t.Errorf("image rm left it:\n%s", ls)
	}
}
