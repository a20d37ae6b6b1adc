package kube

import (
	"strings"
	"testing"
)

// TestPodsRefuseInjection loads manifests whose names and addresses would
// add lines of their own to the pod's /etc/hosts, /etc/resolv.conf or
// /etc/hostname (real newlines and carriage returns, through YAML's
// double-quoted escapes), and checks that each is refused at its file,
// line and field path, as the API server refuses it, with no pod left to
// apply.
func TestPodsRefuseInjection(t *testing.T) {
	const ctrs = "  containers: [{name: a, image: busybox}]\n"
	tests := []struct {
		name string
		spec string // after podHead, from line 6
		want string
	}{{
		name: "hostAliases hostname with a newline",
		spec: "  hostAliases:\n  - ip: 10.1.2.3\n    hostnames: [\"good\\n6.6.6.6 evil\"]\n" + ctrs,
		want: `a.yaml:8: spec.hostAliases[0].hostnames[0]: Invalid value: "good\n6.6.6.6 evil": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
	}, {
		name: "hostAliases ip with a newline",
		spec: "  hostAliases:\n  - ip: \"10.1.2.3\\n6.6.6.6\"\n    hostnames: [good]\n" + ctrs,
		want: `a.yaml:7: spec.hostAliases[0].ip: Invalid value: "10.1.2.3\n6.6.6.6": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`,
	}, {
		name: "hostAliases second entry, second hostname",
		spec: "  hostAliases:\n  - ip: 10.1.2.3\n    hostnames: [a]\n  - ip: 10.1.2.4\n    hostnames:\n    - b\n    - \"c\\rd\"\n" + ctrs,
		want: `a.yaml:12: spec.hostAliases[1].hostnames[1]: Invalid value: "c\rd": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
	}, {
		name: "dnsConfig option value with a newline",
		spec: "  dnsConfig:\n    options:\n    - {name: ndots, value: \"1\\nnameserver 6.6.6.6\"}\n" + ctrs,
		want: `a.yaml:8: spec.dnsConfig.options[0].value: Invalid value: "1\nnameserver 6.6.6.6": must not contain control characters`,
	}, {
		name: "dnsConfig option name with a NUL",
		spec: "  dnsConfig:\n    options:\n    - name: \"ndots\\0\"\n" + ctrs,
		want: `a.yaml:8: spec.dnsConfig.options[0].name: Invalid value: "ndots\x00": must not contain control characters`,
	}, {
		name: "dnsConfig option without a name",
		spec: "  dnsConfig:\n    options:\n    - value: \"2\"\n" + ctrs,
		want: `a.yaml:8: spec.dnsConfig.options[0]: Required value: must not be empty`,
	}, {
		name: "dnsConfig nameserver with a zone that hides a newline",
		spec: "  dnsConfig:\n    nameservers: [\"fe80::1%x\\nnameserver 6.6.6.6\"]\n" + ctrs,
		want: `a.yaml:7: spec.dnsConfig.nameservers[0]: Invalid value: "fe80::1%x\nnameserver 6.6.6.6": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`,
	}, {
		name: "dnsConfig search with a tab",
		spec: "  dnsConfig:\n    searches: [\"a\\tb\"]\n" + ctrs,
		want: `a.yaml:7: spec.dnsConfig.searches[0]: Invalid value: "a\tb": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '_', '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '_?[a-z0-9]([-_a-z0-9]*[a-z0-9])?(\._?[a-z0-9]([-_a-z0-9]*[a-z0-9])?)*')`,
	}, {
		name: "hostname with a newline",
		spec: "  hostname: \"a\\nb\"\n" + ctrs,
		want: `a.yaml:6: spec.hostname: Invalid value: "a\nb": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
	}, {
		name: "hostname with a carriage return",
		spec: "  hostname: \"a\\rb\"\n" + ctrs,
		want: `a.yaml:6: spec.hostname: Invalid value: "a\rb": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
	}, {
		name: "subdomain with a newline",
		spec: "  subdomain: \"a\\nb\"\n" + ctrs,
		want: `a.yaml:6: spec.subdomain: Invalid value: "a\nb": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
	}, {
		name: "hostnameOverride with a newline",
		spec: "  hostnameOverride: \"a\\nb\"\n" + ctrs,
		want: `a.yaml:6: spec.hostnameOverride: Invalid value: "a\nb": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pods(t, Options{}, podHead+tt.spec)
			if err == nil {
				t.Fatalf("Pods returned %d pods and no error, want:\n%s", len(got), tt.want)
			}
			if len(got) != 0 {
				t.Errorf("Pods returned %d pods with its error; want none to apply", len(got))
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n%q\nwant:\n%q", err, tt.want)
			}
		})
	}
}

// TestPodsDNSLimitsAndRules covers the API server's other rules for the
// same fields: counts, lengths, addresses and the hostnameOverride
// combinations.
func TestPodsDNSLimitsAndRules(t *testing.T) {
	const ctrs = "  containers: [{name: a, image: busybox}]\n"
	long := strings.Repeat("a", 63)
	tests := []struct {
		name string
		spec string
		want string
	}{{
		name: "dnsPolicy None without nameservers",
		spec: "  dnsPolicy: None\n  dnsConfig:\n    searches: [example.com]\n" + ctrs,
		want: "a.yaml:7: spec.dnsConfig.nameservers: Required value: must provide at least one DNS nameserver when `dnsPolicy` is None",
	}, {
		name: "four nameservers",
		spec: "  dnsConfig:\n    nameservers: [1.1.1.1, 2.2.2.2, 3.3.3.3, 4.4.4.4]\n" + ctrs,
		want: `a.yaml:7: spec.dnsConfig.nameservers: Invalid value: ["1.1.1.1","2.2.2.2","3.3.3.3","4.4.4.4"]: must not have more than 3 nameservers`,
	}, {
		name: "nameserver with leading zeros or IPv4-mapped",
		spec: "  dnsConfig:\n    nameservers: [010.0.0.1, \"::ffff:1.2.3.4\"]\n" + ctrs,
		want: `a.yaml:7: spec.dnsConfig.nameservers[0]: Invalid value: "010.0.0.1": must not have leading 0s
a.yaml:7: spec.dnsConfig.nameservers[1]: Invalid value: "::ffff:1.2.3.4": must not be an IPv4-mapped IPv6 address`,
	}, {
		name: "33 searches",
		spec: "  dnsConfig:\n    searches: [" + strings.Repeat("a,", 32) + "a]\n" + ctrs,
		want: `a.yaml:7: spec.dnsConfig.searches: Invalid value: ["a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a"]: must not have more than 32 search paths`,
	}, {
		name: "search list over 2048 characters",
		spec: "  dnsConfig:\n    searches: [" + strings.Repeat(long+"."+long+"."+long+".x,", 11) + long + "]\n" + ctrs,
		want: "must not have more than 2048 characters (including spaces) in the search list",
	}, {
		name: "empty hostAliases ip",
		spec: "  hostAliases: [{hostnames: [a]}]\n" + ctrs,
		want: `a.yaml:6: spec.hostAliases[0].ip: Invalid value: "": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`,
	}, {
		name: "hostnameOverride too long, with setHostnameAsFQDN and hostNetwork",
		spec: "  hostNetwork: true\n  setHostnameAsFQDN: true\n  hostnameOverride: " + long + ".b\n" + ctrs,
		want: `a.yaml:7: spec.setHostnameAsFQDN: Invalid value: true: must not be true when ` + "`hostnameOverride`" + ` is set
a.yaml:8: spec.hostnameOverride: Too long: may not be more than 64 bytes
a.yaml:8: spec.hostnameOverride: Forbidden: may not be set when ` + "`hostNetwork`" + ` is true`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pods(t, Options{}, podHead+tt.spec)
			if err == nil {
				t.Fatalf("Pods returned %d pods and no error, want:\n%s", len(got), tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error:\n%s\nwant it to contain:\n%s", err, tt.want)
			}
		})
	}
}

// TestPodsAcceptValidNames checks that what the API server accepts for
// the same fields still loads.
func TestPodsAcceptValidNames(t *testing.T) {
	const ctrs = "  containers: [{name: a, image: busybox}]\n"
	tests := []struct{ name, spec string }{
		{"hostAliases with several hostnames", "  hostAliases:\n  - ip: 10.1.2.3\n    hostnames: [foo, foo.local, bar-1.example.com]\n  - ip: \"2001:db8::1\"\n    hostnames: [v6.example]\n" + ctrs},
		{"dnsConfig", "  dnsPolicy: None\n  dnsConfig:\n    nameservers: [10.0.0.10, \"2001:db8::53\"]\n    searches: [example.com., ns1.svc.cluster.local, my_corp.example, .]\n    options:\n    - {name: ndots, value: \"2\"}\n    - name: edns0\n    - {name: timeout, value: \"\"}\n" + ctrs},
		{"hostname and subdomain", "  hostname: web-1\n  subdomain: web\n  setHostnameAsFQDN: true\n" + ctrs},
		{"hostnameOverride", "  hostnameOverride: www.example.com\n" + ctrs},
		{"32 searches", "  dnsConfig:\n    searches: [" + strings.Repeat("a,", 31) + "a]\n" + ctrs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pods(t, Options{}, podHead+tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("Pods returned %d pods, want 1", len(got))
			}
		})
	}
}
