package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A lab is a machine in miniature, made of network namespaces the test
// owns: a "node" with a bridge (10.200.0.1/24), an uplink holding the
// default route (whose counter shows any packet routed out), and
// "pods" attached to the bridge by veths, each at 10.200.0.(10+i) with a
// TCP server on 8080 and a UDP echo on 5353 that answer with the pod's
// name. The uplink is a veth to a namespace of its own standing for the
// world outside. Every namespace is deleted at cleanup.
type lab struct {
	node string
	out  string
	pods []string
	ips  []netip.Addr
}

var labSeq atomic.Int64

// needRoot skips without root or the tools, except under CI=true.
func needRoot(t testing.TB) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "needs root"
	}
	for _, tool := range []string{"ip", "iptables-save", "iptables-restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			why = tool + " is not installed (make deps)"
		}
	}
	if why == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s, and CI=true", why)
	}
	t.Skip(why)
}

func newLab(t testing.TB, npods int) *lab {
	needRoot(t)
	id := fmt.Sprintf("px%d-%d", os.Getpid(), labSeq.Add(1))
	l := &lab{node: id + "-node"}
	out := id + "-out"
	l.out = out
	for _, ns := range []string{l.node, out} {
		ip(t, "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
		// No IPv6 chatter (router solicitations, MLD) on the uplink's counter.
		sysctl(t, ns, "net.ipv6.conf.default.disable_ipv6", "1")
		sysctl(t, ns, "net.ipv6.conf.all.disable_ipv6", "1")
	}
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"link", "add", "br0", "type", "bridge"},
		{"addr", "add", "10.200.0.1/24", "dev", "br0"},
		{"link", "set", "br0", "up"},
		{"link", "add", "up0", "address", "02:00:00:00:00:01", "type", "veth", "peer", "name", "eth0", "address", "02:00:00:00:00:02", "netns", out},
		{"addr", "add", "192.0.2.1/24", "dev", "up0"},
		{"link", "set", "up0", "up"},
		{"neigh", "add", "192.0.2.2", "lladdr", "02:00:00:00:00:02", "dev", "up0", "nud", "permanent"},
		{"route", "add", "default", "via", "192.0.2.2"},
	} {
		ip(t, append([]string{"-n", l.node}, args...)...)
	}
	ip(t, "-n", out, "addr", "add", "192.0.2.2/24", "dev", "eth0")
	ip(t, "-n", out, "link", "set", "eth0", "up")
	ip(t, "-n", out, "link", "set", "lo", "up")
	sysctl(t, l.node, "net.ipv4.ip_forward", "1")
	for i := range npods {
		pod := fmt.Sprintf("%s-pod%d", id, i)
		addr := netip.AddrFrom4([4]byte{10, 200, 0, byte(10 + i)})
		ip(t, "netns", "add", pod)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", pod).Run() })
		veth := fmt.Sprintf("vp%d", i)
		ip(t, "-n", l.node, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", pod)
		ip(t, "-n", l.node, "link", "set", veth, "master", "br0", "up")
		ip(t, "-n", l.node, "link", "set", veth, "type", "bridge_slave", "hairpin", "on")
		ip(t, "-n", pod, "link", "set", "lo", "up")
		ip(t, "-n", pod, "addr", "add", addr.String()+"/24", "dev", "eth0")
		ip(t, "-n", pod, "link", "set", "eth0", "up")
		ip(t, "-n", pod, "route", "add", "default", "via", "10.200.0.1")
		l.pods = append(l.pods, pod)
		l.ips = append(l.ips, addr)
		l.serve(t, i)
	}
	return l
}

func ip(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func sysctl(t testing.TB, ns, key, value string) {
	t.Helper()
	if out, err := exec.Command("ip", "netns", "exec", ns, "sysctl", "-qw", key+"="+value).CombinedOutput(); err != nil {
		t.Fatalf("sysctl %s in %s: %v: %s", key, ns, err, out)
	}
}

// in runs fn on a thread of its own inside network namespace ns: sockets
// it opens, netlink requests and processes it starts live there. The
// thread is never unlocked, so it ends with fn.
func in(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("opening netns %s: %w", ns, err)
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("entering netns %s: %w", ns, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// serve starts pod i's servers.
func (l *lab) serve(t testing.TB, i int) {
	name := fmt.Sprintf("pod%d", i)
	var ln net.Listener
	var pc net.PacketConn
	err := in(l.pods[i], func() (err error) {
		if ln, err = net.Listen("tcp4", ":8080"); err != nil {
			return err
		}
		pc, err = net.ListenPacket("udp4", ":5353")
		return err
	})
	if err != nil {
		t.Fatalf("starting the servers of %s: %v", name, err)
	}
	t.Cleanup(func() { ln.Close(); pc.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "%s\n", name)
			c.Close()
		}
	}()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo([]byte(name+" "+string(buf[:n])), from)
		}
	}()
}

// fetch connects from ns to addr over TCP and returns the first line the
// server sends.
func fetch(ns, addr string) (string, error) {
	var line string
	err := in(ns, func() error {
		c, err := net.DialTimeout("tcp4", addr, 3*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(3 * time.Second))
		line, err = bufio.NewReader(c).ReadString('\n')
		line = strings.TrimSpace(line)
		return err
	})
	return line, err
}

// proxyIn runs a Proxy's methods in the lab's node namespace.
type proxyIn struct {
	ns string
	p  *Proxy
}

func (l *lab) proxy(t testing.TB, cfg Config) *proxyIn {
	t.Helper()
	if cfg.Instance == "" {
		cfg.Instance = "t"
	}
	if !cfg.ServiceCIDR.IsValid() {
		cfg.ServiceCIDR = netip.MustParsePrefix("10.96.0.0/16")
	}
	if cfg.StateDir == "" {
		cfg.StateDir = t.TempDir()
	}
	var p *Proxy
	if err := in(l.node, func() (err error) { p, err = New(cfg); return err }); err != nil {
		t.Fatal(err)
	}
	return &proxyIn{ns: l.node, p: p}
}

func (pi *proxyIn) sync(t testing.TB, svcs svcSet) {
	t.Helper()
	if err := in(pi.ns, func() error { return pi.p.Sync(context.Background(), svcs.services, svcs.slices) }); err != nil {
		t.Fatalf("Sync: %v", err)
	}
}

func (pi *proxyIn) teardown(t testing.TB) {
	t.Helper()
	if err := in(pi.ns, func() error { return pi.p.Teardown(context.Background()) }); err != nil {
		t.Fatalf("Teardown: %v", err)
	}
}

// tables is the node's nat and filter tables as iptables-save prints them,
// without its comment lines and counters, which change on their own.
func (l *lab) tables(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", l.node, "sh", "-c", "iptables-save -t nat; iptables-save -t filter").CombinedOutput()
	if err != nil {
		t.Fatalf("iptables-save: %v: %s", err, out)
	}
	var keep []string
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(line, "#") {
			keep = append(keep, counters.ReplaceAllString(line, "[0:0]"))
		}
	}
	return strings.Join(keep, "\n")
}

// routes is the node's IPv4 routing tables and rules.
func (l *lab) routes(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("sh", "-c", "ip -n "+l.node+" -4 route show table all; ip -n "+l.node+" -4 rule").CombinedOutput()
	if err != nil {
		t.Fatalf("ip route: %v: %s", err, out)
	}
	return string(out)
}

var counters = regexp.MustCompile(`\[\d+:\d+\]`)

// uplinkPackets is how many packets the node sent out of its uplink.
func (l *lab) uplinkPackets(t testing.TB) int {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", l.node, "cat", "/sys/class/net/up0/statistics/tx_packets").Output()
	if err != nil {
		t.Fatalf("reading the uplink's counter: %v", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// refusedAtOnce asserts that connecting from ns to addr fails with
// ECONNREFUSED well before any timeout.
func refusedAtOnce(t *testing.T, ns, addr string) {
	t.Helper()
	start := time.Now()
	_, err := fetch(ns, addr)
	if !errors.Is(err, unix.ECONNREFUSED) {
		t.Fatalf("connecting to %s: got %v, want connection refused", addr, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("connecting to %s was refused after %v, want at once", addr, d)
	}
}
