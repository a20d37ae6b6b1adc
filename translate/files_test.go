package translate

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// mustFile returns a function that takes a writer's results and returns
// its data, failing the test on an error.
func mustFile(t *testing.T) func([]byte, error) string {
	t.Helper()
	return func(data []byte, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
}

// injections are values that would add a line of their own, or cut one
// short, in a generated file.
var injections = []struct{ name, value string }{
	{"newline", "good\n6.6.6.6 evil"},
	{"carriage return", "good\r6.6.6.6 evil"},
	{"NUL", "good\x00"},
	{"tab", "good\tevil"},
	{"escape", "good\x1b[2J"},
	{"DEL", "good\x7f"},
	{"C1 next line", "good\u0085evil"},
}

// TestHostsFileRefusesControlCharacters calls hostsFile as if validation
// had been bypassed, with each injection in each value it writes.
func TestHostsFileRefusesControlCharacters(t *testing.T) {
	tests := []struct {
		name   string
		field  string
		inject func(pod *corev1.Pod, podIPs []string, hostname, domain *string, v string)
	}{
		{"alias hostname", "spec.hostAliases[1].hostnames[1]", func(pod *corev1.Pod, _ []string, _, _ *string, v string) {
			pod.Spec.HostAliases[1].Hostnames[1] = v
		}},
		{"alias ip", "spec.hostAliases[0].ip", func(pod *corev1.Pod, _ []string, _, _ *string, v string) { pod.Spec.HostAliases[0].IP = v }},
		{"hostname", "hostname", func(_ *corev1.Pod, _ []string, h, _ *string, v string) { *h = v }},
		{"domain", "domain", func(_ *corev1.Pod, _ []string, _, d *string, v string) { *d = v }},
		{"pod IP", "status.podIPs[0]", func(_ *corev1.Pod, ips []string, _, _ *string, v string) { ips[0] = v }},
	}
	for _, tt := range tests {
		for _, inj := range injections {
			for _, hostNetwork := range []bool{false, true} {
				name := tt.name + "/" + inj.name
				if hostNetwork {
					name += "/hostNetwork"
				}
				t.Run(name, func(t *testing.T) {
					pod := basePod()
					pod.Spec.HostNetwork = hostNetwork
					pod.Spec.HostAliases = []corev1.HostAlias{{IP: "10.1.1.1", Hostnames: []string{"a"}}, {IP: "10.1.1.2", Hostnames: []string{"b", "c"}}}
					podIPs, hostname, domain := []string{"10.90.0.5"}, "web", "sub.default.svc.cluster.local"
					tt.inject(pod, podIPs, &hostname, &domain, inj.value)
					data, err := hostsFile(pod, []byte("127.0.0.1 localhost\n"), podIPs, hostname, domain)
					checkRefusal(t, data, err, "writing /etc/hosts", tt.field, inj.value)
				})
			}
		}
	}
}

// TestResolvConfRefusesControlCharacters calls resolvConf as if
// validation had been bypassed, with each injection in each pod value it
// writes, and in the host's file.
func TestResolvConfRefusesControlCharacters(t *testing.T) {
	tests := []struct {
		name   string
		field  string
		inject func(c *corev1.PodDNSConfig, v string)
	}{
		{"option value", "spec.dnsConfig.options[1].value", func(c *corev1.PodDNSConfig, v string) { c.Options[1].Value = &v }},
		{"option name", "spec.dnsConfig.options[0].name", func(c *corev1.PodDNSConfig, v string) { c.Options[0].Name = v }},
		{"nameserver", "spec.dnsConfig.nameservers[0]", func(c *corev1.PodDNSConfig, v string) { c.Nameservers[0] = v }},
		{"search", "spec.dnsConfig.searches[1]", func(c *corev1.PodDNSConfig, v string) { c.Searches[1] = v }},
	}
	for _, tt := range tests {
		for _, inj := range injections {
			for _, policy := range []corev1.DNSPolicy{corev1.DNSNone, corev1.DNSDefault, corev1.DNSClusterFirst} {
				t.Run(tt.name+"/"+inj.name+"/"+string(policy), func(t *testing.T) {
					two := "2"
					c := &corev1.PodDNSConfig{
						Nameservers: []string{"10.0.0.10"},
						Searches:    []string{"a.example", "b.example"},
						Options:     []corev1.PodDNSConfigOption{{Name: "edns0"}, {Name: "ndots", Value: &two}},
					}
					tt.inject(c, inj.value)
					spec := &corev1.PodSpec{DNSPolicy: policy, DNSConfig: c}
					data, err := resolvConf(spec, "default", []byte("nameserver 192.168.1.1\n"), []string{"10.96.0.10"})
					checkRefusal(t, data, err, "writing /etc/resolv.conf", tt.field, inj.value)
				})
			}
		}
	}
	t.Run("host's file", func(t *testing.T) {
		spec := &corev1.PodSpec{DNSPolicy: corev1.DNSDefault}
		data, err := resolvConf(spec, "default", []byte("nameserver 192.168.1.1\x00\n"), []string{"10.96.0.10"})
		checkRefusal(t, data, err, "writing /etc/resolv.conf: reading the host's", "nameserver[0]", "192.168.1.1\x00")
	})
}

// TestHostnameRefusesControlCharacters covers /etc/hostname and the
// names podHostname takes from the pod.
func TestHostnameRefusesControlCharacters(t *testing.T) {
	for _, inj := range injections {
		t.Run("hostnameFile/"+inj.name, func(t *testing.T) {
			data, err := hostnameFile(inj.value)
			checkRefusal(t, data, err, "writing /etc/hostname", "hostname", inj.value)
		})
	}
	tests := []struct {
		name   string
		field  string
		inject func(pod *corev1.Pod, v string)
	}{
		{"spec.hostname", "spec.hostname", func(pod *corev1.Pod, v string) { pod.Spec.Hostname = v }},
		{"pod name", "metadata.name", func(pod *corev1.Pod, v string) { pod.Name = v }},
		{"spec.subdomain", "spec.subdomain", func(pod *corev1.Pod, v string) { pod.Spec.Subdomain = v }},
		{"namespace with a subdomain", "metadata.namespace", func(pod *corev1.Pod, v string) {
			pod.Spec.Subdomain = "sub"
			pod.Namespace = v
		}},
		{"spec.hostnameOverride", "spec.hostnameOverride", func(pod *corev1.Pod, v string) { pod.Spec.HostnameOverride = &v }},
	}
	for _, tt := range tests {
		for _, inj := range injections {
			t.Run(tt.name+"/"+inj.name, func(t *testing.T) {
				pod := basePod()
				tt.inject(pod, inj.value)
				_, _, err := podHostname(pod)
				checkRefusal(t, nil, err, "choosing the hostname", tt.field, inj.value)
			})
		}
	}
}

// TestPodRefusesControlCharacters checks that Pod returns the writers'
// refusals, naming the field once (the runner names the pod).
func TestPodRefusesControlCharacters(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(in *Input)
		want   string
	}{
		{"hostAliases", func(in *Input) {
			in.Pod.Spec.HostAliases = []corev1.HostAlias{{IP: "10.1.2.3", Hostnames: []string{"good\n6.6.6.6 evil"}}}
		}, `writing /etc/hosts: spec.hostAliases[0].hostnames[0]: "good\n6.6.6.6 evil": has a control character`},
		{"dnsConfig option", func(in *Input) {
			v := "1\nnameserver 6.6.6.6"
			in.Pod.Spec.DNSConfig = &corev1.PodDNSConfig{Options: []corev1.PodDNSConfigOption{{Name: "ndots", Value: &v}}}
		}, `writing /etc/resolv.conf: spec.dnsConfig.options[0].value: "1\nnameserver 6.6.6.6": has a control character`},
		{"hostname", func(in *Input) { in.Pod.Spec.Hostname = "a\rb" },
			`choosing the hostname: spec.hostname: "a\rb": has a control character`},
		{"node name on the host network", func(in *Input) {
			in.Pod.Spec.HostNetwork = true
			in.PodIP = ""
			in.Host.NodeName = "node1\n6.6.6.6 evil"
		}, `writing /etc/hostname: hostname: "node1\n6.6.6.6 evil": has a control character`},
		{"pod IP", func(in *Input) { in.PodIP = "10.90.0.5\n6.6.6.6 evil" },
			`writing /etc/hosts: status.podIPs[0]: "10.90.0.5\n6.6.6.6 evil": has a control character`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInput(basePod())
			tt.mutate(&in)
			plan, err := Pod(in)
			if !errors.Is(err, ErrControlCharacter) {
				t.Fatalf("error = %v, want %v", err, ErrControlCharacter)
			}
			if plan != nil {
				t.Error("Pod returned a plan with its error")
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n%q\nwant:\n%q", err, tt.want)
			}
		})
	}
}

// TestFilesAcceptValidValues checks that the writers leave what
// validation accepts alone.
func TestFilesAcceptValidValues(t *testing.T) {
	pod := basePod()
	pod.Spec.HostAliases = []corev1.HostAlias{{IP: "10.1.2.3", Hostnames: []string{"foo", "foo.local", "bar-1.example.com"}}, {IP: "2001:db8::1", Hostnames: []string{"v6"}}}
	hosts := mustFile(t)(hostsFile(pod, nil, []string{"10.90.0.5"}, "web", "sub.default.svc.cluster.local"))
	for _, want := range []string{"10.90.0.5\tweb.sub.default.svc.cluster.local\tweb\n", "10.1.2.3\tfoo\tfoo.local\tbar-1.example.com\n", "2001:db8::1\tv6\n"} {
		if !strings.Contains(hosts, want) {
			t.Errorf("/etc/hosts = %q, want a line %q", hosts, want)
		}
	}
	two, empty := "2", ""
	spec := &corev1.PodSpec{DNSPolicy: corev1.DNSNone, DNSConfig: &corev1.PodDNSConfig{
		Nameservers: []string{"10.0.0.10"},
		Searches:    []string{"example.com.", "my_corp.example"},
		Options:     []corev1.PodDNSConfigOption{{Name: "ndots", Value: &two}, {Name: "edns0"}, {Name: "timeout", Value: &empty}},
	}}
	got := mustFile(t)(resolvConf(spec, "default", nil, nil))
	want := "search example.com. my_corp.example\nnameserver 10.0.0.10\noptions ndots:2 edns0 timeout\n"
	if got != want {
		t.Errorf("resolv.conf = %q, want %q", got, want)
	}
	if got := mustFile(t)(hostnameFile("web-1")); got != "web-1\n" {
		t.Errorf("/etc/hostname = %q, want %q", got, "web-1\n")
	}
}

// checkRefusal checks that a writer refused value in field, with no data.
func checkRefusal(t *testing.T, data []byte, err error, prefix, field, value string) {
	t.Helper()
	if !errors.Is(err, ErrControlCharacter) {
		t.Fatalf("error = %v, want %v (data %q)", err, ErrControlCharacter, data)
	}
	if data != nil {
		t.Errorf("returned %q with its error", data)
	}
	want := prefix + ": " + field + ": " + strconv.Quote(value) + ": " + ErrControlCharacter.Error()
	if err.Error() != want {
		t.Errorf("error:\n%q\nwant:\n%q", err, want)
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != field {
		t.Errorf("error %q is not a FieldError about %s", err, field)
	}
}
