package proxy

import (
	"context"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// svcSet is what Sync is handed: all Services and slices of a run root.
type svcSet struct {
	services []*corev1.Service
	slices   []*discoveryv1.EndpointSlice
}

func (s svcSet) with(svc *corev1.Service, sl *discoveryv1.EndpointSlice) svcSet {
	out := svcSet{services: append(s.services[:len(s.services):len(s.services)], svc), slices: s.slices}
	if sl != nil {
		out.slices = append(s.slices[:len(s.slices):len(s.slices)], sl)
	}
	return out
}

// web is a ClusterIP Service on vip:80 whose endpoints are pods of the
// lab on 8080 ("!" after an index: not ready).
func (l *lab) web(name, vip string, eps ...string) (*corev1.Service, *discoveryv1.EndpointSlice) {
	svc := service(name, vip, corev1.ServiceTypeClusterIP, corev1.ServicePort{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP})
	return svc, slice(name, "http", corev1.ProtocolTCP, 8080, l.addrs(eps)...)
}

// addrs maps "0", "1!" to the pods' addresses, keeping "!".
func (l *lab) addrs(eps []string) []string {
	var out []string
	for _, e := range eps {
		i := int(e[0] - '0')
		out = append(out, l.ips[i].String()+strings.TrimPrefix(e, e[:1]))
	}
	return out
}

// responders counts who answers n connections from ns to addr.
func responders(t *testing.T, ns, addr string, n int) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for range n {
		who, err := fetch(ns, addr)
		if err != nil {
			t.Fatalf("connecting from %s to %s: %v", ns, addr, err)
		}
		seen[who]++
	}
	return seen
}

func TestClusterIPSpreadsOverReadyEndpoints(t *testing.T) {
	t.Parallel()
	l := newLab(t, 3)
	p := l.proxy(t, Config{})
	p.sync(t, svcSet{}.with(l.web("web", "10.96.0.20", "0", "1", "2!")))

	fromHost := responders(t, l.node, "10.96.0.20:80", 40)
	fromPod := responders(t, l.pods[2], "10.96.0.20:80", 40)
	for from, seen := range map[string]map[string]int{"host": fromHost, "pod2": fromPod} {
		if len(seen) != 2 || seen["pod0"] == 0 || seen["pod1"] == 0 {
			t.Errorf("from %s, 40 connections reached %v, want both ready pods (pod0, pod1) and never pod2", from, seen)
		}
	}

	// pod1 turns unready: it gets no new connection.
	p.sync(t, svcSet{}.with(l.web("web", "10.96.0.20", "0", "1!", "2!")))
	if seen := responders(t, l.pods[2], "10.96.0.20:80", 20); len(seen) != 1 || seen["pod0"] != 20 {
		t.Errorf("after pod1 turned unready, connections reached %v, want pod0 only", seen)
	}
}

func TestRejectedAtOnceAndNothingLeaves(t *testing.T) {
	t.Parallel()
	l := newLab(t, 1)
	p := l.proxy(t, Config{})
	p.sync(t, svcSet{}.
		with(l.web("web", "10.96.0.20", "0")).
		with(l.web("empty", "10.96.0.21", "0!")))
	if _, err := fetch(l.pods[0], "10.96.0.20:80"); err != nil {
		t.Fatalf("the Service with an endpoint: %v", err)
	}
	// As the CNI firewall plugin does on its first ADD, someone puts an
	// ACCEPT for the pods first in FORWARD: the next Sync goes back above.
	ip(t, "netns", "exec", l.node, "iptables", "-I", "FORWARD", "1", "-s", "10.200.0.0/24", "-j", "ACCEPT")
	p.sync(t, svcSet{}.
		with(l.web("web", "10.96.0.20", "0")).
		with(l.web("empty", "10.96.0.21", "0!")))
	before := l.uplinkPackets(t)
	for _, ns := range []string{l.pods[0], l.node} {
		refusedAtOnce(t, ns, "10.96.0.21:80")  // no ready endpoint
		refusedAtOnce(t, ns, "10.96.0.20:81")  // a port the Service lacks
		refusedAtOnce(t, ns, "10.96.200.1:80") // no Service at all
	}
	// The Service is deleted: its address is refused too.
	p.sync(t, svcSet{}.with(l.web("empty", "10.96.0.21", "0!")))
	refusedAtOnce(t, l.pods[0], "10.96.0.20:80")
	if after := l.uplinkPackets(t); after != before {
		t.Errorf("%d packets left through the node's default route, want none", after-before)
	}
}

func TestHostReachesClusterIPWithoutDefaultRoute(t *testing.T) {
	t.Parallel()
	l := newLab(t, 1)
	ip(t, "-n", l.node, "route", "del", "default")
	p := l.proxy(t, Config{})
	p.sync(t, svcSet{}.with(l.web("web", "10.96.0.20", "0")))
	if who, err := fetch(l.node, "10.96.0.20:80"); err != nil || who != "pod0" {
		t.Fatalf("from an offline host: got %q, %v; want pod0", who, err)
	}
	refusedAtOnce(t, l.node, "10.96.0.99:80")
	p.teardown(t)
	// Told its interface, the proxy routes the range with no endpoint yet.
	p = l.proxy(t, Config{Interface: "br0"})
	p.sync(t, svcSet{}.with(l.web("web", "10.96.0.20", "0!")))
	refusedAtOnce(t, l.node, "10.96.0.20:80")
	p.teardown(t)
	if r := l.routes(t); strings.Contains(r, "10.96.0.0/16") {
		t.Errorf("the service range's route outlived Teardown:\n%s", r)
	}
}

func TestHairpin(t *testing.T) {
	t.Parallel()
	l := newLab(t, 2)
	p := l.proxy(t, Config{})
	p.sync(t, svcSet{}.with(l.web("self", "10.96.0.30", "0")))
	who, err := fetch(l.pods[0], "10.96.0.30:80")
	if err != nil || who != "pod0" {
		t.Fatalf("pod0 through its own Service: got %q, %v; want pod0", who, err)
	}
}

func TestSessionAffinityClientIP(t *testing.T) {
	t.Parallel()
	l := newLab(t, 3)
	p := l.proxy(t, Config{})
	svc, sl := l.web("sticky", "10.96.0.40", "0", "1")
	svc.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
	p.sync(t, svcSet{}.with(svc, sl))
	for _, ns := range []string{l.pods[2], l.node} {
		if seen := responders(t, ns, "10.96.0.40:80", 20); len(seen) != 1 {
			t.Errorf("with ClientIP affinity, 20 connections from %s reached %v, want one pod", ns, seen)
		}
	}
	// Without affinity the same Service spreads again: the test can fail.
	svc.Spec.SessionAffinity = corev1.ServiceAffinityNone
	p.sync(t, svcSet{}.with(svc, sl))
	if seen := responders(t, l.pods[2], "10.96.0.40:80", 30); len(seen) != 2 {
		t.Errorf("without affinity, 30 connections reached %v, want both pods", seen)
	}
}

func TestUDPEndpointSwapClearsConntrack(t *testing.T) {
	t.Parallel()
	l := newLab(t, 3)
	p := l.proxy(t, Config{})
	dns := func(ep string) svcSet {
		svc := service("dns", "10.96.0.10", corev1.ServiceTypeClusterIP, corev1.ServicePort{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP})
		return svcSet{}.with(svc, slice("dns", "dns", corev1.ProtocolUDP, 5353, l.addrs([]string{ep})...))
	}
	p.sync(t, dns("0"))
	// One socket, one flow: as a resolver keeps its source port.
	var c net.Conn
	if err := in(l.pods[2], func() (err error) { c, err = net.Dial("udp4", "10.96.0.10:53"); return err }); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ask := func() string {
		t.Helper()
		buf := make([]byte, 100)
		for range 5 {
			c.Write([]byte("q"))
			c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			if n, err := c.Read(buf); err == nil {
				return string(buf[:n])
			}
		}
		t.Fatal("no UDP answer through the ClusterIP")
		return ""
	}
	if got := ask(); got != "pod0 q" {
		t.Fatalf("before the swap: got %q, want pod0's answer", got)
	}
	p.sync(t, dns("1"))
	if got := ask(); got != "pod1 q" {
		t.Fatalf("after swapping the endpoint to pod1 (pod0 still up): got %q, want pod1's answer", got)
	}
}

func TestNodePortAndLoadBalancerOnLocalhost(t *testing.T) {
	t.Parallel()
	l := newLab(t, 1)
	p := l.proxy(t, Config{})
	np := service("np", "10.96.0.50", corev1.ServiceTypeNodePort,
		corev1.ServicePort{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, NodePort: 30080})
	lb := service("lb", "10.96.0.51", corev1.ServiceTypeLoadBalancer,
		corev1.ServicePort{Name: "http", Port: 8081, Protocol: corev1.ProtocolTCP, NodePort: 30081})
	empty := service("none", "10.96.0.52", corev1.ServiceTypeNodePort,
		corev1.ServicePort{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, NodePort: 30082})
	p.sync(t, svcSet{}.
		with(np, slice("np", "http", corev1.ProtocolTCP, 8080, l.ips[0].String())).
		with(lb, slice("lb", "http", corev1.ProtocolTCP, 8080, l.ips[0].String())).
		with(empty, nil))
	for _, addr := range []string{"127.0.0.1:30080", "127.0.0.1:30081", "127.0.0.1:8081"} {
		if who, err := fetch(l.node, addr); err != nil || who != "pod0" {
			t.Errorf("from the node to %s: got %q, %v; want pod0", addr, who, err)
		}
	}
	refusedAtOnce(t, l.node, "127.0.0.1:30082")
	var published []PublishedPort
	if err := in(l.node, func() (err error) { published, err = PublishedPorts(context.Background(), nil); return err }); err != nil {
		t.Fatal(err)
	}
	want := []PublishedPort{{"t", "TCP", 8081}, {"t", "TCP", 30080}, {"t", "TCP", 30081}, {"t", "TCP", 30082}}
	if d := cmp.Diff(want, published); d != "" {
		t.Errorf("PublishedPorts (-want +got):\n%s", d)
	}
	// Published on 127.0.0.1 only: the node's other address is not.
	refusedAtOnce(t, l.node, "192.0.2.1:30080")
}

func TestPublishOnAllAddresses(t *testing.T) {
	t.Parallel()
	l := newLab(t, 1)
	p := l.proxy(t, Config{PublishAddress: netip.MustParseAddr("0.0.0.0")})
	np := service("np", "10.96.0.50", corev1.ServiceTypeNodePort,
		corev1.ServicePort{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, NodePort: 30080})
	p.sync(t, svcSet{}.with(np, slice("np", "http", corev1.ProtocolTCP, 8080, l.ips[0].String())))
	for ns, addr := range map[string]string{l.out: "192.0.2.1:30080", l.node: "127.0.0.1:30080"} {
		if who, err := fetch(ns, addr); err != nil || who != "pod0" {
			t.Errorf("from %s to %s: got %q, %v; want pod0", ns, addr, who, err)
		}
	}
}

func TestLocalhostPublishingIsNotReachableFromOutside(t *testing.T) {
	t.Parallel()
	l := newLab(t, 1)
	p := l.proxy(t, Config{})
	np := service("np", "10.96.0.50", corev1.ServiceTypeNodePort,
		corev1.ServicePort{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, NodePort: 30080})
	p.sync(t, svcSet{}.with(np, slice("np", "http", corev1.ProtocolTCP, 8080, l.ips[0].String())))
	if who, err := fetch(l.out, "192.0.2.1:30080"); err == nil {
		t.Errorf("a NodePort published on 127.0.0.1 answered from outside: %q", who)
	}
}

func TestTeardownRestoresTables(t *testing.T) {
	t.Parallel()
	l := newLab(t, 2)
	// Rules of others, as the CNI plugins write them, stay as they are.
	ip(t, "netns", "exec", l.node, "iptables", "-t", "nat", "-A", "POSTROUTING", "-s", "10.200.0.0/24", "!", "-d", "10.200.0.0/24", "-j", "MASQUERADE")
	ip(t, "netns", "exec", l.node, "iptables", "-A", "FORWARD", "-i", "br0", "-j", "ACCEPT")
	before, routesBefore := l.tables(t), l.routes(t)
	p := l.proxy(t, Config{})
	np := service("np", "10.96.0.50", corev1.ServiceTypeNodePort,
		corev1.ServicePort{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, NodePort: 30080})
	all := svcSet{}.with(l.web("web", "10.96.0.20", "0", "1")).
		with(np, slice("np", "http", corev1.ProtocolTCP, 8080, l.ips[1].String()))
	p.sync(t, all)
	p.sync(t, all) // idempotent: no second jump
	if got := strings.Count(l.tables(t), `--comment "podrun t" -j`); got != 6 {
		t.Errorf("after two Syncs: %d jump rules, want 6", got)
	}
	p.sync(t, svcSet{}.with(l.web("web", "10.96.0.20", "1"))) // stale chains go
	if got := l.tables(t); strings.Contains(got, "30080") {
		t.Errorf("the deleted NodePort Service's rules remain:\n%s", got)
	}
	if _, err := fetch(l.pods[0], "10.96.0.20:80"); err != nil {
		t.Fatalf("after the resync: %v", err)
	}
	p.teardown(t)
	p.teardown(t) // idempotent
	if err := os.RemoveAll(p.p.cfg.StateDir); err != nil {
		t.Fatal(err)
	}
	p.teardown(t) // the run root is gone: nothing to do, nothing made
	if _, err := os.Stat(p.p.cfg.StateDir); err == nil {
		t.Errorf("Teardown made the removed state directory again")
	}
	if d := cmp.Diff(before, l.tables(t)); d != "" {
		t.Errorf("tables after Teardown differ from before (-before +after):\n%s", d)
	}
	if d := cmp.Diff(routesBefore, l.routes(t)); d != "" {
		t.Errorf("routes after Teardown differ from before (-before +after):\n%s", d)
	}
	// Sync with nothing is Teardown.
	p.sync(t, all)
	p.sync(t, svcSet{})
	if d := cmp.Diff(before, l.tables(t)); d != "" {
		t.Errorf("tables after a Sync of no Service differ from before (-before +after):\n%s", d)
	}
}

func TestTwoInstancesCoexist(t *testing.T) {
	t.Parallel()
	l := newLab(t, 2)
	a := l.proxy(t, Config{Instance: "a", ServiceCIDR: netip.MustParsePrefix("10.96.0.0/16")})
	b := l.proxy(t, Config{Instance: "b", ServiceCIDR: netip.MustParsePrefix("10.97.0.0/16")})
	b.sync(t, svcSet{}.with(l.web("web", "10.97.0.20", "1")))
	onlyB := l.tables(t)
	a.sync(t, svcSet{}.with(l.web("web", "10.96.0.20", "0")))
	for addr, want := range map[string]string{"10.96.0.20:80": "pod0", "10.97.0.20:80": "pod1"} {
		if who, err := fetch(l.pods[0], addr); err != nil || who != want {
			t.Errorf("with both instances, %s: got %q, %v; want %s", addr, who, err, want)
		}
	}
	a.teardown(t)
	if d := cmp.Diff(onlyB, l.tables(t)); d != "" {
		t.Errorf("tearing down a touched b's rules (-b alone +after):\n%s", d)
	}
	if who, err := fetch(l.pods[0], "10.97.0.20:80"); err != nil || who != "pod1" {
		t.Errorf("b after a's teardown: got %q, %v; want pod1", who, err)
	}
	refusedAtOnce(t, l.pods[0], "10.97.0.99:80")
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Instance: "", ServiceCIDR: netip.MustParsePrefix("10.96.0.0/16")},
		{Instance: "TOO-LONG-NAME", ServiceCIDR: netip.MustParsePrefix("10.96.0.0/16")},
		{Instance: "a", ServiceCIDR: netip.MustParsePrefix("fd00::/108")},
		{Instance: "a", ServiceCIDR: netip.MustParsePrefix("10.96.0.1/16")},
		{Instance: "a", ServiceCIDR: netip.MustParsePrefix("10.96.0.0/16"), PublishAddress: netip.MustParseAddr("::1")},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded, want an error", cfg)
		}
	}
}
