package dns

import (
	"context"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func svc(ns, name, clusterIP string, ports ...corev1.ServicePort) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{ClusterIP: clusterIP, Ports: ports}}
	if clusterIP != "" && clusterIP != corev1.ClusterIPNone {
		s.Spec.ClusterIPs = []string{clusterIP}
	}
	return s
}

func ptr[T any](v T) *T { return &v }

func slice(ns, svcName string, ports []discoveryv1.EndpointPort, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: svcName + "-abcde",
			Labels: map[string]string{discoveryv1.LabelServiceName: svcName}},
		AddressType: discoveryv1.AddressTypeIPv4, Endpoints: eps, Ports: ports,
	}
}

func ep(addr, hostname string, ready bool) discoveryv1.Endpoint {
	e := discoveryv1.Endpoint{Addresses: []string{addr}, Conditions: discoveryv1.EndpointConditions{Ready: ptr(ready)}}
	if hostname != "" {
		e.Hostname = ptr(hostname)
	}
	return e
}

// testCluster is a small cluster: a ClusterIP Service with named ports, a
// dual-stack one, a headless one with two ready endpoints (one named) and
// a not-ready one, a headless one publishing not-ready addresses, and
// ExternalName Services pointing inside and outside the cluster.
func testCluster() *Cluster {
	web := svc("default", "web", "10.96.0.20",
		corev1.ServicePort{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP},
		corev1.ServicePort{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP})
	dual := svc("default", "dual", "10.96.0.21")
	dual.Spec.ClusterIPs = []string{"10.96.0.21", "fd00:96::21"}
	db := svc("prod", "db", corev1.ClusterIPNone, corev1.ServicePort{Name: "pg", Port: 5432})
	pub := svc("prod", "pub", corev1.ClusterIPNone)
	pub.Spec.PublishNotReadyAddresses = true
	ext := svc("default", "ext", "")
	ext.Spec.Type, ext.Spec.ExternalName = corev1.ServiceTypeExternalName, "example.test"
	alias := svc("default", "alias", "")
	alias.Spec.Type, alias.Spec.ExternalName = corev1.ServiceTypeExternalName, "web.default.svc.cluster.local"
	empty := svc("prod", "empty", corev1.ClusterIPNone)
	pgPorts := []discoveryv1.EndpointPort{{Name: ptr("pg"), Port: ptr(int32(5432)), Protocol: ptr(corev1.ProtocolTCP)}}
	return NewCluster(
		[]*corev1.Service{web, dual, db, pub, ext, alias, empty},
		[]*discoveryv1.EndpointSlice{
			slice("prod", "db", pgPorts, ep("10.88.0.5", "db-0", true), ep("10.88.0.6", "", true), ep("10.88.0.7", "db-2", false)),
			slice("prod", "pub", nil, ep("10.88.0.8", "", false)),
		})
}

// upstream runs a DNS server on the loopback answering every A query
// with 192.0.2.1, and with 50 records (too many for 512 bytes of UDP)
// for big.test.; it returns its address.
func upstream(t *testing.T, network string) string {
	t.Helper()
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		q := r.Question[0]
		n := 1
		if q.Name == "big.test." {
			n = 50
		}
		if q.Qtype == dns.TypeA {
			for i := range n {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
					A: net.IPv4(192, 0, 2, byte(1+i))})
			}
		}
		if _, udp := w.LocalAddr().(*net.UDPAddr); udp {
			m.Truncate(dns.MinMsgSize)
		}
		_ = w.WriteMsg(m)
	})
	var srv *dns.Server
	var addr string
	switch network {
	case "udp":
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv, addr = &dns.Server{PacketConn: pc, Handler: h}, pc.LocalAddr().String()
	default:
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv, addr = &dns.Server{Listener: l, Handler: h}, l.Addr().String()
	}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return addr
}

// answers renders m's answer section as "name type value" lines, sorted.
func answers(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		f := strings.Fields(rr.String())
		out = append(out, f[0]+" "+f[3]+" "+strings.Join(f[4:], " "))
	}
	slices.Sort(out)
	return out
}

func TestAnswers(t *testing.T) {
	h := &Handler{Source: Static{testCluster()}, Domain: "cluster.local"}
	tests := []struct {
		name        string
		qtype       uint16
		rcode       int
		answer      []string
		extra       []string
		authorities int
	}{
		{"web.default.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess,
			[]string{"web.default.svc.cluster.local. A 10.96.0.20"}, nil, 0},
		{"WEB.Default.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess,
			[]string{"web.default.svc.cluster.local. A 10.96.0.20"}, nil, 0},
		{"web.default.svc.cluster.local.", dns.TypeAAAA, dns.RcodeSuccess, nil, nil, 1},
		{"dual.default.svc.cluster.local.", dns.TypeAAAA, dns.RcodeSuccess,
			[]string{"dual.default.svc.cluster.local. AAAA fd00:96::21"}, nil, 0},
		{"db.prod.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess,
			[]string{"db.prod.svc.cluster.local. A 10.88.0.5", "db.prod.svc.cluster.local. A 10.88.0.6"}, nil, 0},
		{"pub.prod.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess,
			[]string{"pub.prod.svc.cluster.local. A 10.88.0.8"}, nil, 0},
		{"empty.prod.svc.cluster.local.", dns.TypeA, dns.RcodeNameError, nil, nil, 1},
		{"db-0.db.prod.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess,
			[]string{"db-0.db.prod.svc.cluster.local. A 10.88.0.5"}, nil, 0},
		{"10-88-0-6.db.prod.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess,
			[]string{"10-88-0-6.db.prod.svc.cluster.local. A 10.88.0.6"}, nil, 0},
		{"db-2.db.prod.svc.cluster.local.", dns.TypeA, dns.RcodeNameError, nil, nil, 1},
		{"_http._tcp.web.default.svc.cluster.local.", dns.TypeSRV, dns.RcodeSuccess,
			[]string{"_http._tcp.web.default.svc.cluster.local. SRV 0 100 80 web.default.svc.cluster.local."},
			[]string{"web.default.svc.cluster.local. A 10.96.0.20"}, 0},
		{"_dns._udp.web.default.svc.cluster.local.", dns.TypeSRV, dns.RcodeSuccess,
			[]string{"_dns._udp.web.default.svc.cluster.local. SRV 0 100 53 web.default.svc.cluster.local."},
			[]string{"web.default.svc.cluster.local. A 10.96.0.20"}, 0},
		{"_dns._tcp.web.default.svc.cluster.local.", dns.TypeSRV, dns.RcodeNameError, nil, nil, 1},
		{"_pg._tcp.db.prod.svc.cluster.local.", dns.TypeSRV, dns.RcodeSuccess,
			[]string{"_pg._tcp.db.prod.svc.cluster.local. SRV 0 50 5432 10-88-0-6.db.prod.svc.cluster.local.",
				"_pg._tcp.db.prod.svc.cluster.local. SRV 0 50 5432 db-0.db.prod.svc.cluster.local."},
			[]string{"10-88-0-6.db.prod.svc.cluster.local. A 10.88.0.6", "db-0.db.prod.svc.cluster.local. A 10.88.0.5"}, 0},
		{"web.default.svc.cluster.local.", dns.TypeSRV, dns.RcodeSuccess,
			[]string{"web.default.svc.cluster.local. SRV 0 100 53 web.default.svc.cluster.local.",
				"web.default.svc.cluster.local. SRV 0 100 80 web.default.svc.cluster.local."},
			[]string{"web.default.svc.cluster.local. A 10.96.0.20"}, 0},
		{"ext.default.svc.cluster.local.", dns.TypeCNAME, dns.RcodeSuccess,
			[]string{"ext.default.svc.cluster.local. CNAME example.test."}, nil, 0},
		{"alias.default.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess,
			[]string{"alias.default.svc.cluster.local. CNAME web.default.svc.cluster.local.", "web.default.svc.cluster.local. A 10.96.0.20"}, nil, 0},
		{"10-1-2-3.default.pod.cluster.local.", dns.TypeA, dns.RcodeSuccess,
			[]string{"10-1-2-3.default.pod.cluster.local. A 10.1.2.3"}, nil, 0},
		{"fd00--1.default.pod.cluster.local.", dns.TypeAAAA, dns.RcodeSuccess,
			[]string{"fd00--1.default.pod.cluster.local. AAAA fd00::1"}, nil, 0},
		{"nope.default.pod.cluster.local.", dns.TypeA, dns.RcodeNameError, nil, nil, 1},
		{"nosuch.default.svc.cluster.local.", dns.TypeA, dns.RcodeNameError, nil, nil, 1},
		{"web.other.svc.cluster.local.", dns.TypeA, dns.RcodeNameError, nil, nil, 1},
		{"web.cluster.local.", dns.TypeA, dns.RcodeNameError, nil, nil, 1},
		{"default.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess, nil, nil, 1},
		{"cluster.local.", dns.TypeSOA, dns.RcodeSuccess, []string{"cluster.local. SOA"}, nil, 0},
		{"20.0.96.10.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess,
			[]string{"20.0.96.10.in-addr.arpa. PTR web.default.svc.cluster.local."}, nil, 0},
		{"5.0.88.10.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess,
			[]string{"5.0.88.10.in-addr.arpa. PTR db-0.db.prod.svc.cluster.local."}, nil, 0},
		{"1.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.0.d.f.ip6.arpa.", dns.TypePTR, dns.RcodeSuccess,
			[]string{"1.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.0.d.f.ip6.arpa. PTR dual.default.svc.cluster.local."}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+dns.TypeToString[tt.qtype], func(t *testing.T) {
			q := new(dns.Msg)
			q.SetQuestion(tt.name, tt.qtype)
			m := h.Answer(context.Background(), q, "udp")
			if m.Rcode != tt.rcode {
				t.Errorf("rcode = %s, want %s", dns.RcodeToString[m.Rcode], dns.RcodeToString[tt.rcode])
			}
			if !m.Authoritative {
				t.Errorf("answer is not authoritative")
			}
			got := answers(m.Answer)
			if tt.qtype == dns.TypeSOA && len(got) == 1 {
				got[0] = strings.Join(strings.Fields(got[0])[:2], " ")
			}
			if !slices.Equal(got, tt.answer) {
				t.Errorf("answer = %q, want %q", got, tt.answer)
			}
			if got := answers(m.Extra); !slices.Equal(got, tt.extra) {
				t.Errorf("extra = %q, want %q", got, tt.extra)
			}
			if len(m.Ns) != tt.authorities {
				t.Errorf("authority = %v, want %d records", m.Ns, tt.authorities)
			}
			for _, rr := range m.Ns {
				if soa, ok := rr.(*dns.SOA); !ok || soa.Minttl != ttl {
					t.Errorf("authority holds %v, want the zone's SOA with minimum %d", rr, ttl)
				}
			}
		})
	}
}

func TestForward(t *testing.T) {
	udp := upstream(t, "udp")
	h := &Handler{Source: Static{testCluster()}, Domain: "cluster.local",
		Forward: &Forwarder{Servers: []string{"127.0.0.1:1", udp}, Timeout: 500 * time.Millisecond}}
	ask := func(name string, qtype uint16, network string) *dns.Msg {
		q := new(dns.Msg)
		q.SetQuestion(name, qtype)
		return h.Answer(context.Background(), q, network)
	}
	// The first upstream refuses (nothing listens on port 1): the second
	// answers.
	m := ask("example.test.", dns.TypeA, "udp")
	if got := answers(m.Answer); !slices.Equal(got, []string{"example.test. A 192.0.2.1"}) || m.Rcode != dns.RcodeSuccess {
		t.Errorf("forwarded answer = %s %q, want example.test. A 192.0.2.1", dns.RcodeToString[m.Rcode], got)
	}
	// Truncated over UDP, asked again over TCP: the server listens on the
	// same port for TCP only when the test makes it so, so use one.
	tcp := upstream(t, "tcp")
	h.Forward.Servers = []string{tcp}
	m = ask("big.test.", dns.TypeA, "tcp")
	if len(m.Answer) != 50 || m.Truncated {
		t.Errorf("TCP query forwarded over TCP: %d records, truncated %v; want 50, whole", len(m.Answer), m.Truncated)
	}
	// An ExternalName outside the cluster is chased upstream.
	h.Forward.Servers = []string{udp}
	m = ask("ext.default.svc.cluster.local.", dns.TypeA, "udp")
	want := []string{"example.test. A 192.0.2.1", "ext.default.svc.cluster.local. CNAME example.test."}
	if got := answers(m.Answer); !slices.Equal(got, want) {
		t.Errorf("ExternalName answer = %q, want %q", got, want)
	}
	// A PTR query for an address the cluster does not know goes upstream.
	if m := ask("9.9.9.10.in-addr.arpa.", dns.TypePTR, "udp"); m.Authoritative || m.Rcode != dns.RcodeSuccess {
		t.Errorf("unknown PTR: authoritative %v rcode %s, want the upstream's NOERROR", m.Authoritative, dns.RcodeToString[m.Rcode])
	}
	// No upstream answers: SERVFAIL.
	h.Forward.Servers = []string{"127.0.0.1:1"}
	if m := ask("example.test.", dns.TypeA, "udp"); m.Rcode != dns.RcodeServerFailure {
		t.Errorf("rcode with no upstream = %s, want SERVFAIL", dns.RcodeToString[m.Rcode])
	}
	h.Forward = nil
	if m := ask("example.test.", dns.TypeA, "udp"); m.Rcode != dns.RcodeServerFailure {
		t.Errorf("rcode with no forwarder = %s, want SERVFAIL", dns.RcodeToString[m.Rcode])
	}
}

// TestForwardTruncated: a UDP answer truncated by the upstream is asked
// again over TCP, then cut to what the client takes over UDP, with TC set
// so that the client asks over TCP itself.
func TestForwardTruncated(t *testing.T) {
	// One address for both transports: a UDP and a TCP server on the
	// same loopback port.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		pc.Close()
		t.Skipf("TCP port %d taken: %v", port, err)
	}
	var tcpQueries int
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		for i := range 50 {
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
				A: net.IPv4(192, 0, 2, byte(1+i))})
		}
		if _, udp := w.LocalAddr().(*net.UDPAddr); udp {
			m.Truncate(dns.MinMsgSize)
		} else {
			tcpQueries++
		}
		_ = w.WriteMsg(m)
	})
	for _, s := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: l, Handler: h}} {
		go func() { _ = s.ActivateAndServe() }()
		t.Cleanup(func() { _ = s.Shutdown() })
	}
	f := &Forwarder{Servers: []string{pc.LocalAddr().String()}}
	q := new(dns.Msg)
	q.SetQuestion("big.test.", dns.TypeA)
	m, err := f.Exchange(context.Background(), q, "udp")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Answer) != 50 || m.Truncated || tcpQueries != 1 {
		t.Errorf("got %d records (truncated %v) after %d TCP queries; want 50 whole after 1", len(m.Answer), m.Truncated, tcpQueries)
	}
}

// TestServeTruncates: served over UDP, an answer too big for the client
// is cut with TC set, so that the client asks again over TCP, where it is
// whole.
func TestServeTruncates(t *testing.T) {
	var eps []discoveryv1.Endpoint
	for i := range 60 {
		eps = append(eps, ep("10.88.1."+strconv.Itoa(i+1), "", true))
	}
	big := NewCluster([]*corev1.Service{svc("default", "big", corev1.ClusterIPNone)}, []*discoveryv1.EndpointSlice{slice("default", "big", nil, eps...)})
	h := &Handler{Source: Static{big}, Domain: "cluster.local"}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		pc.Close()
		t.Fatal(err)
	}
	for _, s := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: l, Handler: h}} {
		go func() { _ = s.ActivateAndServe() }()
		t.Cleanup(func() { _ = s.Shutdown() })
	}
	q := new(dns.Msg)
	q.SetQuestion("big.default.svc.cluster.local.", dns.TypeA)
	m, _, err := (&dns.Client{Net: "udp"}).Exchange(q, pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	if !m.Truncated || len(m.Answer) >= 60 {
		t.Errorf("over UDP: truncated %v with %d records, want TC and fewer than 60", m.Truncated, len(m.Answer))
	}
	m, _, err = (&dns.Client{Net: "tcp"}).Exchange(q, l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if m.Truncated || len(m.Answer) != 60 {
		t.Errorf("over TCP: truncated %v with %d records, want all 60", m.Truncated, len(m.Answer))
	}
}

// TestEDNS: a query with EDNS gets an OPT record back, beside the SRV
// additional records, and a large UDP answer whole.
func TestEDNS(t *testing.T) {
	h := &Handler{Source: Static{testCluster()}, Domain: "cluster.local"}
	q := new(dns.Msg)
	q.SetQuestion("_http._tcp.web.default.svc.cluster.local.", dns.TypeSRV)
	q.SetEdns0(4096, false)
	m := h.Answer(context.Background(), q, "udp")
	if m.IsEdns0() == nil || len(m.Answer) != 1 || len(m.Extra) != 2 {
		t.Errorf("EDNS answer: OPT %v, %d answers, %d extra; want OPT, 1, 2 (A and OPT)", m.IsEdns0(), len(m.Answer), len(m.Extra))
	}
}
