package kube

import (
	"strings"
	"testing"
)

func TestClusterDNSIP(t *testing.T) {
	for cidr, want := range map[string]string{
		DefaultServiceCIDR: "10.96.0.10",
		"10.201.7.0/24":    "10.201.7.10",
		"fd00:96::/112":    "fd00:96::a",
	} {
		p, err := ParseServiceCIDR(cidr)
		if err != nil {
			t.Fatalf("%s: %v", cidr, err)
		}
		if got := ClusterDNSIP(p).String(); got != want {
			t.Errorf("ClusterDNSIP(%s) = %s, want %s", cidr, got, want)
		}
	}
	for cidr, want := range map[string]string{
		"10.96.0.1/16": "did you mean 10.96.0.0/16",
		"10.96.0.0/29": "too small",
		"ten":          "service range",
	} {
		if _, err := ParseServiceCIDR(cidr); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseServiceCIDR(%s) = %v, want an error with %q", cidr, err, want)
		}
	}
}
