package monitor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/podrun/podrun/runner/netns"

	mdns "github.com/miekg/dns"
	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/dns"
	"github.com/podrun/podrun/runner/state"
)

// serveDNS answers the pod's DNS queries at the cluster DNS address, on
// sockets opened inside the pod's network namespace, until stop is
// called: the address is added to the pod's loopback device, so that
// queries to it never leave the pod, and every pod has a resolver of its
// own that lives and dies with its monitor. The monitor itself is in the
// host's network namespace, so names outside the cluster are forwarded
// from the host's side, to the host's resolvers, loopback ones included.
// A pod without cluster DNS (d nil, or the host's network) gets nothing.
func (m *monitor) serveDNS(d *state.DNS) (stop func(), err error) {
	if d == nil || m.netns == "" {
		return func() {}, nil
	}
	addr, err := netip.ParseAddr(d.Addr)
	if err != nil {
		return nil, fmt.Errorf("serving cluster DNS: the pod's state names address %q: %w", d.Addr, err)
	}
	if err := addLoopbackAddr(m.netns, addr); err != nil {
		return nil, fmt.Errorf("serving cluster DNS at %s: %w", addr, err)
	}
	pc, l, err := listenDNS(m.netns, netip.AddrPortFrom(addr, 53).String())
	if err != nil {
		return nil, fmt.Errorf("serving cluster DNS at %s in the pod's network namespace: %w", addr, err)
	}
	resolv, err := os.ReadFile(d.ResolvConf)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		m.cfg.Log.Warn("reading the upstream resolvers; names outside the cluster will fail", "file", d.ResolvConf, "err", err)
	}
	h := &dns.Handler{
		Source:  dns.NewStore(d.Objects),
		Domain:  kube.ClusterDomain,
		Forward: &dns.Forwarder{Servers: dns.Upstreams(resolv, addr)},
		Log:     m.cfg.Log,
	}
	servers := []*mdns.Server{{PacketConn: pc, Handler: h, UDPSize: mdns.DefaultMsgSize}, {Listener: l, Handler: h}}
	for _, s := range servers {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		go func() {
			if err := s.ActivateAndServe(); err != nil {
				m.cfg.Log.Warn("serving cluster DNS", "err", err)
			}
		}()
		select {
		case <-started:
		case <-time.After(5 * time.Second):
		}
	}
	return func() {
		for _, s := range servers {
			_ = s.Shutdown()
		}
	}, nil
}

// addLoopbackAddr adds addr, as a host address, to the loopback device
// of the network namespace pinned at nsPath, and sets the device up (as
// CNI's loopback plugin does; a network configuration may lack it). The
// address is there already when a monitor serves a pod a second time.
func addLoopbackAddr(nsPath string, addr netip.Addr) error {
	ns, err := vnetns.GetFromPath(nsPath)
	if err != nil {
		return fmt.Errorf("opening the pod's network namespace: %w", err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return fmt.Errorf("opening netlink in the pod's network namespace: %w", err)
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("finding the pod's loopback device: %w", err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		return fmt.Errorf("setting the pod's loopback device up: %w", err)
	}
	ipn := &net.IPNet{IP: net.IP(addr.AsSlice()), Mask: net.CIDRMask(addr.BitLen(), addr.BitLen())}
	if err := h.AddrAdd(lo, &netlink.Addr{IPNet: ipn}); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("adding %s to the pod's loopback device: %w", addr, err)
	}
	return nil
}

// listenDNS opens a UDP and a TCP socket bound to addr inside the network
// namespace pinned at nsPath (netns.Do).
func listenDNS(nsPath, addr string) (pc net.PacketConn, l net.Listener, err error) {
	err = netns.Do(nsPath, func() error {
		lc := net.ListenConfig{Control: shareable}
		if pc, err = lc.ListenPacket(context.Background(), "udp", addr); err != nil {
			return err
		}
		if l, err = lc.Listen(context.Background(), "tcp", addr); err != nil {
			pc.Close()
			return err
		}
		return nil
	})
	return pc, l, err
}

// shareable sets SO_REUSEADDR and SO_REUSEPORT on a resolver socket, so
// that a container of the pod can still bind port 53 on every address
// (0.0.0.0:53) when it sets one of them (UDP) or SO_REUSEPORT (TCP), as
// CoreDNS does: in a cluster the pod's network has no cluster DNS
// address to collide with. The kernel still gives queries to the cluster
// DNS address to the socket bound to it.
func shareable(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		for _, opt := range []int{unix.SO_REUSEADDR, unix.SO_REUSEPORT} {
			if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, opt, 1); serr != nil {
				return
			}
		}
	})
	if err != nil {
		return err
	}
	return serr
}
