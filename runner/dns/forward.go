package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Forwarder asks the upstream resolvers, in order, until one answers.
type Forwarder struct {
	// Servers are the upstreams' addresses, host:port.
	Servers []string
	// Timeout bounds the wait for each upstream; zero is 2 s.
	Timeout time.Duration
}

// Upstreams are the resolvers a resolv.conf names, as host:port; a
// nameserver that is one of skip (the cluster DNS address itself) is left
// out, so that the resolver never asks itself.
func Upstreams(resolvConf []byte, skip ...netip.Addr) []string {
	var out []string
	for line := range strings.SplitSeq(string(resolvConf), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "nameserver" {
			continue
		}
		ip, err := netip.ParseAddr(f[1])
		if err != nil {
			continue
		}
		if slices.Contains(skip, ip.WithZone("")) {
			continue
		}
		out = append(out, net.JoinHostPort(ip.String(), "53"))
	}
	return out
}

// Exchange asks r of each upstream in turn over network ("udp" or
// "tcp"): the first answer wins. A truncated UDP answer is asked again
// over TCP. The error names every upstream's failure.
func (f *Forwarder) Exchange(ctx context.Context, r *dns.Msg, network string) (*dns.Msg, error) {
	if len(f.Servers) == 0 {
		return nil, errors.New("no upstream resolver: the resolv.conf names no nameserver")
	}
	timeout := f.Timeout
	if timeout == 0 {
		timeout = 2 * time.Second
	}
	var errs []error
	for _, server := range f.Servers {
		m, err := exchange(ctx, r, network, server, timeout)
		if err == nil && m.Truncated && network == "udp" {
			m, err = exchange(ctx, r, "tcp", server, timeout)
		}
		if err == nil {
			return m, nil
		}
		errs = append(errs, fmt.Errorf("asking %s over %s: %w", server, network, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

func exchange(ctx context.Context, r *dns.Msg, network, server string, timeout time.Duration) (*dns.Msg, error) {
	c := &dns.Client{Net: network, Timeout: timeout, UDPSize: dns.DefaultMsgSize}
	m, _, err := c.ExchangeContext(ctx, r, server)
	return m, err
}
