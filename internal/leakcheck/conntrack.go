package leakcheck

import (
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// conntrackLeaks lists the UDP flows whose original destination is in
// one of the test's virtual ranges (Options.VirtualRanges): a Service's
// proxy removes those of endpoints that go, so one still there once the
// test's Services are gone is a flow podrun forgot. TCP flows are left to
// the kernel's timers, as kube-proxy leaves them.
func (s *Snapshot) conntrackLeaks() ([]string, error) {
	if len(s.opts.VirtualRanges) == 0 {
		return nil, nil
	}
	flows, err := netlink.ConntrackTableList(netlink.ConntrackTable, netlink.FAMILY_V4)
	if err != nil {
		return nil, fmt.Errorf("listing conntrack flows: %w", err)
	}
	var leaks []string
	for _, f := range flows {
		if f.Forward.Protocol != 17 { // UDP
			continue
		}
		dst, ok := netip.AddrFromSlice(f.Forward.DstIP)
		if !ok {
			continue
		}
		for _, r := range s.opts.VirtualRanges {
			if r.Contains(dst.Unmap()) {
				leaks = append(leaks, "conntrack flow "+f.String())
				break
			}
		}
	}
	return leaks, nil
}
