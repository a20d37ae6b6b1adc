package dns

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
)

// ttl is the lifetime of every cluster answer, and of a negative one:
// CoreDNS's kubernetes plugin's default, short enough that a Service's
// change is seen within seconds by a client that caches.
const ttl = 5

// maxChase bounds how many ExternalName CNAMEs in a row are followed.
const maxChase = 8

// Handler answers the queries of a pod's resolver.
type Handler struct {
	Source Source
	// Domain is the cluster domain (kube.ClusterDomain).
	Domain string
	// Forward answers the names outside the cluster domain; nil answers
	// them SERVFAIL.
	Forward *Forwarder
	Log     *slog.Logger
	// Timeout bounds one query's whole answer; zero is 5 s, glibc's
	// timeout.
	Timeout time.Duration

	// warned is when an upstream failure was last logged as a warning:
	// one a minute, lest a pod asking an unreachable upstream in a loop
	// fill the monitor's log.
	warned atomic.Int64
}

// ServeDNS answers r on w, over the transport w's socket has.
func (h *Handler) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	network := "udp"
	if _, ok := w.LocalAddr().(*net.TCPAddr); ok {
		network = "tcp"
	}
	timeout := h.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			h.log().Error("answering a DNS query", "name", question(r), "panic", p)
			_ = w.WriteMsg(reply(r, dns.RcodeServerFailure))
		}
	}()
	m := h.Answer(ctx, r, network)
	if network == "udp" {
		m.Truncate(udpSize(r))
	}
	if err := w.WriteMsg(m); err != nil {
		h.log().Debug("writing a DNS answer", "name", question(r), "err", err)
	}
}

// udpSize is the largest answer r's sender takes over UDP.
func udpSize(r *dns.Msg) int {
	if o := r.IsEdns0(); o != nil && o.UDPSize() > dns.MinMsgSize {
		return int(o.UDPSize())
	}
	return dns.MinMsgSize
}

func question(r *dns.Msg) string {
	if len(r.Question) == 0 {
		return ""
	}
	return r.Question[0].Name
}

func (h *Handler) log() *slog.Logger {
	if h.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Log
}

// Answer is the reply to r, which came over network ("udp" or "tcp").
func (h *Handler) Answer(ctx context.Context, r *dns.Msg, network string) *dns.Msg {
	if r.Opcode != dns.OpcodeQuery {
		return reply(r, dns.RcodeNotImplemented)
	}
	if len(r.Question) != 1 {
		return reply(r, dns.RcodeFormatError)
	}
	q := r.Question[0]
	name := strings.ToLower(dns.Fqdn(q.Name))
	if dns.IsSubDomain(h.zone(), name) {
		return h.cluster(ctx, r, name, q.Qtype)
	}
	if q.Qtype == dns.TypePTR {
		if m := h.reverse(r, name); m != nil {
			return m
		}
	}
	return h.forward(ctx, r, network)
}

// reply is an empty answer to r with rcode.
func reply(r *dns.Msg, rcode int) *dns.Msg {
	m := new(dns.Msg)
	m.SetRcode(r, rcode)
	m.RecursionAvailable = true
	return m
}

func (h *Handler) zone() string { return dns.Fqdn(strings.ToLower(h.Domain)) }

// forward asks the upstream resolvers; SERVFAIL when none answers.
func (h *Handler) forward(ctx context.Context, r *dns.Msg, network string) *dns.Msg {
	if h.Forward == nil {
		return reply(r, dns.RcodeServerFailure)
	}
	m, err := h.Forward.Exchange(ctx, r, network)
	if err != nil {
		level := slog.LevelDebug
		if now, last := time.Now().Unix(), h.warned.Load(); now-last >= 60 && h.warned.CompareAndSwap(last, now) {
			level = slog.LevelWarn
		}
		h.log().Log(ctx, level, "forwarding a DNS query; answering SERVFAIL", "name", question(r), "err", err)
		return reply(r, dns.RcodeServerFailure)
	}
	return m
}

// cluster answers a name in the cluster domain, authoritatively.
func (h *Handler) cluster(ctx context.Context, r *dns.Msg, name string, qtype uint16) *dns.Msg {
	c, err := h.Source.Cluster()
	if err != nil {
		h.log().Warn("reading the cluster's Services", "err", err)
		return reply(r, dns.RcodeServerFailure)
	}
	m := reply(r, dns.RcodeSuccess)
	m.Authoritative = true
	res := h.lookup(ctx, c, name, qtype, 0)
	m.Answer, m.Extra = res.answer, res.extra
	if r.IsEdns0() != nil {
		m.SetEdns0(dns.DefaultMsgSize, false)
	}
	switch {
	case !res.exists:
		m.Rcode = dns.RcodeNameError
		m.Ns = []dns.RR{h.soa()}
	case len(m.Answer) == 0:
		m.Ns = []dns.RR{h.soa()}
	}
	return m
}

// result is what a name holds: exists false is NXDOMAIN.
type result struct {
	answer, extra []dns.RR
	exists        bool
}

// lookup finds name (lower case, fully qualified, in the cluster
// domain) in c.
func (h *Handler) lookup(ctx context.Context, c *Cluster, name string, qtype uint16, depth int) result {
	zone := h.zone()
	if name == zone {
		if qtype == dns.TypeSOA {
			return result{answer: []dns.RR{h.soa()}, exists: true}
		}
		return result{exists: true}
	}
	labels := dns.SplitDomainName(strings.TrimSuffix(name, "."+zone))
	n := len(labels)
	switch {
	case labels[n-1] == "svc" && n == 1:
		return result{exists: true}
	case labels[n-1] == "svc" && n == 2:
		return result{exists: c.hasNamespace(labels[0])}
	case labels[n-1] == "svc" && n == 3:
		return h.service(ctx, c, labels[0], labels[1], qtype, depth)
	case labels[n-1] == "svc" && n == 4:
		return h.endpointHost(c, labels[0], labels[1], labels[2], qtype)
	case labels[n-1] == "svc" && n == 5 && strings.HasPrefix(labels[0], "_") && strings.HasPrefix(labels[1], "_"):
		return h.srv(c, labels[0][1:], labels[1][1:], labels[2], labels[3], qtype)
	case labels[n-1] == "pod" && n == 3:
		return h.pod(name, labels[0], qtype)
	}
	return result{}
}

func (c *Cluster) hasNamespace(ns string) bool {
	for _, s := range c.services {
		if s.Namespace == ns {
			return true
		}
	}
	return false
}

// service answers <svc>.<ns>.svc.
func (h *Handler) service(ctx context.Context, c *Cluster, name, ns string, qtype uint16, depth int) result {
	s := c.services[ns+"/"+name]
	if s == nil {
		return result{}
	}
	owner := h.fqdn(serviceName(name, ns))
	if s.Spec.Type == corev1.ServiceTypeExternalName {
		return h.externalName(ctx, c, owner, s.Spec.ExternalName, qtype, depth)
	}
	if qtype == dns.TypeSRV {
		return h.srvAll(c, s, qtype)
	}
	var ips []netip.Addr
	if headless(s) {
		eps := c.endpoints(s)
		if len(eps) == 0 {
			return result{} // CoreDNS: a headless Service without endpoints is NXDOMAIN
		}
		for _, e := range eps {
			ips = append(ips, e.addr)
		}
	} else {
		ips = clusterIPs(s)
	}
	return result{answer: addressRRs(owner, ips, qtype), exists: true}
}

// externalName answers an ExternalName Service: a CNAME, followed to
// its addresses (in the cluster, or through the upstream resolvers) so
// that stub resolvers, which do not chase, get them.
func (h *Handler) externalName(ctx context.Context, c *Cluster, owner, target string, qtype uint16, depth int) result {
	target = strings.ToLower(dns.Fqdn(target))
	cname := &dns.CNAME{Hdr: header(owner, dns.TypeCNAME), Target: target}
	res := result{answer: []dns.RR{cname}, exists: true}
	if qtype == dns.TypeCNAME || depth >= maxChase {
		return res
	}
	if dns.IsSubDomain(h.zone(), target) {
		more := h.lookup(ctx, c, target, qtype, depth+1)
		res.answer = append(res.answer, more.answer...)
		res.extra = append(res.extra, more.extra...)
		return res
	}
	if h.Forward == nil {
		return res
	}
	q := new(dns.Msg)
	q.SetQuestion(target, qtype)
	if m, err := h.Forward.Exchange(ctx, q, "udp"); err == nil && m.Rcode == dns.RcodeSuccess {
		res.answer = append(res.answer, m.Answer...)
	}
	return res
}

// endpointHost answers <hostname>.<svc>.<ns>.svc: the endpoints of a
// headless Service named so (by their hostname, or their dashed address).
func (h *Handler) endpointHost(c *Cluster, host, name, ns string, qtype uint16) result {
	s := c.services[ns+"/"+name]
	if s == nil || !headless(s) {
		return result{}
	}
	var ips []netip.Addr
	for _, e := range c.endpoints(s) {
		if e.host == host {
			ips = append(ips, e.addr)
		}
	}
	if len(ips) == 0 {
		return result{}
	}
	owner := h.fqdn(host + "." + serviceName(name, ns))
	return result{answer: addressRRs(owner, ips, qtype), exists: true}
}

// srv answers _<port>._<proto>.<svc>.<ns>.svc: the named port of a
// Service, NXDOMAIN when it has none so named.
func (h *Handler) srv(c *Cluster, port, proto, name, ns string, qtype uint16) result {
	s := c.services[ns+"/"+name]
	if s == nil || s.Spec.Type == corev1.ServiceTypeExternalName {
		return result{}
	}
	res := h.srvRecords(c, s, h.fqdn("_"+port+"._"+proto+"."+serviceName(name, ns)), func(pname, pproto string) bool {
		return pname == port && pproto == proto
	})
	if !res.exists || qtype == dns.TypeSRV || qtype == dns.TypeANY {
		return res
	}
	return result{exists: true}
}

// srvAll answers SRV for a Service's own name: every named port.
func (h *Handler) srvAll(c *Cluster, s *corev1.Service, qtype uint16) result {
	res := h.srvRecords(c, s, h.fqdn(serviceName(s.Name, s.Namespace)), func(pname, _ string) bool { return pname != "" })
	res.exists = true
	return res
}

// srvRecords are the SRV records of s's ports that match, under owner:
// the Service's name and port for a ClusterIP, each ready endpoint's name
// and port for a headless Service; addresses of the targets go in extra.
func (h *Handler) srvRecords(c *Cluster, s *corev1.Service, owner string, match func(name, proto string) bool) result {
	var res result
	target := h.fqdn(serviceName(s.Name, s.Namespace))
	if !headless(s) {
		for _, p := range s.Spec.Ports {
			if match(strings.ToLower(p.Name), protocol(p.Protocol)) {
				res.answer = append(res.answer, &dns.SRV{Hdr: header(owner, dns.TypeSRV), Weight: 100, Port: uint16(p.Port), Target: target})
				res.exists = true
			}
		}
		if res.exists {
			res.extra = addressRRs(target, clusterIPs(s), dns.TypeANY)
		}
		return res
	}
	for _, e := range c.endpoints(s) {
		host := h.fqdn(e.host + "." + serviceName(s.Name, s.Namespace))
		for _, p := range e.ports {
			if p.Port == nil || p.Name == nil || !match(strings.ToLower(*p.Name), protocol(ptrOr(p.Protocol))) {
				continue
			}
			res.answer = append(res.answer, &dns.SRV{Hdr: header(owner, dns.TypeSRV), Weight: 100, Port: uint16(*p.Port), Target: host})
			res.extra = append(res.extra, addressRRs(host, []netip.Addr{e.addr}, dns.TypeANY)...)
			res.exists = true
		}
	}
	if n := len(res.answer); n > 1 {
		for _, rr := range res.answer {
			rr.(*dns.SRV).Weight = uint16(100 / n)
		}
	}
	return res
}

func ptrOr(p *corev1.Protocol) corev1.Protocol {
	if p == nil {
		return ""
	}
	return *p
}

// protocol is a port's protocol as an SRV label: tcp when unset.
func protocol(p corev1.Protocol) string {
	if p == "" {
		return "tcp"
	}
	return strings.ToLower(string(p))
}

// pod answers <a-b-c-d>.<ns>.pod: the address its label spells, as
// CoreDNS's "pods insecure" mode (kubeadm's default) does.
func (h *Handler) pod(owner, label string, qtype uint16) result {
	ip, ok := undashed(label)
	if !ok {
		return result{}
	}
	return result{answer: addressRRs(owner, []netip.Addr{ip}, qtype), exists: true}
}

// reverse answers a PTR query for a Service's or an endpoint's
// address; nil for others, which go upstream.
func (h *Handler) reverse(r *dns.Msg, name string) *dns.Msg {
	ip, ok := reverseAddr(name)
	if !ok {
		return nil
	}
	c, err := h.Source.Cluster()
	if err != nil || len(c.ptr[ip]) == 0 {
		return nil
	}
	m := reply(r, dns.RcodeSuccess)
	m.Authoritative = true
	for _, n := range c.ptr[ip] {
		m.Answer = append(m.Answer, &dns.PTR{Hdr: header(r.Question[0].Name, dns.TypePTR), Ptr: h.fqdn(n)})
	}
	return m
}

// reverseAddr reads the address of an in-addr.arpa or ip6.arpa name.
func reverseAddr(name string) (netip.Addr, bool) {
	labels := dns.SplitDomainName(name)
	switch {
	case strings.HasSuffix(name, ".in-addr.arpa.") && len(labels) == 6:
		var b [4]byte
		for i := range 4 {
			a, err := netip.ParseAddr("0.0.0." + labels[3-i])
			if err != nil {
				return netip.Addr{}, false
			}
			b[i] = a.As4()[3]
		}
		return netip.AddrFrom4(b), true
	case strings.HasSuffix(name, ".ip6.arpa.") && len(labels) == 34:
		var s strings.Builder
		for i := 31; i >= 0; i-- {
			if len(labels[i]) != 1 {
				return netip.Addr{}, false
			}
			s.WriteString(labels[i])
			if i%4 == 0 && i > 0 {
				s.WriteByte(':')
			}
		}
		a, err := netip.ParseAddr(s.String())
		return a, err == nil
	}
	return netip.Addr{}, false
}

// addressRRs are A records of ips' IPv4 addresses and AAAA of their IPv6
// ones, as qtype asks (both for ANY).
func addressRRs(owner string, ips []netip.Addr, qtype uint16) []dns.RR {
	var rrs []dns.RR
	for _, ip := range ips {
		switch {
		case ip.Is4() && (qtype == dns.TypeA || qtype == dns.TypeANY):
			rrs = append(rrs, &dns.A{Hdr: header(owner, dns.TypeA), A: net.IP(ip.AsSlice())})
		case ip.Is6() && (qtype == dns.TypeAAAA || qtype == dns.TypeANY):
			rrs = append(rrs, &dns.AAAA{Hdr: header(owner, dns.TypeAAAA), AAAA: net.IP(ip.AsSlice())})
		}
	}
	return rrs
}

func header(owner string, rrtype uint16) dns.RR_Header {
	return dns.RR_Header{Name: owner, Rrtype: rrtype, Class: dns.ClassINET, Ttl: ttl}
}

// fqdn is a name below the cluster domain, fully qualified.
func (h *Handler) fqdn(name string) string { return name + "." + h.zone() }

// soa is the cluster domain's SOA, whose minimum bounds how long a
// negative answer is cached.
func (h *Handler) soa() dns.RR {
	z := h.zone()
	return &dns.SOA{Hdr: header(z, dns.TypeSOA), Ns: "ns.dns." + z, Mbox: "hostmaster." + z,
		Serial: uint32(time.Now().Unix()), Refresh: 7200, Retry: 1800, Expire: 86400, Minttl: ttl}
}
