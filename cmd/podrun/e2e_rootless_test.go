package main

// Rootless pods: the real podrun binary, run by an ordinary user inside a
// user, mount and network namespace of that user with its full subuid and
// subgid mapping (a stand-in for the per-user namespace holder, made with
// util-linux's unshare), where podrun is uid 0 of the namespace only.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/internal/testenv"
	"github.com/podrun/podrun/runner/runtime"
)

// rlEnv is one rootless test's world: the user, its namespace holder,
// the roots inside the test's directory (owned by the user), the binary.
type rlEnv struct {
	t             *testing.T
	uid, gid      int
	subuid        int // the first subordinate uid: id 1 inside
	dir           string
	bin, tar      string
	runtime       string
	root, runRoot string
	confDir       string
	holder        *exec.Cmd
	holderPid     int
	holderUser    string   // the holder's /proc/PID/ns/user link
	env           []string // more of podrun's environment
}

// newRootlessEnv needs root (to make the user), util-linux's unshare,
// nsenter and setpriv, newuidmap and newgidmap, runc and the CNI plugins.
func newRootlessEnv(t *testing.T) *rlEnv {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireBinary(t, "unshare", "nsenter", "setpriv", "newuidmap", "newgidmap", "ip", "iptables", "useradd")
	rt := testenv.RequireRuntime(t, runtime.Bundled)
	testenv.RequireFile(t, "/usr/lib/cni/bridge", "install Debian's containernetworking-plugins: make deps")
	testenv.RequireFile(t, "/usr/bin/busybox", "install busybox-static: make deps")
	bin, tar := binaries(t)
	e := &rlEnv{t: t, runtime: rt}
	e.uid, e.gid, e.subuid = testenv.RequireRootlessUser(t)
	// t.TempDir is root's and 0700; the user needs its own, under a
	// directory it can pass through.
	e.dir = t.TempDir()
	for _, d := range []string{e.dir, filepath.Dir(e.dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e.bin, e.tar = filepath.Join(e.dir, "podrun"), filepath.Join(e.dir, "demo.tar")
	copyFile(t, bin, e.bin, 0o755)
	copyFile(t, tar, e.tar, 0o644)
	e.root, e.runRoot, e.confDir = filepath.Join(e.dir, "root"), filepath.Join(e.dir, "run"), filepath.Join(e.dir, "net.d")
	if err := os.MkdirAll(e.confDir, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`{"cniVersion": "1.0.0", "name": "rootless",
  "plugins": [
    {"type": "bridge", "bridge": "podrun0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.88.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}],
              "dataDir": %q}},
    {"type": "portmap", "capabilities": {"portMappings": true}, "snat": true},
    {"type": "firewall"}
  ]}`, filepath.Join(e.dir, "ipam"))
	if err := os.WriteFile(filepath.Join(e.confDir, "rootless.conflist"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := filepath.Walk(e.dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, e.uid, e.gid)
	}); err != nil {
		t.Fatal(err)
	}
	e.startHolder()
	t.Cleanup(e.leakCheck)
	t.Cleanup(e.deleteAll)
	return e
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// asUser is the argv prefix that runs a command as the test user, with
// a clean environment.
func (e *rlEnv) asUser() []string {
	return testenv.AsRootlessUser(e.uid, e.gid, e.dir)
}

// startHolder starts the stand-in for the per-user namespace holder: a
// process of the user in its own user (full subordinate mapping), mount
// and network namespaces, with lo up.
func (e *rlEnv) startHolder() {
	t := e.t
	argv := append(e.asUser(), "unshare", "--user", "--map-auto", "--map-root-user", "--mount", "--net", "--fork",
		"sh", "-c", "ip link set lo up && echo $$ && exec sleep 3600")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the namespace holder: %v", err)
	}
	e.holder = cmd
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("starting the namespace holder: %v: %s", err, stderr.String())
	}
	e.holderPid, err = strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("namespace holder said %q", line)
	}
	e.holderUser, _ = os.Readlink(fmt.Sprintf("/proc/%d/ns/user", e.holderPid))
	if self, _ := os.Readlink("/proc/self/ns/user"); self == e.holderUser || e.holderUser == "" {
		t.Fatalf("the namespace holder has no user namespace of its own (%q)", e.holderUser)
	}
}

// run runs podrun inside the holder's namespaces as their uid 0, the way
// the holder re-executes every rootless command (nsenter, no preserved
// credentials).
func (e *rlEnv) run(args ...string) (string, string, error) {
	argv := append(append(e.asUser(), e.env...), "nsenter", "--target", strconv.Itoa(e.holderPid), "--user", "--mount", "--net", "--",
		e.bin, "--root", e.root, "--run-root", e.runRoot, "--runtime", e.runtime,
		"--network", "rootless", "--cni-config-dir", e.confDir)
	argv = append(argv, args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

func (e *rlEnv) must(args ...string) string {
	e.t.Helper()
	out, errOut, err := e.run(args...)
	if err != nil {
		e.t.Fatalf("podrun %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func (e *rlEnv) pod(name string) corev1.Pod {
	e.t.Helper()
	var p corev1.Pod
	if err := json.Unmarshal([]byte(e.must("get", "pod", name, "-o", "json")), &p); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *rlEnv) manifest(name, text string) string {
	e.t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *rlEnv) deleteAll() {
	out, _, err := e.run("get", "pods", "-A", "-o", "json")
	if err != nil {
		return
	}
	var list corev1.PodList
	if json.Unmarshal([]byte(out), &list) != nil {
		return
	}
	for _, p := range list.Items {
		e.run("delete", "pod", p.Name, "-n", p.Namespace, "--grace-period", "0")
	}
}

// leakCheck fails the test if, after its pods are deleted, a mount under
// its directory remains in the holder's mount namespace, a process other
// than the holder lives in the holder's user namespace, or runc still
// knows a container.
func (e *rlEnv) leakCheck() {
	t := e.t
	mi, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", e.holderPid))
	if err != nil {
		t.Errorf("leakcheck: reading the holder's mounts: %v", err)
	}
	for l := range strings.SplitSeq(string(mi), "\n") {
		if strings.Contains(l, e.dir) {
			t.Errorf("leakcheck: mount left in the user's namespace: %s", l)
		}
	}
	entries, _ := os.ReadDir("/proc")
	for _, d := range entries {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || pid == e.holderPid || pid == e.holder.Process.Pid {
			continue
		}
		stat, _ := os.ReadFile("/proc/" + d.Name() + "/stat")
		if _, rest, _ := bytes.Cut(stat, []byte(") ")); bytes.HasPrefix(rest, []byte("Z")) {
			continue // dead, waiting for init (this machine's reaps late)
		}
		if ns, _ := os.Readlink("/proc/" + d.Name() + "/ns/user"); ns == e.holderUser {
			cmdline, _ := os.ReadFile("/proc/" + d.Name() + "/cmdline")
			t.Errorf("leakcheck: process left in the user's namespace: %d %s", pid, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
		}
	}
	// CNI DEL ran for every pod: host-local holds no address.
	ipam, _ := os.ReadDir(filepath.Join(e.dir, "ipam", "rootless"))
	for _, f := range ipam {
		if n := f.Name(); n != "lock" && !strings.HasPrefix(n, "last_reserved_ip") {
			t.Errorf("leakcheck: address %s still allocated by host-local", n)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(e.runRoot, "runtime")); len(ents) > 0 {
		t.Errorf("leakcheck: runc still has %d containers under %s", len(ents), filepath.Join(e.runRoot, "runtime"))
	}
}

// TestRootlessPod runs a two-container pod as an ordinary user: a
// ConfigMap and a Secret volume, a shared emptyDir, runAsUser 1000 whose
// file the host sees owned by the user's subordinate uid, a memory limit
// ignored with one warning (no delegated cgroup), a liveness probe that
// restarts a container, exec, logs and delete, and nothing left after.
func TestRootlessPod(t *testing.T) {
	e := newRootlessEnv(t)
	e.must("image", "load", "-i", e.tar)
	hp := filepath.Join(e.dir, "hostpath")
	if err := os.Mkdir(hp, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(hp, e.uid, e.gid); err != nil {
		t.Fatal(err)
	}
	m := e.manifest("pod.yaml", `apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {greeting: hello-rootless}
---
apiVersion: v1
kind: Secret
metadata: {name: sec}
stringData: {token: s3cret}
---
apiVersion: v1
kind: Pod
metadata: {name: two}
spec:
  terminationGracePeriodSeconds: 1
  securityContext: {fsGroup: 2000}
  volumes:
  - {name: cfg, configMap: {name: cfg}}
  - {name: sec, secret: {secretName: sec}}
  - {name: scratch, emptyDir: {}}
  - {name: mem, emptyDir: {medium: Memory}}
  - {name: hp, hostPath: {path: `+hp+`, type: Directory}}
  containers:
  - name: writer
    image: localhost/podrun/busybox:demo
    imagePullPolicy: Never
    securityContext: {runAsUser: 1000}
    command: [sh, -c, "id -u; cat /cfg/greeting; echo; cat /sec/token; echo; echo data > /scratch/f; sleep 1000"]
    resources: {limits: {memory: 64Mi}}
    volumeMounts: [{name: cfg, mountPath: /cfg}, {name: sec, mountPath: /sec}, {name: scratch, mountPath: /scratch}]
  - name: prober
    image: localhost/podrun/busybox:demo
    imagePullPolicy: Never
    command: [sh, -c, "touch /tmp/alive; echo m > /mem/x; echo from-pod > /hp/f; sleep 1000"]
    livenessProbe:
      exec: {command: [cat, /tmp/alive]}
      periodSeconds: 1
      failureThreshold: 1
    volumeMounts: [{name: scratch, mountPath: /scratch}, {name: mem, mountPath: /mem}, {name: hp, mountPath: /hp}]
`)
	out, errOut, err := e.run("apply", "-f", m)
	if err != nil {
		t.Fatalf("podrun apply: %v\n%s%s", err, out, errOut)
	}
	if !strings.Contains(errOut, "resource limits ignored") || !strings.Contains(errOut, "writer: memory") ||
		strings.Count(errOut, "resource limits ignored") != 1 {
		t.Errorf("apply's warnings = %q; want one naming writer's memory limit as ignored", errOut)
	}
	eventually(t, 30*time.Second, func() error {
		p := e.pod("two")
		ready := 0
		for _, s := range p.Status.ContainerStatuses {
			if s.Ready {
				ready++
			}
		}
		if ready != 2 {
			return fmt.Errorf("pod two: %d of 2 containers ready: %+v", ready, p.Status)
		}
		return nil
	})
	eventually(t, 10*time.Second, func() error {
		if logs, _, err := e.run("logs", "two", "-c", "writer"); err != nil || logs != "1000\nhello-rootless\ns3cret\n" {
			return fmt.Errorf("writer's logs = %q, %v", logs, err)
		}
		return nil
	})
	if got := e.must("exec", "two", "-c", "prober", "--", "cat", "/scratch/f"); got != "data\n" {
		t.Errorf("exec cat /scratch/f = %q, want %q", got, "data\n")
	}
	eventually(t, 10*time.Second, func() error {
		got, errOut, err := e.run("exec", "two", "-c", "prober", "--", "sh", "-c", "cat /mem/x /hp/f; grep ' /mem ' /proc/mounts | cut -d' ' -f3")
		if err != nil || got != "m\nfrom-pod\ntmpfs\n" {
			return fmt.Errorf("the Memory emptyDir and the hostPath: %q, %v %s; want their files and tmpfs", got, err, errOut)
		}
		return nil
	})
	// Root of the namespace is the user on the host.
	var hst syscall.Stat_t
	if err := syscall.Stat(filepath.Join(hp, "f"), &hst); err != nil || int(hst.Uid) != e.uid {
		t.Errorf("the file root wrote to the hostPath: owner %d, %v; want the user (%d)", hst.Uid, err, e.uid)
	}
	// uid 1000 of the namespace is subuid+999 on the host (id 1 is subuid).
	f := filepath.Join(e.runRoot, "pods", "default_two", "volumes", "scratch", "f")
	var st syscall.Stat_t
	if err := syscall.Stat(f, &st); err != nil {
		t.Errorf("the emptyDir file on the host: %v", err)
	} else if want := uint32(e.subuid + 999); st.Uid != want {
		t.Errorf("%s is owned by host uid %d, want %d (subuid start %d + 999)", f, st.Uid, want, e.subuid)
	}

	// The stored Secret stays 0600, owned on the host by the user itself.
	secrets := 0
	_ = filepath.Walk(e.dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() || !strings.Contains(p, "/objects/secrets/") {
			return nil
		}
		secrets++
		if st := fi.Sys().(*syscall.Stat_t); fi.Mode().Perm() != 0o600 || int(st.Uid) != e.uid {
			t.Errorf("stored secret %s: mode %v, host owner %d; want 0600 and the user (%d)", p, fi.Mode().Perm(), st.Uid, e.uid)
		}
		return nil
	})
	if secrets == 0 {
		t.Errorf("no stored secret found under %s", e.dir)
	}

	e.must("exec", "two", "-c", "prober", "--", "rm", "/tmp/alive")
	eventually(t, 30*time.Second, func() error {
		for _, s := range e.pod("two").Status.ContainerStatuses {
			if s.Name == "prober" && s.RestartCount >= 1 && s.Ready {
				return nil
			}
		}
		return fmt.Errorf("prober not restarted by its liveness probe yet")
	})
	e.must("delete", "-f", m, "--grace-period", "0")
	if out, _, err := e.run("get", "pod", "two"); err == nil {
		t.Errorf("pod two still there after delete: %s", out)
	}
}

// startSlirp gives the holder slirp4netns as its uplink, run by the user
// as the holder will, with an API socket that podrun is told of.
func (e *rlEnv) startSlirp() string {
	t := e.t
	testenv.RequireBinary(t, "slirp4netns")
	sock := filepath.Join(e.dir, "slirp.sock")
	argv := append(e.asUser(), "slirp4netns", "--configure", "--mtu=65520", "--disable-host-loopback",
		"--api-socket", sock, strconv.Itoa(e.holderPid), "tap0")
	cmd := exec.Command(argv[0], argv[1:]...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting slirp4netns: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	eventually(t, 5*time.Second, func() error {
		_, err := os.Stat(sock)
		return err
	})
	e.env = append(e.env, "PODRUN_ROOTLESS_API="+sock, "PODRUN_ROOTLESS_PORT_FLOOR=1024")
	return sock
}

// TestRootlessHostPort publishes a rootless pod's hostPort on the host's
// 127.0.0.1 through slirp4netns, takes it away with the pod, and refuses
// a port below the unprivileged floor before creating anything.
func TestRootlessHostPort(t *testing.T) {
	e := newRootlessEnv(t)
	e.startSlirp()
	e.must("image", "load", "-i", e.tar)
	low := e.manifest("low.yaml", `apiVersion: v1
kind: Pod
metadata: {name: low}
spec:
  containers:
  - name: web
    image: localhost/podrun/busybox:demo
    imagePullPolicy: Never
    command: [sleep, "1000"]
    ports: [{containerPort: 80, hostPort: 80}]
`)
	_, errOut, err := e.run("apply", "-f", low)
	if err == nil || !strings.Contains(errOut, "net.ipv4.ip_unprivileged_port_start") || !strings.Contains(errOut, "spec.containers[0].ports[0].hostPort") {
		t.Errorf("apply of hostPort 80: err %v, stderr %q; want a refusal naming the field and the sysctl", err, errOut)
	}
	if out := e.must("get", "pods", "-A", "-o", "json"); strings.Contains(out, `"low"`) {
		t.Errorf("the refused pod was created: %s", out)
	}

	port := 33000 + os.Getpid()%1000
	web := e.manifest("web.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: localhost/podrun/busybox:demo
    imagePullPolicy: Never
    command: [sh, -c, "mkdir -p /www && echo rootless-port > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: [{containerPort: 8080, hostPort: %d}]
`, port))
	e.must("apply", "-f", web)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	eventually(t, 20*time.Second, func() error {
		body, err := fetch(url)
		if err != nil || body != "rootless-port\n" {
			return fmt.Errorf("GET %s = %q, %v", url, body, err)
		}
		return nil
	})
	// The host's loopback services stay out of reach of the pods
	// (slirp4netns --disable-host-loopback): 10.0.2.2 is the host's
	// 127.0.0.1 otherwise. The pod's own port is the control.
	hostOnly, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hostOnly.Close()
	go func() {
		for {
			c, err := hostOnly.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	if out, errOut, err := e.run("exec", "web", "--", "sh", "-c", "nc -w 2 127.0.0.1 8080 </dev/null"); err != nil {
		t.Errorf("control: the pod cannot reach its own port: %v %s%s", err, out, errOut)
	}
	hostPort := strconv.Itoa(hostOnly.Addr().(*net.TCPAddr).Port)
	if _, _, err := e.run("exec", "web", "--", "sh", "-c", "nc -w 2 10.0.2.2 "+hostPort+" </dev/null"); err == nil {
		t.Errorf("a pod reached the host's 127.0.0.1:%s through 10.0.2.2", hostPort)
	}

	// A second pod asking for the same hostPort waits, Pending, as on a
	// cluster, and leaves the first pod's forward alone; it takes the port
	// once the first pod is gone.
	dup := e.manifest("dup.yaml", strings.Replace(strings.Replace(readFile(t, web), "name: web}", "name: dup}", 1),
		"rootless-port", "dup-port", 1))
	if _, errOut, err := e.run("apply", "-f", dup); err != nil || !strings.Contains(errOut, "Pending") {
		t.Errorf("apply of a second pod on hostPort %d: err %v, stderr %q; want it Pending", port, err, errOut)
	}
	if body, err := fetch(url); err != nil || body != "rootless-port\n" {
		t.Errorf("with a second pod Pending, GET %s = %q, %v; want the first pod's page", url, body, err)
	}
	e.must("delete", "pod", "web", "--grace-period", "0")
	eventually(t, 20*time.Second, func() error {
		body, err := fetch(url)
		if err != nil || body != "dup-port\n" {
			return fmt.Errorf("after web's delete, GET %s = %q, %v; want the second pod's page", url, body, err)
		}
		return nil
	})
	e.must("delete", "pod", "dup", "--grace-period", "0")
	if body, err := fetch(url); err == nil {
		t.Errorf("after delete, %s still answers %q", url, body)
	}

	// A hostNetwork pod listens in the holder's network namespace: its
	// hostPort is published the same way.
	hostURL := fmt.Sprintf("http://127.0.0.1:%d/", port+1)
	hn := e.manifest("hostnet.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: hostnet}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: localhost/podrun/busybox:demo
    imagePullPolicy: Never
    command: [sh, -c, "mkdir -p /www && echo host-network > /www/index.html && exec httpd -f -p %[1]d -h /www"]
    ports: [{containerPort: %[1]d, hostPort: %[1]d}]
`, port+1))
	e.must("apply", "-f", hn)
	eventually(t, 20*time.Second, func() error {
		body, err := fetch(hostURL)
		if err != nil || body != "host-network\n" {
			return fmt.Errorf("GET %s = %q, %v", hostURL, body, err)
		}
		return nil
	})
	e.must("delete", "pod", "hostnet", "--grace-period", "0")
	if body, err := fetch(hostURL); err == nil {
		t.Errorf("after delete, %s still answers %q", hostURL, body)
	}

	// A port taken on the host: apply fails, naming it, and rolls back.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	busy := e.manifest("busy.yaml", strings.Replace(strings.Replace(readFile(t, web), "name: web}", "name: busy}", 1),
		fmt.Sprintf("hostPort: %d", port), fmt.Sprintf("hostPort: %d", taken.Addr().(*net.TCPAddr).Port), 1))
	_, errOut, err = e.run("apply", "-f", busy)
	if err == nil || !strings.Contains(errOut, "publishing 127.0.0.1:") {
		t.Errorf("apply with a hostPort taken on the host: err %v, stderr %q; want it refused by slirp4netns", err, errOut)
	}
	if out := e.must("get", "pods", "-A", "-o", "json"); strings.Contains(out, `"busy"`) {
		t.Errorf("the pod whose port was taken was kept: %s", out)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRootlessPreparedCgroup: where root has made podrun's cgroups and
// given them to the user (cgroup v1, every hierarchy's /podrun), a
// rootless pod's limits apply, with no warning, and its cgroup goes with
// it.
func TestRootlessPreparedCgroup(t *testing.T) {
	e := newRootlessEnv(t)
	var sfs syscall.Statfs_t
	if err := syscall.Statfs("/sys/fs/cgroup", &sfs); err != nil || sfs.Type == 0x63677270 {
		t.Skip("written for cgroup v1: on v2 the user's delegated subtree is the holder's business")
	}
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*")
	prepared := 0
	for _, d := range dirs {
		if syscall.Statfs(d, &sfs) != nil || sfs.Type != 0x27e0eb { // CGROUP_SUPER_MAGIC
			continue
		}
		p := filepath.Join(d, "podrun")
		var st syscall.Stat_t
		made := syscall.Stat(p, &st) != nil
		if made {
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chown(p, e.uid, e.gid); err != nil {
			t.Fatal(err)
		}
		prepared++
		t.Cleanup(func() {
			if made {
				_ = syscall.Rmdir(p)
			} else {
				_ = os.Chown(p, int(st.Uid), int(st.Gid))
			}
		})
	}
	if prepared == 0 {
		t.Fatal("no cgroup v1 hierarchy found under /sys/fs/cgroup")
	}
	e.must("image", "load", "-i", e.tar)
	m := e.manifest("lim.yaml", `apiVersion: v1
kind: Pod
metadata: {name: lim}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: localhost/podrun/busybox:demo
    imagePullPolicy: Never
    command: [sh, -c, "cat /sys/fs/cgroup/memory/memory.limit_in_bytes; sleep 1000"]
    resources: {limits: {memory: 64Mi}}
`)
	_, errOut, err := e.run("apply", "-f", m)
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, errOut)
	}
	if strings.Contains(errOut, "ignored") {
		t.Errorf("apply warned with a prepared cgroup: %s", errOut)
	}
	eventually(t, 20*time.Second, func() error {
		if logs := e.must("logs", "lim"); logs != "67108864\n" {
			return fmt.Errorf("memory.limit_in_bytes seen inside = %q, want 67108864", logs)
		}
		return nil
	})
	uid := string(e.pod("lim").UID)
	cg := filepath.Join("/sys/fs/cgroup/memory/podrun", uid)
	if _, err := os.Stat(cg); err != nil {
		t.Errorf("the pod's cgroup %s: %v", cg, err)
	}
	e.must("delete", "pod", "lim", "--grace-period", "0")
	if _, err := os.Stat(cg); err == nil {
		t.Errorf("the pod's cgroup %s is left after delete", cg)
	}
}
