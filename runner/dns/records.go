package dns

import (
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// endpoint is one ready address of a Service, with the ports of the
// slice it is in.
type endpoint struct {
	addr  netip.Addr
	host  string // its hostname, or its address with dashes (10-0-0-1)
	ports []discoveryv1.EndpointPort
}

// endpoints are the addresses DNS names for s: those of its slices'
// ready endpoints (all of them when s publishes not-ready addresses), the
// first of each address kept.
func (c *Cluster) endpoints(s *corev1.Service) []endpoint {
	var eps []endpoint
	seen := map[string]bool{}
	for _, sl := range c.slices[s.Namespace+"/"+s.Name] {
		for _, e := range sl.Endpoints {
			if !s.Spec.PublishNotReadyAddresses && e.Conditions.Ready != nil && !*e.Conditions.Ready {
				continue
			}
			for _, a := range e.Addresses {
				ip, err := netip.ParseAddr(a)
				if err != nil {
					continue
				}
				ip = ip.Unmap()
				host := dashed(ip)
				if e.Hostname != nil && *e.Hostname != "" {
					host = strings.ToLower(*e.Hostname)
				}
				key := host + "/" + ip.String()
				if seen[key] {
					continue
				}
				seen[key] = true
				eps = append(eps, endpoint{addr: ip, host: host, ports: sl.Ports})
			}
		}
	}
	return eps
}

// dashed is the DNS label of an address: 10-0-0-1, or for IPv6 its
// colons as dashes (fd00--1).
func dashed(ip netip.Addr) string {
	return strings.NewReplacer(".", "-", ":", "-").Replace(ip.String())
}

// undashed reads a label made by dashed, as a pod's A record name has it.
func undashed(label string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(strings.ReplaceAll(label, "-", ".")); err == nil && ip.Is4() {
		return ip, true
	}
	if ip, err := netip.ParseAddr(strings.ReplaceAll(label, "-", ":")); err == nil && ip.Is6() {
		return ip, true
	}
	return netip.Addr{}, false
}

// headless says s has no ClusterIP: its name answers its endpoints.
func headless(s *corev1.Service) bool { return s.Spec.ClusterIP == corev1.ClusterIPNone }

// clusterIPs are the addresses of a Service that has them.
func clusterIPs(s *corev1.Service) []netip.Addr {
	ips := s.Spec.ClusterIPs
	if len(ips) == 0 && s.Spec.ClusterIP != "" {
		ips = []string{s.Spec.ClusterIP}
	}
	var out []netip.Addr
	for _, a := range ips {
		if ip, err := netip.ParseAddr(a); err == nil {
			out = append(out, ip.Unmap())
		}
	}
	return out
}

// serviceName is a Service's name below the cluster domain, without it:
// web.default.svc.
func serviceName(name, namespace string) string {
	return strings.ToLower(name + "." + namespace + ".svc")
}
