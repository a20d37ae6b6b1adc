package kube

import (
	"fmt"
	"net/netip"
)

// The cluster podrun plays: one node, kube-apiserver's and the kubelet's
// defaults for the service range and the DNS domain.
const (
	// DefaultServiceCIDR is kube-apiserver's --service-cluster-ip-range
	// default, from which Services get their ClusterIPs.
	DefaultServiceCIDR = "10.96.0.0/16"
	// ClusterDomain is the kubelet's --cluster-domain.
	ClusterDomain = "cluster.local"
)

// ParseServiceCIDR reads a service range: an IPv4 or IPv6 prefix with room
// for the cluster DNS address (ClusterDNSIP) and Services beside it.
func ParseServiceCIDR(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("service range %q: %w", s, err)
	}
	if p != p.Masked() {
		return netip.Prefix{}, fmt.Errorf("service range %q: not a network address (did you mean %s?)", s, p.Masked())
	}
	if p.Addr().BitLen()-p.Bits() < 4 {
		return netip.Prefix{}, fmt.Errorf("service range %q: too small, want at least 16 addresses", s)
	}
	return p, nil
}

// ClusterDNSIP is the address of the cluster's DNS Service in cidr: the
// tenth, as kubeadm and kind choose it (10.96.0.10 in the default range).
// Pods with dnsPolicy ClusterFirst name it in their resolv.conf.
func ClusterDNSIP(cidr netip.Prefix) netip.Addr {
	a := cidr.Masked().Addr()
	for range 10 {
		a = a.Next()
	}
	return a
}
