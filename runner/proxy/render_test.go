package proxy

import (
	"flag"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func ptr[T any](v T) *T { return &v }

// service is a Service of type typ with the given ports (name, port,
// protocol, nodePort).
func service(name, ip string, typ corev1.ServiceType, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec:       corev1.ServiceSpec{Type: typ, ClusterIP: ip, ClusterIPs: []string{ip}, Ports: ports},
	}
}

// slice is an EndpointSlice of service svc with one port and endpoints
// "ip" (ready) or "ip!" (not ready).
func slice(svc, portName string, proto corev1.Protocol, port int32, eps ...string) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: svc + "-x",
			Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr(portName), Protocol: ptr(proto), Port: ptr(port)}},
	}
	for _, e := range eps {
		ready := !strings.HasSuffix(e, "!")
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{strings.TrimSuffix(e, "!")},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr(ready)},
		})
	}
	return s
}

func TestBuildPorts(t *testing.T) {
	web := service("web", "10.96.0.20", corev1.ServiceTypeClusterIP,
		corev1.ServicePort{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP})
	headless := service("db", "None", corev1.ServiceTypeClusterIP, corev1.ServicePort{Port: 5432})
	sl := slice("web", "http", corev1.ProtocolTCP, 8080, "10.90.0.3", "10.90.0.2", "10.90.0.4!", "10.90.0.2")
	other := slice("web", "metrics", corev1.ProtocolTCP, 9090, "10.90.0.9")
	got := buildPorts([]*corev1.Service{web, headless}, []*discoveryv1.EndpointSlice{sl, other}, true, discard())
	want := []servicePort{{
		Name: "default/web:http", VIP: netip.MustParseAddr("10.96.0.20"), Protocol: corev1.ProtocolTCP, Port: 80,
		Endpoints: []netip.AddrPort{netip.MustParseAddrPort("10.90.0.2:8080"), netip.MustParseAddrPort("10.90.0.3:8080")},
	}}
	if d := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
		cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); d != "" {
		t.Errorf("ports (-want +got):\n%s", d)
	}
}

func TestBuildPortsSkipsSCTPWithoutKernelSupport(t *testing.T) {
	svc := service("s", "10.96.0.5", corev1.ServiceTypeClusterIP,
		corev1.ServicePort{Name: "a", Port: 9, Protocol: corev1.ProtocolSCTP},
		corev1.ServicePort{Name: "b", Port: 9, Protocol: corev1.ProtocolUDP})
	got := buildPorts([]*corev1.Service{svc}, nil, false, discard())
	if len(got) != 1 || got[0].Protocol != corev1.ProtocolUDP {
		t.Fatalf("want only the UDP port without SCTP, got %+v", got)
	}
	if got := buildPorts([]*corev1.Service{svc}, nil, true, discard()); len(got) != 2 {
		t.Fatalf("want both ports with SCTP, got %+v", got)
	}
}

func TestProbability(t *testing.T) {
	for left, want := range map[int]string{2: "0.5000000000", 3: "0.3333333333", 4: "0.2500000000"} {
		if got := probability(left); got != want {
			t.Errorf("probability(%d) = %s, want %s", left, got, want)
		}
	}
}

func TestChainNamesFitIptables(t *testing.T) {
	n := names("abcdefgh")
	sp := servicePort{Name: "a-very-long-namespace-name/a-very-long-service-name:http", Protocol: corev1.ProtocolTCP}
	for _, c := range []string{n.services(), n.nodePorts(), n.postrouting(), n.markMasq(), n.filter(), n.svc(sp),
		n.sep(sp, netip.MustParseAddrPort("10.1.2.3:80"))} {
		if len(c) > 28 {
			t.Errorf("chain %s is %d characters, iptables allows 28", c, len(c))
		}
	}
	if names("a").svc(sp) == names("b").svc(sp)[:len(names("a").svc(sp))] {
		t.Errorf("two instances share a chain name")
	}
}

// goldenServices is a run root with one Service of each kind the proxy
// handles.
func goldenServices() ([]*corev1.Service, []*discoveryv1.EndpointSlice) {
	web := service("web", "10.96.0.20", corev1.ServiceTypeClusterIP,
		corev1.ServicePort{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP})
	dns := service("dns", "10.96.0.10", corev1.ServiceTypeNodePort,
		corev1.ServicePort{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, NodePort: 30053})
	sticky := service("sticky", "10.96.0.30", corev1.ServiceTypeClusterIP,
		corev1.ServicePort{Name: "", Port: 8080, Protocol: corev1.ProtocolTCP})
	sticky.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
	sticky.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr(int32(60))}}
	lb := service("lb", "10.96.0.40", corev1.ServiceTypeLoadBalancer,
		corev1.ServicePort{Name: "http", Port: 8081, Protocol: corev1.ProtocolTCP, NodePort: 31000})
	empty := service("empty", "10.96.0.50", corev1.ServiceTypeNodePort,
		corev1.ServicePort{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, NodePort: 30080})
	sctp := service("sig", "10.96.0.60", corev1.ServiceTypeClusterIP,
		corev1.ServicePort{Name: "sig", Port: 3868, Protocol: corev1.ProtocolSCTP})
	return []*corev1.Service{web, dns, sticky, lb, empty, sctp}, []*discoveryv1.EndpointSlice{
		slice("sig", "sig", corev1.ProtocolSCTP, 3868, "10.90.0.8"),
		slice("web", "http", corev1.ProtocolTCP, 8080, "10.90.0.2", "10.90.0.3", "10.90.0.4"),
		slice("dns", "dns", corev1.ProtocolUDP, 5353, "10.90.0.5"),
		slice("sticky", "", corev1.ProtocolTCP, 80, "10.90.0.2", "10.90.0.3"),
		slice("lb", "http", corev1.ProtocolTCP, 80, "10.90.0.6"),
		slice("empty", "http", corev1.ProtocolTCP, 80, "10.90.0.7!"),
	}
}

// savedOther is a nat and filter table holding the CNI plugins' rules,
// another instance's jump, and a stale chain of instance "t1".
const savedOther = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:CNI-HOSTPORT-DNAT - [0:0]
:PODRUN-t1-SVC-OLDOLDOL - [0:0]
:PODRUN-t2-SERVICES - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT
-A PREROUTING -m comment --comment "podrun t2" -j PODRUN-t2-SERVICES
-A PREROUTING -m comment --comment "podrun t1" -j PODRUN-t1-SERVICES
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:CNI-FORWARD - [0:0]
-A FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD
COMMIT
`

func TestRenderGolden(t *testing.T) {
	svcs, eps := goldenServices()
	ports := buildPorts(svcs, eps, true, discard())
	for _, tc := range []struct {
		name    string
		publish string
		cur     string
	}{
		{"sync-empty-tables", "127.0.0.1", ""},
		{"sync-over-others", "127.0.0.1", savedOther},
		{"sync-publish-all", "0.0.0.0", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := renderSync(plan{Instance: "t1", CIDR: netip.MustParsePrefix("10.96.0.0/16"),
				Publish: netip.MustParseAddr(tc.publish), Ports: ports}, parseSave(tc.cur))
			golden(t, tc.name, got)
		})
	}
	t.Run("teardown", func(t *testing.T) {
		golden(t, "teardown", renderTeardown("t1", parseSave(savedOther)))
	})
	t.Run("teardown-nothing", func(t *testing.T) {
		if got := renderTeardown("t3", parseSave(savedOther)); got != nil {
			t.Errorf("teardown of an instance with no rules: got %s, want nothing", got)
		}
	})
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s (run go test -update to write it): %v", path, err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s (-want +got):\n%s", path, d)
	}
}

func TestInstanceName(t *testing.T) {
	a, b := InstanceName("/run/podrun"), InstanceName("/run/podrun/")
	if a != b || !instanceRE.MatchString(a) {
		t.Errorf("InstanceName: %q and %q, want one valid name", a, b)
	}
	if InstanceName("/tmp/x") == a {
		t.Errorf("two run roots share instance %s", a)
	}
}

func TestPublishedPorts(t *testing.T) {
	svcs, eps := goldenServices()
	ports := buildPorts(svcs, eps, true, discard())
	in := renderSync(plan{Instance: "t1", CIDR: netip.MustParsePrefix("10.96.0.0/16"),
		Publish: netip.MustParseAddr("127.0.0.1"), Ports: ports}, saved{})
	// As iptables-save prints it: the rendered -A lines are the same form.
	got := publishedPorts(parseSave(string(in)))
	want := []PublishedPort{
		{"t1", corev1.ProtocolTCP, 8081},
		{"t1", corev1.ProtocolUDP, 30053},
		{"t1", corev1.ProtocolTCP, 30080},
		{"t1", corev1.ProtocolTCP, 31000},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("published ports (-want +got):\n%s", d)
	}
}

// A named targetPort can resolve to a different number in each pod: the
// slices then carry one port set each, and each endpoint keeps its own.
func TestBuildPortsNamedTargetPortPerPod(t *testing.T) {
	svc := service("web", "10.96.0.20", corev1.ServiceTypeClusterIP,
		corev1.ServicePort{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP})
	a := slice("web", "http", corev1.ProtocolTCP, 8080, "10.90.0.2")
	b := slice("web", "http", corev1.ProtocolTCP, 9090, "10.90.0.3")
	b.Name = "web-y"
	got := buildPorts([]*corev1.Service{svc}, []*discoveryv1.EndpointSlice{a, b}, true, discard())
	want := []netip.AddrPort{netip.MustParseAddrPort("10.90.0.2:8080"), netip.MustParseAddrPort("10.90.0.3:9090")}
	if len(got) != 1 || !slices.Equal(got[0].Endpoints, want) {
		t.Errorf("endpoints: got %+v, want %v", got, want)
	}
}
