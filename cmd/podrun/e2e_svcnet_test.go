package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/internal/testenv"
)

// The Service tests run pods behind Services, on the test's own bridge and
// service range, and reach them from client pods (netecho's HTTP client
// with Go's resolver, busybox's nslookup, the host's glibc getent in the
// pod's network with its resolv.conf) and from the host, only at
// addresses the test made. (Debian's static busybox wget crashes, in pods
// and out: netecho stands in for it.)

var (
	netechoOnce sync.Once
	netechoDir  string
	netechoErr  error
)

// netecho builds testdata/netecho once, into a directory of its own
// beside the podrun binary, that pods mount at /tools.
func netecho(t testing.TB) string {
	t.Helper()
	testenv.RequireBinary(t, "go")
	netechoOnce.Do(func() {
		binaries(t) // makes buildDir, which TestMain removes
		netechoDir = filepath.Join(buildDir, "tools")
		cmd := exec.Command("go", "build", "-o", filepath.Join(netechoDir, "netecho"), "./testdata/netecho")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			netechoErr = fmt.Errorf("building netecho: %v\n%s", err, out)
		}
	})
	if netechoErr != nil {
		t.Fatal(netechoErr)
	}
	return netechoDir
}

// toolsVolume gives a pod netecho at /tools.
func toolsVolume(dir string) string {
	return "  volumes:\n  - {name: tools, hostPath: {path: " + dir + ", type: Directory}}\n"
}

const toolsMount = "    volumeMounts: [{name: tools, mountPath: /tools, readOnly: true}]\n"

// webPod serves its own name over HTTP on its port named "http" (8080),
// ready while /tmp/ready exists (checked every second), with netecho at
// /tools.
func (e *env) webPod(name, labels string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %[1]s
  labels: {%[2]s}
spec:
  terminationGracePeriodSeconds: 1
%[3]s  containers:
  - name: web
    image: localhost/podrun/busybox:demo
    command: ["sh", "-c", "mkdir -p /www && echo %[1]s > /www/index.html && touch /tmp/ready && exec httpd -f -p 8080 -h /www"]
    ports:
    - {name: http, containerPort: 8080}
    readinessProbe:
      exec: {command: ["test", "-f", "/tmp/ready"]}
      periodSeconds: 1
      failureThreshold: 1
%[4]s`, name, labels, toolsVolume(netecho(e.t)), toolsMount)
}

// clientPod sleeps, for the test to exec into, with netecho at /tools.
func (e *env) clientPod(name, extra string) string {
	return podYAML(name, "  terminationGracePeriodSeconds: 1\n"+extra+toolsVolume(netecho(e.t)),
		container("client", "exec sleep 3600", toolsMount))
}

func serviceYAML(name, spec string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata:\n  name: %s\nspec:\n%s", name, spec)
}

// svcEnv is newEnv with the demo image loaded.
func svcEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	e.loadDemo()
	return e
}

// service reads a Service as get -o json prints it.
func (e *env) service(name string) corev1.Service {
	e.t.Helper()
	var s corev1.Service
	if err := json.Unmarshal([]byte(e.must("get", "service", name, "-o", "json")), &s); err != nil {
		e.t.Fatal(err)
	}
	return s
}

// endpointIPs are the ready addresses of a Service's Endpoints.
func (e *env) endpointIPs(name string) []string {
	e.t.Helper()
	var ep corev1.Endpoints
	if err := json.Unmarshal([]byte(e.must("get", "endpoints", name, "-o", "json")), &ep); err != nil {
		e.t.Fatal(err)
	}
	var ips []string
	for _, s := range ep.Subsets {
		for _, a := range s.Addresses {
			ips = append(ips, a.IP)
		}
	}
	slices.Sort(ips)
	return ips
}

// inPod runs a shell command in a pod's only container.
func (e *env) inPod(pod, script string) (string, error) {
	out, errOut, err := e.run("exec", pod, "--", "sh", "-c", script)
	if err != nil {
		return out, fmt.Errorf("exec %s: %q: %v\n%s%s", pod, script, err, out, errOut)
	}
	return out, nil
}

// responders fetches url n times from a pod, each time on a new
// connection (netecho get: Go's resolver), and counts who answered;
// failures count as "FAILED".
func (e *env) responders(client, url string, n int) (map[string]int, error) {
	out, err := e.inPod(client, fmt.Sprintf("/tools/netecho get %s %d", url, n))
	if err != nil {
		return nil, err
	}
	seen := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(line, "FAILED") {
			line = "FAILED"
		}
		seen[line]++
	}
	return seen, nil
}

func (e *env) waitReady(pods ...string) {
	e.t.Helper()
	args := []string{"wait", "--for=condition=Ready", "--timeout=60s"}
	for _, p := range pods {
		args = append(args, "pod/"+p)
	}
	e.must(args...)
}

// TestServiceClusterIP: three pods behind a ClusterIP Service whose
// targetPort is named. A client pod reaches all three by the short name
// and by the full one, nslookup and getent answer the ClusterIP, a pod
// made unready by its probe stops receiving within one probe period and
// receives again once Ready, and a server reaches itself through its own
// Service (hairpin).
func TestServiceClusterIP(t *testing.T) {
	t.Parallel()
	e := svcEnv(t)
	docs := []string{
		e.webPod("web-0", "app: web"), e.webPod("web-1", "app: web"), e.webPod("web-2", "app: web"),
		serviceYAML("web", "  selector: {app: web}\n  ports:\n  - {name: http, port: 80, targetPort: http}\n"),
		e.clientPod("client", ""),
	}
	e.must("apply", "-f", e.manifest("web.yaml", strings.Join(docs, "---\n")))
	e.waitReady("web-0", "web-1", "web-2", "client")
	ip := e.service("web").Spec.ClusterIP
	if !strings.HasPrefix(ip, strings.TrimSuffix(e.serviceCIDR, "0/24")) {
		t.Fatalf("ClusterIP %q is outside the test's range %s", ip, e.serviceCIDR)
	}
	eventually(t, 5*time.Second, func() error {
		if got := e.endpointIPs("web"); len(got) != 3 {
			return fmt.Errorf("endpoints of web: %v, want 3", got)
		}
		return nil
	})
	for _, url := range []string{"http://web/", "http://web.default.svc.cluster.local/", "http://" + ip + "/"} {
		seen, err := e.responders("client", url, 40)
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != 3 || seen["FAILED"] != 0 {
			t.Errorf("%s answered by %v, want web-0, web-1 and web-2 and no failure", url, seen)
		}
	}
	// busybox's nslookup asks every search domain at once and exits 1 for
	// the NXDOMAIN ones, as in a cluster: its answer is what tells.
	for _, name := range []string{"web", "web.default.svc.cluster.local"} {
		out, errOut, _ := e.run("exec", "client", "--", "nslookup", name)
		if !strings.Contains(out, "Name:\tweb.default.svc.cluster.local\nAddress: "+ip+"\n") {
			t.Errorf("nslookup %s:\n%s%s (want %s)", name, out, errOut, ip)
		}
	}
	for _, name := range []string{"web", "web.default", "web.default.svc.cluster.local"} {
		e.getentInPod(t, "client", name, ip)
	}

	// Unready: out of the endpoints within one probe period (1 s; the
	// deadline leaves room for a loaded machine), and no new connection
	// reaches it.
	if _, err := e.inPod("web-1", "rm /tmp/ready"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if got := e.endpointIPs("web"); len(got) != 2 {
			return fmt.Errorf("endpoints of web after web-1 turned unready: %v", got)
		}
		return nil
	})
	seen, err := e.responders("client", "http://web/", 30)
	if err != nil {
		t.Fatal(err)
	}
	if seen["web-1"] != 0 || seen["FAILED"] != 0 || len(seen) != 2 {
		t.Errorf("with web-1 unready, answered by %v", seen)
	}
	if _, err := e.inPod("web-1", "touch /tmp/ready"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		seen, err := e.responders("client", "http://web/", 20)
		if err == nil && seen["web-1"] == 0 {
			err = fmt.Errorf("web-1 Ready again but not answering: %v", seen)
		}
		return err
	})

	// Hairpin: web-0 through its own Service reaches every pod, itself too.
	eventually(t, 10*time.Second, func() error {
		seen, err := e.responders("web-0", "http://web/", 30)
		if err == nil && (seen["web-0"] == 0 || seen["FAILED"] != 0) {
			err = fmt.Errorf("web-0 through its Service: %v, want itself among them and no failure", seen)
		}
		return err
	})
	e.must("delete", "-f", e.manifest("web.yaml", strings.Join(docs, "---\n")), "--grace-period", "0")
}

// TestServiceAppliedLater: a Service and its pod applied after a client
// pod started are reachable from it by name at once; the client, started
// before the Service, has no Service variables, and a pod started after it
// has them (enableServiceLinks false: none).
func TestServiceAppliedLater(t *testing.T) {
	t.Parallel()
	e := svcEnv(t)
	e.must("apply", "-f", e.manifest("client.yaml", e.clientPod("early", "")))
	e.waitReady("early")
	e.must("apply", "-f", e.manifest("web.yaml", e.webPod("late-web", "app: late")+"---\n"+
		serviceYAML("late", "  selector: {app: late}\n  ports:\n  - {port: 8081, targetPort: 8080}\n")))
	e.waitReady("late-web")
	ip := e.service("late").Spec.ClusterIP
	eventually(t, 5*time.Second, func() error {
		out, err := e.inPod("early", "/tools/netecho get http://late:8081/ 1")
		if err == nil && strings.TrimSpace(out) != "late-web" {
			err = fmt.Errorf("late answered %q", out)
		}
		return err
	})
	env, err := e.inPod("early", "env")
	if err != nil || strings.Contains(env, "LATE_SERVICE_HOST") {
		t.Errorf("a pod started before the Service has its variables: %v\n%s", err, env)
	}
	e.must("apply", "-f", e.manifest("later.yaml", e.clientPod("after", "")+"---\n"+
		e.clientPod("unlinked", "  enableServiceLinks: false\n")))
	e.waitReady("after", "unlinked")
	env, err = e.inPod("after", "env")
	for _, want := range []string{
		"LATE_SERVICE_HOST=" + ip, "LATE_SERVICE_PORT=8081", "LATE_PORT=tcp://" + ip + ":8081",
		"LATE_PORT_8081_TCP=tcp://" + ip + ":8081", "LATE_PORT_8081_TCP_PROTO=tcp",
		"LATE_PORT_8081_TCP_PORT=8081", "LATE_PORT_8081_TCP_ADDR=" + ip,
	} {
		if err != nil || !strings.Contains(env, want+"\n") {
			t.Errorf("pod started after the Service lacks %s: %v\n%s", want, err, env)
		}
	}
	if env, err := e.inPod("unlinked", "env"); err != nil || strings.Contains(env, "LATE_") {
		t.Errorf("enableServiceLinks false, yet: %v\n%s", err, env)
	}
	e.must("delete", "pod", "early", "after", "unlinked", "late-web", "--grace-period", "0")
	e.must("delete", "service", "late")
}

// TestServiceHeadless: a headless Service over two pods with hostname and
// subdomain: the Service's name answers both pods' addresses, each pod's
// own name its own, and SRV the named port.
func TestServiceHeadless(t *testing.T) {
	t.Parallel()
	e := svcEnv(t)
	pod := func(name string) string {
		return strings.Replace(e.webPod(name, "app: hl"), "spec:\n", "spec:\n  hostname: "+name+"\n  subdomain: hl\n", 1)
	}
	path := e.manifest("hl.yaml", strings.Join([]string{pod("h0"), pod("h1"), e.clientPod("client", ""),
		serviceYAML("hl", "  clusterIP: None\n  selector: {app: hl}\n  ports:\n  - {name: http, port: 8080}\n")}, "---\n"))
	e.must("apply", "-f", path)
	e.waitReady("h0", "h1", "client")
	ips := map[string]string{"h0": e.pod("h0").Status.PodIP, "h1": e.pod("h1").Status.PodIP}
	eventually(t, 10*time.Second, func() error {
		out, err := e.inPod("client", "nslookup hl.default.svc.cluster.local")
		if err == nil && (!strings.Contains(out, ips["h0"]) || !strings.Contains(out, ips["h1"])) {
			err = fmt.Errorf("hl answered %s, want %v", out, ips)
		}
		return err
	})
	for name, ip := range ips {
		out, err := e.inPod("client", "nslookup "+name+".hl.default.svc.cluster.local")
		if err != nil || !strings.Contains(out, ip) {
			t.Errorf("%s.hl: %v\n%s (want %s)", name, err, out, ip)
		}
		out, err = e.inPod("client", "/tools/netecho get http://"+name+".hl:8080/ 1")
		if err != nil || strings.TrimSpace(out) != name {
			t.Errorf("http://%s.hl:8080/: %v %q", name, err, out)
		}
	}
	out, err := e.inPod("client", "nslookup -type=srv _http._tcp.hl.default.svc.cluster.local")
	if err != nil || strings.Count(out, "8080") < 2 || !strings.Contains(out, "h0.hl.default.svc.cluster.local") {
		t.Errorf("SRV of _http._tcp.hl: %v\n%s", err, out)
	}
	out, errOut, err := e.run("exec", "client", "--", "nslookup", "nothere.default.svc.cluster.local")
	if err == nil || !strings.Contains(out+errOut, "NXDOMAIN") {
		t.Errorf("an unknown cluster name: %v\n%s%s, want NXDOMAIN", err, out, errOut)
	}
	e.must("delete", "-f", path, "--grace-period", "0")
}

// TestServiceNodePortAndLoadBalancer: the host reaches a NodePort Service
// at 127.0.0.1:nodePort and a LoadBalancer Service at 127.0.0.1:port, the
// address its status reports, and a ClusterIP as a node does; `get svc`
// shows both as kubectl does.
func TestServiceNodePortAndLoadBalancer(t *testing.T) {
	t.Parallel()
	e := svcEnv(t)
	np, lb := e.nodePortBase+5, e.nodePortBase+6
	path := e.manifest("np.yaml", strings.Join([]string{e.webPod("np-web", "app: np"),
		serviceYAML("np", fmt.Sprintf("  type: NodePort\n  selector: {app: np}\n  ports:\n  - {port: 80, targetPort: 8080, nodePort: %d}\n", np)),
		serviceYAML("lb", fmt.Sprintf("  type: LoadBalancer\n  selector: {app: np}\n  ports:\n  - {port: %d, targetPort: http}\n", lb)),
	}, "---\n"))
	e.must("apply", "-f", path)
	e.waitReady("np-web")
	for _, port := range []int{np, lb} {
		url := fmt.Sprintf("http://127.0.0.1:%d/", port)
		eventually(t, 5*time.Second, func() error {
			body, err := fetch(url)
			if err == nil && body != "np-web\n" {
				err = fmt.Errorf("GET %s: %q", url, body)
			}
			return err
		})
	}
	// The host reaches ClusterIPs too, as a node does.
	cip := e.service("np").Spec.ClusterIP
	if body, err := fetch("http://" + cip + "/"); err != nil || body != "np-web\n" {
		t.Errorf("the host fetching http://%s/: %v %q", cip, err, body)
	}
	s := e.service("lb")
	if len(s.Status.LoadBalancer.Ingress) != 1 || s.Status.LoadBalancer.Ingress[0].IP != "127.0.0.1" {
		t.Errorf("lb's status: %+v, want ingress 127.0.0.1", s.Status.LoadBalancer)
	}
	out := e.must("get", "svc")
	for _, want := range []string{fmt.Sprintf("80:%d/TCP", np), "NodePort", "LoadBalancer", "127.0.0.1", fmt.Sprintf("%d:", lb)} {
		if !strings.Contains(out, want) {
			t.Errorf("get svc lacks %q:\n%s", want, out)
		}
	}
	e.must("delete", "-f", path, "--grace-period", "0")
	if _, err := fetch(fmt.Sprintf("http://127.0.0.1:%d/", np)); err == nil {
		t.Errorf("the NodePort still answers after delete")
	}
}

// TestServiceRejects: a Service selecting nothing refuses connections at
// once, from a pod and from the host, and so does its address once the
// Service is deleted: nothing addressed to the range leaves the machine.
func TestServiceRejects(t *testing.T) {
	t.Parallel()
	e := svcEnv(t)
	path := e.manifest("empty.yaml", e.clientPod("client", "")+"---\n"+
		serviceYAML("empty", "  selector: {app: nobody}\n  ports:\n  - {port: 80}\n"))
	e.must("apply", "-f", path)
	e.waitReady("client")
	ip := e.service("empty").Spec.ClusterIP
	refused := func() {
		t.Helper()
		out, err := e.inPod("client", "/tools/netecho get http://"+ip+"/ 1")
		if err != nil || !strings.Contains(out, "connection refused") {
			t.Errorf("a pod connecting to %s: %v %q, want refused (not a timeout)", ip, err, out)
		}
		_, err = net.DialTimeout("tcp", ip+":80", 5*time.Second)
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("the host connecting to %s:80: %v, want connection refused", ip, err)
		}
	}
	refused()
	e.must("delete", "service", "empty")
	refused()
	e.must("delete", "pod", "client", "--grace-period", "0")
}

// TestServiceUDP: a UDP Service over two echo pods. A client sending from
// one socket is answered by one pod; that pod deleted, the same socket is
// answered by the other, as the stale conntrack entry is removed.
func TestServiceUDP(t *testing.T) {
	t.Parallel()
	e := svcEnv(t)
	tools := netecho(t)
	pod := func(name string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %[1]s, labels: {app: udp}}
spec:
  terminationGracePeriodSeconds: 1
%[2]s  containers:
  - name: echo
    image: localhost/podrun/busybox:demo
    command: ["/tools/netecho", "udp-serve", "9053"]
%[3]s`, name, toolsVolume(tools), toolsMount)
	}
	e.must("apply", "-f", e.manifest("udp.yaml", strings.Join([]string{pod("udp-a"), pod("udp-b"),
		serviceYAML("dnsish", "  selector: {app: udp}\n  ports:\n  - {protocol: UDP, port: 53, targetPort: 9053}\n")}, "---\n")))
	e.waitReady("udp-a", "udp-b")
	ip := e.service("dnsish").Spec.ClusterIP
	e.must("apply", "-f", e.manifest("client.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: asker}
spec:
  terminationGracePeriodSeconds: 1
%s  containers:
  - name: ask
    image: localhost/podrun/busybox:demo
    command: ["/tools/netecho", "udp-loop", "%s:53", "ping"]
%s`, toolsVolume(tools), ip, toolsMount)))
	var first string
	eventually(t, 10*time.Second, func() error {
		logs := e.must("logs", "asker")
		for _, l := range strings.Split(logs, "\n") {
			if s, ok := strings.CutSuffix(l, ": ping"); ok {
				first = s
				return nil
			}
		}
		return fmt.Errorf("no answer yet:\n%s", logs)
	})
	other := map[string]string{"udp-a": "udp-b", "udp-b": "udp-a"}[first]
	if other == "" {
		t.Fatalf("answered by %q", first)
	}
	e.must("delete", "pod", first, "--grace-period", "0")
	eventually(t, 10*time.Second, func() error {
		logs := e.must("logs", "asker", "--tail", "3")
		if !strings.Contains(logs, other+": ping") {
			return fmt.Errorf("after %s went, the same socket is not answered by %s:\n%s", first, other, logs)
		}
		return nil
	})
	e.must("delete", "pod", "asker", other, "--grace-period", "0")
	e.must("delete", "service", "dnsish")
}

// TestServiceRulesGo: deleting a Service removes its rules, the range
// staying rejected while the run root has pods; the last pod deleted
// takes the rest. Monitors killed with -9 and everything then deleted
// leave no rule either (the leak check of newEnv looks for every rule,
// chain and routing rule of the test's range and instance).
func TestServiceRulesGo(t *testing.T) {
	t.Parallel()
	e := svcEnv(t)
	path := e.manifest("web.yaml", e.webPod("rw", "app: rw")+"---\n"+
		serviceYAML("rw", "  type: NodePort\n  selector: {app: rw}\n  ports:\n  - {port: 80, targetPort: 8080}\n"))
	e.must("apply", "-f", path)
	e.waitReady("rw")
	ip := e.service("rw").Spec.ClusterIP
	np := e.service("rw").Spec.Ports[0].NodePort
	if rules := e.serviceRules(); !strings.Contains(rules, ip) || !strings.Contains(rules, fmt.Sprint(np)) {
		t.Fatalf("no rule names %s and node port %d:\n%s", ip, np, rules)
	}
	// The Service's rules go with it; while a pod of the run root lives,
	// the range stays rejected (the rules that name no Service), so that
	// the address just freed is refused here, never routed out.
	e.must("delete", "service", "rw")
	if rules := e.serviceRules(); strings.Contains(rules, ip) || strings.Contains(rules, fmt.Sprint(np)) ||
		!strings.Contains(rules, "service range stays on this machine") {
		t.Errorf("rules after delete service, want none of the Service's and the range rejected:\n%s", rules)
	}
	e.must("delete", "pod", "rw", "--grace-period", "0")
	if rules := e.serviceRules(); rules != "" {
		t.Errorf("rules left after the last Service and pod were deleted:\n%s", rules)
	}
	e.must("apply", "-f", path)
	e.waitReady("rw")
	e.killMonitors()
	e.must("delete", "-f", path, "--grace-period", "0")
	if rules := e.serviceRules(); rules != "" {
		t.Errorf("rules left after monitors were killed and everything deleted:\n%s", rules)
	}
}

// serviceRules are the lines of iptables-save (nat and filter) that name
// the test's service range or proxy instance.
func (e *env) serviceRules() string {
	e.t.Helper()
	var b strings.Builder
	for _, table := range []string{"nat", "filter"} {
		out, err := exec.Command("iptables-save", "-t", table).Output()
		if err != nil {
			e.t.Fatalf("iptables-save -t %s: %v", table, err)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, strings.TrimSuffix(e.serviceCIDR, "0/24")) || strings.Contains(l, e.proxyInstance) {
				b.WriteString(l + "\n")
			}
		}
	}
	return b.String()
}

// killMonitors kills -9 every pod monitor of the test's run root.
func (e *env) killMonitors() {
	e.t.Helper()
	entries, _ := os.ReadDir("/proc")
	for _, d := range entries {
		raw, err := os.ReadFile("/proc/" + d.Name() + "/cmdline")
		if err != nil {
			continue
		}
		args := strings.Split(string(raw), "\x00")
		if slices.Contains(args, "monitor") && slices.Contains(args, e.runRoot) {
			var pid int
			fmt.Sscan(d.Name(), &pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
