package monitor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	goruntime "runtime"
	"syscall"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
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
	ns, err := netns.GetFromPath(nsPath)
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
// namespace pinned at nsPath, from a thread locked in it, as dialIn does:
// a socket keeps the namespace it was made in.
func listenDNS(nsPath, addr string) (net.PacketConn, net.Listener, error) {
	type result struct {
		pc  net.PacketConn
		l   net.Listener
		err error
	}
	done := make(chan result, 1)
	go func() {
		goruntime.LockOSThread()
		var r result
		restored, err := inNetns(nsPath, func() error {
			var err error
			lc := net.ListenConfig{Control: shareable}
			if r.pc, err = lc.ListenPacket(context.Background(), "udp", addr); err != nil {
				return err
			}
			if r.l, err = lc.Listen(context.Background(), "tcp", addr); err != nil {
				r.pc.Close()
				return err
			}
			return nil
		})
		if restored {
			goruntime.UnlockOSThread()
		}
		r.err = err
		done <- r
	}()
	r := <-done
	return r.pc, r.l, r.err
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

// inNetns runs fn on the current (locked) thread inside the namespace at
// nsPath. restored reports whether the thread is back in its own
// namespace.
func inNetns(nsPath string, fn func() error) (restored bool, err error) {
	self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		return true, fmt.Errorf("opening this thread's network namespace: %w", err)
	}
	defer self.Close()
	target, err := os.Open(nsPath)
	if err != nil {
		return true, fmt.Errorf("opening the pod's network namespace: %w", err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return true, fmt.Errorf("entering the pod's network namespace: %w", err)
	}
	err = fn()
	restored = unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil
	return restored, err
}
