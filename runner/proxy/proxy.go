package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/podrun/podrun/runner/flock"
)

// Config is one proxy instance: the rules of one run root.
type Config struct {
	// Instance names the instance in its chain names and rule comments:
	// 1 to 8 lowercase letters and digits, e.g. a short hash of the run
	// root. Two instances with different names never touch each other's
	// rules.
	Instance string
	// ServiceCIDR is the service range, all of it kept on this machine.
	// Only IPv4 is proxied.
	ServiceCIDR netip.Prefix
	// PublishAddress is where NodePorts and LoadBalancer ports are
	// published: 127.0.0.1 when invalid (the zero value), 0.0.0.0 for every
	// local address.
	PublishAddress netip.Addr
	// StateDir holds the instance's lock and what one Sync tells the next
	// (the UDP host ports published). Empty: no lock, and UDP flows to host
	// ports of Services deleted since are left to time out.
	StateDir string
	// Interface is the pods' interface on the host (the CNI bridge), where
	// the host's own packets to the service range are routed. Empty: the
	// interface that reaches the first endpoint, once there is one.
	Interface string
	// Log receives what the proxy skips and cleans; nil discards.
	Log *slog.Logger
	// Exec runs iptables-save and iptables-restore; nil runs them with
	// os/exec.
	Exec Runner
}

// Runner runs one command, stdin fed from stdin, and returns its stdout.
// A failure carries the command line, exit status and stderr.
type Runner interface {
	Run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error)
}

// Proxy keeps one instance's rules in line with its Services.
type Proxy struct {
	cfg  Config
	sctp bool
}

var instanceRE = regexp.MustCompile(`^[a-z0-9]{1,8}$`)

// ErrInvalidConfig is returned by New for a Config it cannot work with.
var ErrInvalidConfig = errors.New("invalid service proxy configuration")

// New checks cfg and probes the kernel for SCTP.
func New(cfg Config) (*Proxy, error) {
	if !instanceRE.MatchString(cfg.Instance) {
		return nil, fmt.Errorf("%w: instance %q: want 1 to 8 lowercase letters or digits", ErrInvalidConfig, cfg.Instance)
	}
	if !cfg.ServiceCIDR.IsValid() || !cfg.ServiceCIDR.Addr().Is4() || cfg.ServiceCIDR != cfg.ServiceCIDR.Masked() {
		return nil, fmt.Errorf("%w: service range %s: want an IPv4 network address such as 10.96.0.0/16", ErrInvalidConfig, cfg.ServiceCIDR)
	}
	if !cfg.PublishAddress.IsValid() {
		cfg.PublishAddress = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	if !cfg.PublishAddress.Is4() {
		return nil, fmt.Errorf("%w: publish address %s: want an IPv4 address (0.0.0.0 for all)", ErrInvalidConfig, cfg.PublishAddress)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Exec == nil {
		cfg.Exec = osExec{}
	}
	p := &Proxy{cfg: cfg, sctp: haveSCTP()}
	if !p.sctp {
		cfg.Log.Info("the kernel has no SCTP: SCTP service ports will not be proxied")
	}
	return p, nil
}

// haveSCTP reports whether the kernel can make an SCTP socket.
func haveSCTP() bool {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_SCTP)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}

// Sync makes the instance's rules serve exactly services through slices
// (all of the run root's, every time), in one iptables-restore
// transaction, then removes UDP conntrack entries that point at endpoints
// no longer ready. With no Service left it is Teardown. The rules go in
// as one transaction or not at all; a failure after them (the route, the
// conntrack clean-up) leaves them applied, as they are what is wanted, and
// the next Sync or Teardown completes the rest.
func (p *Proxy) Sync(ctx context.Context, services []*corev1.Service, slices []*discoveryv1.EndpointSlice) error {
	return p.sync(ctx, services, slices, false)
}

// Guard is Sync with no Service, keeping the rules that serve none: the
// service range rejected, so that a packet to a ClusterIP of a Service
// just deleted is refused here and never routed out, while the run root
// still has pods that might send one.
func (p *Proxy) Guard(ctx context.Context) error {
	return p.sync(ctx, nil, nil, true)
}

func (p *Proxy) sync(ctx context.Context, services []*corev1.Service, slices []*discoveryv1.EndpointSlice, guard bool) error {
	unlock, err := p.lock(ctx, true)
	if err != nil {
		return err
	}
	defer unlock()
	ports := buildPorts(services, slices, p.sctp, p.cfg.Log)
	if len(ports) == 0 && !guard {
		return p.teardown(ctx)
	}
	cur, err := p.save(ctx)
	if err != nil {
		return err
	}
	in := renderSync(plan{Instance: p.cfg.Instance, CIDR: p.cfg.ServiceCIDR, Publish: p.cfg.PublishAddress, Ports: ports}, cur)
	if err := p.restore(ctx, in); err != nil {
		return fmt.Errorf("applying the service rules of instance %s: %w", p.cfg.Instance, err)
	}
	if err := ensureRoute(p.cfg.Instance, p.cfg.ServiceCIDR, p.cfg.Interface, ports); err != nil {
		return err
	}
	if p.cfg.PublishAddress.IsLoopback() || p.cfg.PublishAddress.IsUnspecified() {
		if err := routeLocalnet(ports); err != nil {
			return fmt.Errorf("publishing service ports on %s: %w", p.cfg.PublishAddress, err)
		}
	}
	return p.clearStaleFlows(ports)
}

// Teardown removes every rule and chain of the instance and the UDP
// conntrack entries it made, and the routing rule and table of the
// instance. What is already gone is success; it needs nothing but the
// kernel's tables, so it works after a crash of everything. It creates
// nothing: a StateDir already removed stays removed.
func (p *Proxy) Teardown(ctx context.Context) error {
	unlock, err := p.lock(ctx, false)
	if err != nil {
		return err
	}
	defer unlock()
	return p.teardown(ctx)
}

func (p *Proxy) teardown(ctx context.Context) error {
	cur, err := p.save(ctx)
	if err != nil {
		return err
	}
	if in := renderTeardown(p.cfg.Instance, cur); in != nil {
		if err := p.restore(ctx, in); err != nil {
			return fmt.Errorf("removing the service rules of instance %s: %w", p.cfg.Instance, err)
		}
	}
	if err := removeRoute(p.cfg.Instance, p.cfg.ServiceCIDR); err != nil {
		return err
	}
	return p.clearStaleFlows(nil)
}

// lock takes the instance's lock in StateDir, if there is one, making the
// directory if create.
func (p *Proxy) lock(ctx context.Context, create bool) (func(), error) {
	if p.cfg.StateDir == "" {
		return func() {}, nil
	}
	if _, err := os.Stat(p.cfg.StateDir); err != nil && !create {
		return func() {}, nil
	}
	if err := os.MkdirAll(p.cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("making the service proxy's state directory: %w", err)
	}
	l, err := flock.Exclusive(ctx, filepath.Join(p.cfg.StateDir, "proxy.lock"))
	if err != nil {
		return nil, fmt.Errorf("locking the service proxy of instance %s: %w", p.cfg.Instance, err)
	}
	return func() { _ = l.Unlock() }, nil
}

// save reads the nat and filter tables.
func (p *Proxy) save(ctx context.Context) (saved, error) {
	var all strings.Builder
	for _, table := range []string{"nat", "filter"} {
		out, err := p.cfg.Exec.Run(ctx, nil, "iptables-save", "-t", table)
		if err != nil {
			return saved{}, fmt.Errorf("reading the iptables %s table (is iptables installed? make deps): %w", table, err)
		}
		all.Write(out)
	}
	return parseSave(all.String()), nil
}

// restore applies in without flushing what it does not name.
func (p *Proxy) restore(ctx context.Context, in []byte) error {
	_, err := p.cfg.Exec.Run(ctx, in, "iptables-restore", "--wait", "--noflush")
	return err
}

// routeLocalnet lets packets from 127.0.0.1, DNATed to an endpoint, leave
// through the interface that reaches it (the pods' bridge), as the portmap
// plugin does for hostPorts: net.ipv4.conf.<dev>.route_localnet=1 on those
// interfaces only.
func routeLocalnet(ports []servicePort) error {
	done := map[string]bool{}
	for _, sp := range ports {
		if sp.NodePort == 0 && !sp.LoadBalancer {
			continue
		}
		for _, ep := range sp.Endpoints {
			dev, err := deviceTo(ep.Addr())
			if err != nil {
				return err
			}
			if done[dev] || dev == "lo" {
				continue
			}
			done[dev] = true
			path := filepath.Join("/proc/sys/net/ipv4/conf", dev, "route_localnet")
			if err := os.WriteFile(path, []byte("1"), 0o644); err != nil {
				return fmt.Errorf("setting %s: %w", path, err)
			}
		}
	}
	return nil
}

// osExec runs commands with os/exec.
type osExec struct{}

func (osExec) Run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
