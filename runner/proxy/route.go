package proxy

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// routeProto marks the service range's route as podrun's: a routing
// protocol number that iproute2's rt_protos leaves unassigned.
const routeProto = netlink.RouteProtocol(0x50)

// rulePriority places the instance's routing rule just before the main
// table's (32766).
const rulePriority = 32000

// routeTable is the instance's own routing table: 0x50000000 plus 24 bits
// of a hash of the instance, far from the numbers people give theirs.
func routeTable(instance string) int {
	sum := sha256.Sum256([]byte("podrun route table " + instance))
	return 0x50000000 | int(binary.BigEndian.Uint32(sum[:4])&0xffffff)
}

// ensureRoute lets the host itself reach ClusterIPs even with no default
// route (an offline demo): locally originated packets to the service range
// ("iif lo", a routing rule of the instance's) are routed to the interface
// the endpoints are on, where nat OUTPUT DNATs them or filter OUTPUT
// rejects them. The rule does not apply to forwarded packets: a pod's
// packet routed back out the bridge it came in on would earn the pod an
// ICMP redirect (sent before the FORWARD hook), after which the pod would
// ARP for the ClusterIP itself instead of being rejected.
func ensureRoute(instance string, cidr netip.Prefix, dev string, ports []servicePort) error {
	link, err := podsLink(dev, ports)
	if err != nil || link == 0 {
		return err
	}
	table := routeTable(instance)
	r := &netlink.Route{Dst: ipNet(cidr), LinkIndex: link, Scope: netlink.SCOPE_LINK,
		Protocol: routeProto, Table: table}
	if err := netlink.RouteReplace(r); err != nil {
		return fmt.Errorf("routing the service range %s to the pods' interface: %w", cidr, err)
	}
	rules, err := ourRules(instance, cidr)
	if err != nil || len(rules) > 0 {
		return err
	}
	rule := netlink.NewRule()
	rule.Family, rule.Priority, rule.Table, rule.Dst, rule.IifName = unix.AF_INET, rulePriority, table, ipNet(cidr), "lo"
	if err := netlink.RuleAdd(rule); err != nil {
		_ = netlink.RouteDel(r)
		return fmt.Errorf("adding the routing rule for the service range %s: %w", cidr, err)
	}
	return nil
}

// podsLink is the index of interface dev, or else of the one reaching the
// first endpoint of ports; 0 when there is neither.
func podsLink(dev string, ports []servicePort) (int, error) {
	if dev != "" {
		l, err := netlink.LinkByName(dev)
		if err != nil {
			return 0, fmt.Errorf("finding the pods' interface %s: %w", dev, err)
		}
		return l.Attrs().Index, nil
	}
	for _, sp := range ports {
		if len(sp.Endpoints) == 0 {
			continue
		}
		ep := sp.Endpoints[0].Addr()
		routes, err := netlink.RouteGet(ep.AsSlice())
		if err != nil || len(routes) == 0 {
			return 0, fmt.Errorf("finding the route to endpoint %s: %v", ep, err)
		}
		return routes[0].LinkIndex, nil
	}
	return 0, nil
}

// ourRules are the instance's routing rules.
func ourRules(instance string, cidr netip.Prefix) ([]netlink.Rule, error) {
	all, err := netlink.RuleList(unix.AF_INET)
	if err != nil {
		return nil, fmt.Errorf("listing routing rules: %w", err)
	}
	var out []netlink.Rule
	for _, r := range all {
		if r.Table == routeTable(instance) && r.Dst != nil && r.Dst.String() == ipNet(cidr).String() {
			out = append(out, r)
		}
	}
	return out, nil
}

// removeRoute deletes what ensureRoute made, if it is there.
func removeRoute(instance string, cidr netip.Prefix) error {
	rules, err := ourRules(instance, cidr)
	if err != nil {
		return err
	}
	for _, r := range rules {
		if err := netlink.RuleDel(&r); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("removing the routing rule for the service range %s: %w", cidr, err)
		}
	}
	routes, err := netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: routeTable(instance)}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return fmt.Errorf("listing the routes of the service range %s: %w", cidr, err)
	}
	for _, r := range routes {
		if err := netlink.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("removing the route to the service range %s: %w", cidr, err)
		}
	}
	return nil
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}
