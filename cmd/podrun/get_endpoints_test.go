package main

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

func TestEndpointColumns(t *testing.T) {
	addrs := func(ips ...string) []corev1.EndpointAddress {
		var out []corev1.EndpointAddress
		for _, ip := range ips {
			out = append(out, corev1.EndpointAddress{IP: ip})
		}
		return out
	}
	for _, tc := range []struct {
		name string
		ep   corev1.Endpoints
		want string
	}{
		{"none", corev1.Endpoints{}, "<none>"},
		{"only not ready", corev1.Endpoints{Subsets: []corev1.EndpointSubset{{NotReadyAddresses: addrs("10.1.0.2"), Ports: []corev1.EndpointPort{{Port: 80}}}}}, "<none>"},
		{"two", corev1.Endpoints{Subsets: []corev1.EndpointSubset{{Addresses: addrs("10.1.0.5", "10.1.0.6"), Ports: []corev1.EndpointPort{{Port: 80}}}}}, "10.1.0.5:80,10.1.0.6:80"},
		{"more", corev1.Endpoints{Subsets: []corev1.EndpointSubset{{Addresses: addrs("10.1.0.5", "10.1.0.6"), Ports: []corev1.EndpointPort{{Port: 80}, {Port: 443}}}}},
			"10.1.0.5:80,10.1.0.6:80,10.1.0.5:443 + 1 more..."},
		{"headless without ports", corev1.Endpoints{Subsets: []corev1.EndpointSubset{{Addresses: addrs("10.1.0.5")}}}, "10.1.0.5"},
		{"IPv6", corev1.Endpoints{Subsets: []corev1.EndpointSubset{{Addresses: addrs("fd00::5"), Ports: []corev1.EndpointPort{{Port: 80}}}}}, "[fd00::5]:80"},
	} {
		if got := formatEndpoints(&tc.ep); got != tc.want {
			t.Errorf("%s: ENDPOINTS %q, want %q", tc.name, got, tc.want)
		}
	}
	p := func(n int32) discoveryv1.EndpointPort { return discoveryv1.EndpointPort{Port: &n} }
	s := &discoveryv1.EndpointSlice{
		Ports:     []discoveryv1.EndpointPort{p(80), p(81), p(82), p(83)},
		Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.1.0.2"}}, {Addresses: []string{"10.1.0.3"}}},
	}
	if got := slicePorts(s); got != "80,81,82 + 1 more..." {
		t.Errorf("PORTS %q", got)
	}
	if got := sliceAddresses(s); got != "10.1.0.2,10.1.0.3" {
		t.Errorf("slice ENDPOINTS %q", got)
	}
	if got := sliceAddresses(&discoveryv1.EndpointSlice{}); got != "<unset>" {
		t.Errorf("empty slice ENDPOINTS %q", got)
	}
}
