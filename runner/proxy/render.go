package proxy

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// masqMark is the packet mark bit that asks the instance's POSTROUTING
// chain to masquerade, kube-proxy's bit. The bridge plugin's portmap uses
// 0x2000, so the two never meet.
const masqMark = "0x4000"

// plan is everything one instance's rules depend on.
type plan struct {
	Instance string
	CIDR     netip.Prefix
	Publish  netip.Addr
	Ports    []servicePort
}

// jump is a rule in a built-in chain that sends packets into the
// instance's chains: the only rules podrun adds outside its own chains.
type jump struct {
	Table, From, To string
}

// names builds the instance's chain names: "PODRUN-<instance>-<what>",
// at most 28 characters for an instance of at most 8.
type names string

func (n names) prefix() string            { return "PODRUN-" + string(n) + "-" }
func (n names) services() string          { return n.prefix() + "SERVICES" }
func (n names) nodePorts() string         { return n.prefix() + "NODEPORTS" }
func (n names) postrouting() string       { return n.prefix() + "POSTROUTING" }
func (n names) markMasq() string          { return n.prefix() + "MARK-MASQ" }
func (n names) filter() string            { return n.prefix() + "FILTER" }
func (n names) comment() string           { return "podrun " + string(n) }
func (n names) svc(sp servicePort) string { return n.prefix() + "SVC-" + n.hash(sp.String()) }
func (n names) sep(sp servicePort, ep netip.AddrPort) string {
	return n.prefix() + "SEP-" + n.hash(sp.String()+" "+ep.String())
}

// hash is 8 base32 characters (40 bits) of key's SHA-256, the instance
// mixed in: unique enough among one instance's few hundred chains.
func (n names) hash(key string) string {
	sum := sha256.Sum256([]byte(string(n) + "\x00" + key))
	return base32.StdEncoding.EncodeToString(sum[:])[:8]
}

// jumps are the instance's entry points, each inserted first in its
// built-in chain: before the CNI plugins' rules, whose ACCEPTs (the bridge
// plugin's masquerade chain, the firewall plugin's forward chain) would
// otherwise end the traversal before the instance's rules are reached.
func (n names) jumps() []jump {
	return []jump{
		{"nat", "PREROUTING", n.services()},
		{"nat", "OUTPUT", n.services()},
		{"nat", "POSTROUTING", n.postrouting()},
		{"filter", "INPUT", n.filter()},
		{"filter", "FORWARD", n.filter()},
		{"filter", "OUTPUT", n.filter()},
	}
}

// renderSync is the iptables-restore --noflush input that makes the
// instance's rules exactly p, given what cur says is there now: its
// chains are declared (which flushes them) and refilled, chains no longer
// needed are deleted, and missing jumps are inserted first in their
// chains. A jump that a rule of someone else's has since come before (the
// firewall plugin inserts its own first, once) is moved back to the top,
// so that the service range is rejected before anything accepts it. One input, applied
// by the kernel as one transaction.
func renderSync(p plan, cur saved) []byte {
	n := names(p.Instance)
	var nat, filter ruleSet
	nat.chain(n.services())
	nat.chain(n.nodePorts())
	nat.chain(n.postrouting())
	nat.chain(n.markMasq())
	filter.chain(n.filter())

	nat.add("-A %s -j MARK --or-mark %s", n.markMasq(), masqMark)
	nat.add("-A %s -m mark ! --mark %s/%s -j RETURN", n.postrouting(), masqMark, masqMark)
	nat.add("-A %s -j MARK --xor-mark %s", n.postrouting(), masqMark)
	nat.add("-A %s -m comment --comment %q -j MASQUERADE --random-fully", n.postrouting(), n.comment()+": service traffic")

	for _, sp := range p.Ports {
		renderPort(&nat, &filter, n, p.Publish, sp)
	}
	nat.add("-A %s -m addrtype --dst-type LOCAL -j %s", n.services(), n.nodePorts())
	if p.Publish.IsLoopback() || p.Publish.IsUnspecified() {
		// route_localnet lets 127.0.0.1 be DNATed to a pod; as kube-proxy
		// does, drop what it would otherwise let in from outside.
		filter.add("-A %s -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -m comment --comment %q -j DROP",
			n.filter(), n.comment()+": martian to localhost")
	}
	filter.add("-A %s -d %s -m comment --comment %q -j REJECT", n.filter(), p.CIDR, n.comment()+": service range stays on this machine")

	var b strings.Builder
	writeTable(&b, "nat", nat, cur, n)
	writeTable(&b, "filter", filter, cur, n)
	return []byte(b.String())
}

// renderPort adds one service port's rules: its service chain reached from
// the cluster IP and from the host ports, an endpoint chain per ready
// endpoint, or, with none ready, rejects in filter.
func renderPort(nat, filter *ruleSet, n names, publish netip.Addr, sp servicePort) {
	proto := strings.ToLower(string(sp.Protocol))
	match := fmt.Sprintf("-p %s -m %s", proto, proto)
	var hostPorts []int32
	if sp.NodePort != 0 {
		hostPorts = append(hostPorts, sp.NodePort)
	}
	if sp.LoadBalancer {
		hostPorts = append(hostPorts, sp.Port)
	}
	dst := "-m addrtype --dst-type LOCAL"
	if !publish.IsUnspecified() {
		dst = "-d " + netip.PrefixFrom(publish, publish.BitLen()).String()
	}
	if len(sp.Endpoints) == 0 {
		filter.add("-A %s -d %s/32 %s --dport %d -m comment --comment %q -j REJECT", n.filter(), sp.VIP, match, sp.Port, sp.Name+" has no endpoints")
		for _, hp := range hostPorts {
			filter.add("-A %s %s %s --dport %d -m comment --comment %q -j REJECT", n.filter(), dst, match, hp, sp.Name+" host port has no endpoints")
		}
		return
	}
	svc := n.svc(sp)
	nat.chain(svc)
	nat.add("-A %s -d %s/32 %s --dport %d -m comment --comment %q -j %s", n.services(), sp.VIP, match, sp.Port, sp.Name+" cluster IP", svc)
	for _, hp := range hostPorts {
		nat.add("-A %s %s %s --dport %d -m comment --comment %q -j %s", n.nodePorts(), dst, match, hp, sp.Name+" host port", svc)
	}
	// Every connection through a Service is masqueraded: the endpoint may
	// be on the client's own bridge (or be the client), and would answer it
	// directly, bypassing the conntrack entry that undoes the DNAT.
	nat.add("-A %s -j %s", svc, n.markMasq())
	if sp.Affinity > 0 {
		for _, ep := range sp.Endpoints {
			sep := n.sep(sp, ep)
			nat.add("-A %s -m recent --name %s --rcheck --seconds %d --reap -j %s", svc, sep, sp.Affinity, sep)
		}
	}
	for i, ep := range sp.Endpoints {
		sep := n.sep(sp, ep)
		nat.chain(sep)
		left := len(sp.Endpoints) - i
		if left > 1 {
			nat.add("-A %s -m comment --comment %q -m statistic --mode random --probability %s -j %s", svc, sp.Name+" -> "+ep.String(), probability(left), sep)
		} else {
			nat.add("-A %s -m comment --comment %q -j %s", svc, sp.Name+" -> "+ep.String(), sep)
		}
		recent := ""
		if sp.Affinity > 0 {
			recent = " -m recent --name " + sep + " --set"
		}
		nat.add("-A %s %s%s -j DNAT --to-destination %s", sep, match, recent, ep)
	}
}

// probability is the chance that the first of left endpoints takes a new
// connection, so that each of them gets 1/left of what reaches it.
func probability(left int) string {
	return fmt.Sprintf("%0.10f", 1.0/float64(left))
}

// ruleSet is one table's part of a restore input.
type ruleSet struct {
	chains []string
	rules  []string
}

func (r *ruleSet) chain(name string) { r.chains = append(r.chains, name) }
func (r *ruleSet) add(format string, args ...any) {
	r.rules = append(r.rules, fmt.Sprintf(format, args...))
}

// writeTable writes table's part: declarations of wanted and stale chains,
// the rules, missing jumps, then deletion of the stale chains.
func writeTable(b *strings.Builder, table string, r ruleSet, cur saved, n names) {
	wanted := map[string]bool{}
	for _, c := range r.chains {
		wanted[c] = true
	}
	var stale []string
	for _, c := range cur.ownChains(table, n.prefix()) {
		if !wanted[c] {
			stale = append(stale, c)
		}
	}
	fmt.Fprintf(b, "*%s\n", table)
	for _, c := range append(slices.Clone(r.chains), stale...) {
		fmt.Fprintf(b, ":%s - [0:0]\n", c)
	}
	for _, rule := range r.rules {
		b.WriteString(rule + "\n")
	}
	for _, j := range n.jumps() {
		if j.Table != table {
			continue
		}
		st, line := cur.jump(j)
		if st == jumpFirst {
			continue
		}
		if st == jumpLate {
			b.WriteString("-D " + strings.TrimPrefix(line, "-A ") + "\n")
		}
		fmt.Fprintf(b, "-I %s 1 -m comment --comment %q -j %s\n", j.From, n.comment(), j.To)
	}
	for _, c := range stale {
		fmt.Fprintf(b, "-X %s\n", c)
	}
	b.WriteString("COMMIT\n")
}

// renderTeardown is the restore input that removes every rule and chain
// of the instance that cur shows, or nil when there is none: the rules
// elsewhere that jump to its chains, then the chains.
func renderTeardown(instance string, cur saved) []byte {
	n := names(instance)
	var b strings.Builder
	for _, table := range []string{"nat", "filter"} {
		own := cur.ownChains(table, n.prefix())
		refs := cur.refsTo(table, n.prefix())
		if len(own) == 0 && len(refs) == 0 {
			continue
		}
		fmt.Fprintf(&b, "*%s\n", table)
		for _, c := range own {
			fmt.Fprintf(&b, ":%s - [0:0]\n", c)
		}
		for _, r := range refs {
			b.WriteString("-D " + strings.TrimPrefix(r, "-A ") + "\n")
		}
		for _, c := range own {
			fmt.Fprintf(&b, "-X %s\n", c)
		}
		b.WriteString("COMMIT\n")
	}
	if b.Len() == 0 {
		return nil
	}
	return []byte(b.String())
}

// protoNumber is the IP protocol number of p, for conntrack.
func protoNumber(p corev1.Protocol) uint8 {
	switch p {
	case corev1.ProtocolUDP:
		return 17
	case corev1.ProtocolSCTP:
		return 132
	}
	return 6
}
