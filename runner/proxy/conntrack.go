package proxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/runner/state"
)

// udpPortsFile, in StateDir, lists the UDP host ports the last Sync
// published, so that the next one can clear flows to those it no longer
// publishes.
const udpPortsFile = "udp-host-ports.json"

// clearStaleFlows deletes the UDP conntrack entries that were DNATed, to a
// cluster IP in the service range or to one of the instance's host ports,
// towards an endpoint that is no longer a ready endpoint of that port. A
// UDP "connection" lives as long as packets flow, so without this a client
// would keep sending to a gone endpoint (kube-proxy does the same).
// Through netlink rather than the conntrack tool: no package to install,
// no process per entry, and it works in whatever network namespace the
// caller runs in.
func (p *Proxy) clearStaleFlows(ports []servicePort) error {
	vips := map[netip.AddrPort][]netip.AddrPort{}
	hosts := map[uint16][]netip.AddrPort{}
	for _, sp := range ports {
		if sp.Protocol != corev1.ProtocolUDP {
			continue
		}
		vips[netip.AddrPortFrom(sp.VIP, uint16(sp.Port))] = sp.Endpoints
		if sp.NodePort != 0 {
			hosts[uint16(sp.NodePort)] = sp.Endpoints
		}
		if sp.LoadBalancer {
			hosts[uint16(sp.Port)] = sp.Endpoints
		}
	}
	prev, err := p.readUDPPorts()
	if err != nil {
		return err
	}
	for _, hp := range prev {
		if _, ok := hosts[hp]; !ok {
			hosts[hp] = nil
		}
	}
	f := staleFilter{cidr: p.cfg.ServiceCIDR, publish: p.cfg.PublishAddress, vips: vips, hosts: hosts}
	n, err := netlink.ConntrackDeleteFilters(netlink.ConntrackTable, netlink.FAMILY_V4, f)
	if err != nil {
		return fmt.Errorf("clearing stale UDP conntrack entries of instance %s: %w", p.cfg.Instance, err)
	}
	if n > 0 {
		p.cfg.Log.Info("cleared stale UDP conntrack entries", "instance", p.cfg.Instance, "count", n)
	}
	var now []uint16
	for _, sp := range ports {
		if sp.Protocol == corev1.ProtocolUDP && sp.NodePort != 0 {
			now = append(now, uint16(sp.NodePort))
		}
		if sp.Protocol == corev1.ProtocolUDP && sp.LoadBalancer {
			now = append(now, uint16(sp.Port))
		}
	}
	return p.writeUDPPorts(now)
}

// staleFilter matches the UDP flows clearStaleFlows deletes.
type staleFilter struct {
	cidr    netip.Prefix
	publish netip.Addr
	vips    map[netip.AddrPort][]netip.AddrPort
	hosts   map[uint16][]netip.AddrPort
}

func (f staleFilter) MatchConntrackFlow(flow *netlink.ConntrackFlow) bool {
	if flow.Forward.Protocol != protoNumber(corev1.ProtocolUDP) {
		return false
	}
	dst, ok1 := addrPort(flow.Forward.DstIP, flow.Forward.DstPort)
	replier, ok2 := addrPort(flow.Reverse.SrcIP, flow.Reverse.SrcPort)
	if !ok1 || !ok2 || dst == replier {
		return false // not DNATed
	}
	if f.cidr.Contains(dst.Addr()) {
		return !slices.Contains(f.vips[dst], replier)
	}
	eps, ok := f.hosts[dst.Port()]
	if !ok || (!f.publish.IsUnspecified() && dst.Addr() != f.publish) {
		return false
	}
	return !slices.Contains(eps, replier)
}

func addrPort(ip net.IP, port uint16) (netip.AddrPort, bool) {
	a, ok := netip.AddrFromSlice(ip)
	return netip.AddrPortFrom(a.Unmap(), port), ok
}

func (p *Proxy) readUDPPorts() ([]uint16, error) {
	if p.cfg.StateDir == "" {
		return nil, nil
	}
	b, err := os.ReadFile(filepath.Join(p.cfg.StateDir, udpPortsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the service proxy's state: %w", err)
	}
	var ports []uint16
	if err := json.Unmarshal(b, &ports); err != nil {
		p.cfg.Log.Warn("ignoring an unreadable service proxy state file", "file", filepath.Join(p.cfg.StateDir, udpPortsFile), "err", err)
		return nil, nil
	}
	return ports, nil
}

func (p *Proxy) writeUDPPorts(ports []uint16) error {
	if p.cfg.StateDir == "" {
		return nil
	}
	path := filepath.Join(p.cfg.StateDir, udpPortsFile)
	if len(ports) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, unix.ENOTDIR) {
			return fmt.Errorf("updating the service proxy's state: %w", err)
		}
		return nil
	}
	b, _ := json.Marshal(ports)
	if err := state.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("updating the service proxy's state: %w", err)
	}
	return nil
}

// deviceTo is the name of the interface the route to ip goes out of.
func deviceTo(ip netip.Addr) (string, error) {
	routes, err := netlink.RouteGet(ip.AsSlice())
	if err != nil || len(routes) == 0 {
		return "", fmt.Errorf("finding the route to endpoint %s: %v", ip, err)
	}
	link, err := netlink.LinkByIndex(routes[0].LinkIndex)
	if err != nil {
		return "", fmt.Errorf("finding the interface to endpoint %s: %w", ip, err)
	}
	return link.Attrs().Name, nil
}
