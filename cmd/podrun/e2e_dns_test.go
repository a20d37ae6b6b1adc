package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podrun/podrun/internal/testenv"
	"github.com/podrun/podrun/runner/netns"
	"github.com/podrun/podrun/runner/objects"
)

// dnsUpstream runs, for the test, the resolver the host's resolv.conf
// names: on a loopback address of its own, port 53 (where resolv.conf
// nameservers are asked), answering outside.test. with 192.0.2.77 and
// NXDOMAIN for any other name. It returns a resolv.conf naming it.
func dnsUpstream(t testing.TB, e *env) string {
	t.Helper()
	// 127.53.N.P: N the env's number (its subnet's third byte), P from
	// the test process, so that tests at once never share it.
	addr := fmt.Sprintf("127.53.%s.%d:53", strings.Split(e.subnet, ".")[2], os.Getpid()%250+1)
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		if q := r.Question[0]; q.Name == "outside.test." && q.Qtype == dns.TypeA {
			m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, 77)}}
		} else if q.Name != "outside.test." {
			m.Rcode = dns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatalf("listening for the test's upstream resolver: %v", err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		pc.Close()
		t.Fatalf("listening for the test's upstream resolver: %v", err)
	}
	for _, s := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: l, Handler: h}} {
		go func() { _ = s.ActivateAndServe() }()
		t.Cleanup(func() { _ = s.Shutdown() })
	}
	conf := filepath.Join(t.TempDir(), "resolv.conf")
	host, _, _ := net.SplitHostPort(addr)
	if err := os.WriteFile(conf, []byte("nameserver "+host+"\nsearch example.test\noptions ndots:2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf
}

// storeService stores a Service, and for a headless one an EndpointSlice,
// as the service helpers of apply would.
func (e *env) storeService(t testing.TB, s *corev1.Service) {
	t.Helper()
	if _, err := objects.Open(filepath.Join(e.runRoot, "objects")).Services.Put(s); err != nil {
		t.Fatal(err)
	}
}

func clusterIPService(name, ip string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: corev1.ServiceSpec{ClusterIP: ip, ClusterIPs: []string{ip},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}}}}
}

// TestClusterDNS: a ClusterFirst pod gets the kubelet's resolv.conf and a
// resolver that answers Services (one stored after the pod started, at
// once), NXDOMAIN for unknown cluster names, and forwards other names to
// the host's resolvers (the test's own, on the loopback). busybox's
// nslookup asks from inside the pod; glibc's getent asks from the pod's
// network namespace with the pod's resolv.conf. The leak check then finds
// nothing of the resolver, which ends with the monitor.
func TestClusterDNS(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	conf := dnsUpstream(t, e)
	e.storeService(t, clusterIPService("web", e.svcAddr(50)))
	e.must("--resolv-conf", conf, "apply", "-f", e.manifest("pod.yaml", podYAML("client", "", container("c", "exec sleep 300", ""))))
	defer e.must("delete", "pod", "client", "--grace-period", "0")

	want := "search default.svc.cluster.local svc.cluster.local cluster.local example.test\nnameserver " + e.svcAddr(10) + "\noptions ndots:5\n"
	if got := e.must("exec", "client", "--", "cat", "/etc/resolv.conf"); got != want {
		t.Errorf("resolv.conf = %q, want %q", got, want)
	}
	// busybox's nslookup asks every search domain of a name without a
	// dot, and fails when one is NXDOMAIN, as it does in a cluster: its
	// output is what tells. It applies no search list to a name with a
	// dot (web.default): glibc's getent below does.
	lookup := func(name string) (string, error) {
		out, errOut, err := e.run("exec", "client", "--", "nslookup", name)
		return out + errOut, err
	}
	for _, name := range []string{"web", "web.default.svc.cluster.local"} {
		out, _ := lookup(name)
		if !strings.Contains(out, "Name:\tweb.default.svc.cluster.local\nAddress: "+e.svcAddr(50)+"\n") {
			t.Errorf("nslookup %s:\n%s", name, out)
		}
	}
	if out, err := lookup("nosuch.default.svc.cluster.local"); err == nil || !strings.Contains(out, "NXDOMAIN") {
		t.Errorf("nslookup of an unknown Service: %v, want NXDOMAIN\n%s", err, out)
	}
	if out, err := lookup("outside.test"); err != nil || !strings.Contains(out, "192.0.2.77") {
		t.Errorf("nslookup outside.test (the test's upstream): %v\n%s", err, out)
	}
	e.storeService(t, clusterIPService("late", e.svcAddr(51)))
	if out, _ := lookup("late"); !strings.Contains(out, "Name:\tlate.default.svc.cluster.local\nAddress: "+e.svcAddr(51)+"\n") {
		t.Errorf("nslookup of a Service stored after the pod started:\n%s", out)
	}
	e.getentInPod(t, "client", "web", e.svcAddr(50))
	e.getentInPod(t, "client", "web.default", e.svcAddr(50))
	e.getentInPod(t, "client", "web.default.svc.cluster.local", e.svcAddr(50))
	e.getentInPod(t, "client", "outside.test", "192.0.2.77")

	// A headless Service's ready endpoints, by the Service's name and by
	// a StatefulSet pod's hostname.
	db := clusterIPService("db", corev1.ClusterIPNone)
	db.Spec.ClusterIPs = nil
	e.storeService(t, db)
	ready := true
	if _, err := objects.Open(filepath.Join(e.runRoot, "objects")).EndpointSlices.Put(&discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "default", Name: "db-x1", Labels: map[string]string{discoveryv1.LabelServiceName: "db"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{e.subnet + "200"}, Hostname: ptrTo("db-0"),
			Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
	}); err != nil {
		t.Fatal(err)
	}
	e.getentInPod(t, "client", "db", e.subnet+"200")
	e.getentInPod(t, "client", "db-0.db", e.subnet+"200")

	// Go's own resolver, from the pod's network namespace: an address and
	// the SRV record of a named port.
	nsPath := filepath.Join(e.runRoot, "pods", "default_client", "ns", "net")
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dialInNetns(nsPath, network, e.svcAddr(10)+":53")
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if addrs, err := r.LookupHost(ctx, "web.default.svc.cluster.local"); err != nil || len(addrs) != 1 || addrs[0] != e.svcAddr(50) {
		t.Errorf("Go's resolver: web = %v, %v; want [%s]", addrs, err, e.svcAddr(50))
	}
	if _, srvs, err := r.LookupSRV(ctx, "http", "tcp", "web.default.svc.cluster.local"); err != nil || len(srvs) != 1 ||
		srvs[0].Port != 80 || srvs[0].Target != "web.default.svc.cluster.local." {
		t.Errorf("Go's resolver: SRV _http._tcp.web = %v, %v; want port 80 at web.default.svc.cluster.local.", srvs, err)
	}

	// dig (BIND's own resolver library), from the pod's network.
	testenv.RequireBinary(t, "dig")
	for q, want := range map[string]string{
		"web.default.svc.cluster.local":                   e.svcAddr(50),
		"-t SRV _http._tcp.web.default.svc.cluster.local": "0 100 80 web.default.svc.cluster.local.",
		"db-0.db.default.svc.cluster.local":               e.subnet + "200",
	} {
		args := append([]string{"--net=" + nsPath, "dig", "+short", "+time=2", "@" + e.svcAddr(10)}, strings.Fields(q)...)
		out, err := exec.Command("nsenter", args...).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("dig %s: %v %q, want %q", q, err, out, want)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }

// getentInPod runs the host's glibc getent in pod's network namespace,
// with the pod's resolv.conf over /etc/resolv.conf in a mount namespace
// of its own, and wants name to resolve to addr.
func (e *env) getentInPod(t *testing.T, pod, name, addr string) {
	t.Helper()
	getent, err := exec.LookPath("getent")
	if err != nil {
		t.Logf("no getent on this machine: glibc's resolver not tried")
		return
	}
	dir := filepath.Join(e.runRoot, "pods", "default_"+pod)
	script := fmt.Sprintf("mount --bind %s /etc/resolv.conf && exec %s hosts %s", filepath.Join(dir, "etc", "resolv.conf"), getent, name)
	out, err := exec.Command("nsenter", "--net="+filepath.Join(dir, "ns", "net"), "unshare", "-m", "--propagation", "private", "sh", "-c", script).CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), addr+" ") {
		t.Errorf("getent hosts %s in the pod's network: %v\n%s", name, err, out)
	}
}

// BenchmarkDNSLookup measures one lookup of a Service's name by a client
// in a pod's network namespace (the host's, entered), against the pod's
// resolver, beside a lookup of the same name from the host against the
// test's loopback upstream (a minimal server): the ratio is the cost of
// the resolver's store and namespace path.
func BenchmarkDNSLookup(b *testing.B) {
	e := newEnv(b)
	e.loadDemo()
	conf := dnsUpstream(b, e)
	e.storeService(b, clusterIPService("web", e.svcAddr(50)))
	e.must("--resolv-conf", conf, "apply", "-f", e.manifest("pod.yaml", podYAML("client", "", container("c", "exec sleep 300", ""))))
	defer e.must("delete", "pod", "client", "--grace-period", "0")
	nsPath := filepath.Join(e.runRoot, "pods", "default_client", "ns", "net")
	conn, err := dialInNetns(nsPath, "udp", e.svcAddr(10)+":53")
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	q := new(dns.Msg)
	q.SetQuestion("web.default.svc.cluster.local.", dns.TypeA)
	c := &dns.Client{Timeout: 2 * time.Second}
	host, err := os.ReadFile(conf)
	if err != nil {
		b.Fatal(err)
	}
	upstream, err := net.Dial("udp", strings.Fields(string(host))[1]+":53")
	if err != nil {
		b.Fatal(err)
	}
	defer upstream.Close()
	out := new(dns.Msg)
	out.SetQuestion("outside.test.", dns.TypeA)
	var pod, bare time.Duration
	for b.Loop() {
		pod += timeLookup(b, c, &dns.Conn{Conn: conn}, q)
		bare += timeLookup(b, c, &dns.Conn{Conn: upstream}, out)
	}
	b.ReportMetric(float64(pod.Microseconds())/float64(b.N), "µs/lookup")
	b.ReportMetric(float64(pod)/float64(bare), "x-bare-server")
}

// timeLookup times one query q on conn, which must answer one record.
func timeLookup(b *testing.B, c *dns.Client, conn *dns.Conn, q *dns.Msg) time.Duration {
	start := time.Now()
	m, _, err := c.ExchangeWithConn(q, conn)
	if err != nil || len(m.Answer) != 1 {
		b.Fatalf("looking up %s: %v %v", q.Question[0].Name, err, m)
	}
	return time.Since(start)
}

// dialInNetns dials addr from the network namespace pinned at nsPath.
func dialInNetns(nsPath, network, addr string) (c net.Conn, err error) {
	err = netns.Do(nsPath, func() error {
		c, err = net.Dial(network, addr)
		return err
	})
	return c, err
}

// TestDNSMemory measures what the resolver costs its monitor: the
// monitor of a ClusterFirst pod that has answered lookups beside that of
// a dnsPolicy Default pod, which serves none.
func TestDNSMemory(t *testing.T) {
	if os.Getenv("PODRUN_MEASURE") != "1" {
		t.Skip("set PODRUN_MEASURE=1 to measure the memory of a monitor serving DNS")
	}
	e := newEnv(t)
	e.loadDemo()
	conf := dnsUpstream(t, e)
	e.storeService(t, clusterIPService("web", e.svcAddr(50)))
	e.must("--resolv-conf", conf, "apply", "-f", e.manifest("pods.yaml",
		podYAML("with", "", container("c", "exec sleep 300", ""))+"---\n"+
			podYAML("without", "  dnsPolicy: Default\n", container("c", "exec sleep 300", ""))))
	defer e.must("delete", "pod", "with", "without", "--grace-period", "0")
	for range 20 {
		e.run("exec", "with", "--", "nslookup", "web.default.svc.cluster.local")
		e.run("exec", "with", "--", "nslookup", "outside.test")
	}
	time.Sleep(2 * time.Second)
	for _, name := range []string{"with", "without"} {
		var st struct {
			Monitor struct {
				Pid int `json:"pid"`
			} `json:"monitor"`
		}
		data, _ := os.ReadFile(filepath.Join(e.runRoot, "pods", "default_"+name, "state.json"))
		if err := json.Unmarshal(data, &st); err != nil || st.Monitor.Pid == 0 {
			t.Fatalf("reading %s's monitor: %v", name, err)
		}
		t.Logf("monitor of the pod %s cluster DNS: %s", name, memory(st.Monitor.Pid))
	}
}
