package translate

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ClusterDomain is the cluster domain podrun pretends to be in, used for a
// pod's FQDN when it names a subdomain (as kubeadm configures the kubelet).
const ClusterDomain = "cluster.local"

// maxHostnameLen is the kernel's limit, which the kubelet enforces.
const maxHostnameLen = 63

// podHostname returns the hostname and domain of a pod as the kubelet
// computes them: spec.hostnameOverride if set (no domain); else
// spec.hostname, else the pod name, cut to 63 characters without a
// trailing '-' or '.'; the domain is <subdomain>.<namespace>.svc.<cluster
// domain> when spec.subdomain is set.
//
// A name with a control character is refused: it would split /etc/hosts
// and go into the UTS namespace as it is.
func podHostname(pod *corev1.Pod) (hostname, domain string, err error) {
	if o := pod.Spec.HostnameOverride; o != nil && *o != "" {
		if err := refuseControl(field.NewPath("spec", "hostnameOverride"), *o); err != nil {
			return "", "", fmt.Errorf("choosing the hostname: %w", err)
		}
		return *o, "", nil
	}
	hostname, from := pod.Name, field.NewPath("metadata", "name")
	if pod.Spec.Hostname != "" {
		hostname, from = pod.Spec.Hostname, field.NewPath("spec", "hostname")
	}
	if err := refuseControls(
		fieldValue{from, hostname},
		fieldValue{field.NewPath("spec", "subdomain"), pod.Spec.Subdomain},
		fieldValue{field.NewPath("metadata", "namespace"), pod.Namespace},
	); err != nil {
		return "", "", fmt.Errorf("choosing the hostname: %w", err)
	}
	if len(hostname) > maxHostnameLen {
		hostname = strings.TrimRight(hostname[:maxHostnameLen], "-.")
		if hostname == "" {
			return "", "", fieldErrorf(from, "cannot make a hostname of pod name %q", pod.Name)
		}
	}
	if pod.Spec.Subdomain != "" {
		domain = fmt.Sprintf("%s.%s.svc.%s", pod.Spec.Subdomain, pod.Namespace, ClusterDomain)
	}
	return hostname, domain, nil
}

// kernelHostname is the name set in the pod's UTS namespace: the FQDN when
// spec.setHostnameAsFQDN asks for it and there is a domain, else the
// hostname.
func kernelHostname(pod *corev1.Pod, hostname, domain string) (string, error) {
	if pod.Spec.SetHostnameAsFQDN == nil || !*pod.Spec.SetHostnameAsFQDN || domain == "" {
		return hostname, nil
	}
	fqdn := hostname + "." + domain
	if len(fqdn) > maxHostnameLen+1 {
		return "", fieldErrorf(field.NewPath("spec", "setHostnameAsFQDN"), "FQDN %q is longer than %d characters", fqdn, maxHostnameLen+1)
	}
	return fqdn, nil
}

// podFiles are the pod's /etc/hostname (holding name, the hostname in its
// UTS namespace or the node's on the host network), /etc/hosts and
// /etc/resolv.conf.
func podFiles(in Input, name string, podIPs []string, hostname, domain string) ([]File, error) {
	hostnameData, err := hostnameFile(name)
	if err != nil {
		return nil, err
	}
	hosts, err := hostsFile(in.Pod, in.Host.Hosts, podIPs, hostname, domain)
	if err != nil {
		return nil, err
	}
	resolv, err := resolvConf(&in.Pod.Spec, in.Pod.Namespace, in.Host.ResolvConf, in.Host.ClusterDNS)
	if err != nil {
		return nil, err
	}
	return []File{
		{Path: in.Layout.EtcFile("hostname"), Data: hostnameData, Mode: 0o644},
		{Path: in.Layout.EtcFile("hosts"), Data: hosts, Mode: 0o644},
		{Path: in.Layout.EtcFile("resolv.conf"), Data: resolv, Mode: 0o644},
	}, nil
}

// hostsFile is the kubelet's Kubernetes-managed /etc/hosts. A pod on the
// host network gets the host's file under its own header; other pods get
// localhost entries and a line for their IP and hostname (with the FQDN
// first when the pod has a domain). spec.hostAliases follow in both cases.
// Every value written is checked for control characters (refuseControl);
// the host's own file is copied as it is.
func hostsFile(pod *corev1.Pod, hostHosts []byte, podIPs []string, hostname, domain string) ([]byte, error) {
	if err := refuseControls(hostsValues(pod, podIPs, hostname, domain)...); err != nil {
		return nil, fmt.Errorf("writing /etc/hosts: %w", err)
	}
	var b bytes.Buffer
	if pod.Spec.HostNetwork {
		b.WriteString("# Kubernetes-managed hosts file (host network).\n")
		b.Write(hostHosts)
	} else {
		b.WriteString("# Kubernetes-managed hosts file.\n")
		b.WriteString("127.0.0.1\tlocalhost\n")
		b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
		b.WriteString("fe00::0\tip6-localnet\n")
		b.WriteString("fe00::0\tip6-mcastprefix\n")
		b.WriteString("fe00::1\tip6-allnodes\n")
		b.WriteString("fe00::2\tip6-allrouters\n")
		for _, ip := range podIPs {
			if domain != "" {
				fmt.Fprintf(&b, "%s\t%s.%s\t%s\n", ip, hostname, domain, hostname)
			} else {
				fmt.Fprintf(&b, "%s\t%s\n", ip, hostname)
			}
		}
	}
	if len(pod.Spec.HostAliases) > 0 {
		b.WriteString("\n# Entries added by HostAliases.\n")
		for _, a := range pod.Spec.HostAliases {
			fmt.Fprintf(&b, "%s\t%s\n", a.IP, strings.Join(a.Hostnames, "\t"))
		}
	}
	return b.Bytes(), nil
}

// hostsValues are the values hostsFile writes, named by their fields.
func hostsValues(pod *corev1.Pod, podIPs []string, hostname, domain string) []fieldValue {
	vals := []fieldValue{{field.NewPath("hostname"), hostname}, {field.NewPath("domain"), domain}}
	for i, ip := range podIPs {
		vals = append(vals, fieldValue{field.NewPath("status", "podIPs").Index(i), ip})
	}
	for i, a := range pod.Spec.HostAliases {
		ap := field.NewPath("spec", "hostAliases").Index(i)
		vals = append(vals, fieldValue{ap.Child("ip"), a.IP})
		for j, h := range a.Hostnames {
			vals = append(vals, fieldValue{ap.Child("hostnames").Index(j), h})
		}
	}
	return vals
}

// hostnameFile is /etc/hostname: the name and a newline.
func hostnameFile(hostname string) ([]byte, error) {
	if err := refuseControl(field.NewPath("hostname"), hostname); err != nil {
		return nil, fmt.Errorf("writing /etc/hostname: %w", err)
	}
	return []byte(hostname + "\n"), nil
}

// fieldValue is a value bound for a generated file, and the field it
// comes from.
type fieldValue struct {
	path  *field.Path
	value string
}

// refuseControl refuses a value bound for a generated file that holds a
// control character (newline, carriage return, tab, NUL, other C0 and C1
// codes, DEL): a newline would give it a line of its own, such as
// "6.6.6.6 evil" in /etc/hosts or "nameserver 6.6.6.6" in
// /etc/resolv.conf. kube's validation refuses such values first; this is
// the writers' own guard, whatever validation missed.
func refuseControl(p *field.Path, value string) error {
	if strings.IndexFunc(value, unicode.IsControl) < 0 {
		return nil
	}
	return fieldErrorf(p, "%q: %w", value, ErrControlCharacter)
}

// refuseControls is refuseControl over values, the first refusal wins.
func refuseControls(vals ...fieldValue) error {
	for _, v := range vals {
		if err := refuseControl(v.path, v.value); err != nil {
			return err
		}
	}
	return nil
}

// dnsConfig is a resolver configuration, as the kubelet hands it to the
// runtime.
type dnsConfig struct {
	Servers, Searches, Options []string
}

// Limits the kubelet applies to a pod's resolver configuration.
const (
	maxDNSNameservers     = 3
	maxDNSSearchPaths     = 32
	maxDNSSearchListChars = 2048
	maxDNSSearchLen       = 253
)

// resolvConf is the pod's /etc/resolv.conf, as the kubelet makes it.
// A pod whose resolver is the cluster's (ClusterDNS) names the cluster
// DNS addresses, searches <namespace>.svc.<domain>, svc.<domain> and
// <domain> before the host's search domains, and sets ndots:5 in place of
// the host's options. Default, and ClusterFirst on the host network (or
// with no cluster DNS), take the host's resolver configuration; None
// starts empty. spec.dnsConfig is then merged in: nameservers and
// searches appended without duplicates, options merged by name with the
// pod's values winning. The kubelet's limits apply (3 nameservers, 32
// search domains, 2048 characters of search line). Like containerd, an
// empty result means a copy of the host's file. A value with a control
// character is refused (refuseControl), the pod's with its field path.
func resolvConf(spec *corev1.PodSpec, namespace string, host []byte, clusterDNS []string) ([]byte, error) {
	if err := refuseControls(dnsConfigValues(spec.DNSConfig)...); err != nil {
		return nil, fmt.Errorf("writing /etc/resolv.conf: %w", err)
	}
	var cfg dnsConfig
	if spec.DNSPolicy != corev1.DNSNone {
		cfg = parseResolvConf(host)
	}
	if ClusterDNS(spec) && len(clusterDNS) > 0 {
		cfg.Servers = slices.Clone(clusterDNS)
		cfg.Searches = appendUnique([]string{namespace + ".svc." + ClusterDomain, "svc." + ClusterDomain, ClusterDomain}, cfg.Searches...)
		cfg.Options = []string{"ndots:5"}
	}
	if d := spec.DNSConfig; d != nil {
		cfg.Servers = appendUnique(cfg.Servers, d.Nameservers...)
		cfg.Searches = appendUnique(cfg.Searches, d.Searches...)
		cfg.Options = mergeDNSOptions(cfg.Options, d.Options)
	}
	cfg = fitDNSLimits(cfg)
	if err := refuseControls(cfg.values()...); err != nil {
		return nil, fmt.Errorf("writing /etc/resolv.conf: reading the host's: %w", err)
	}
	var b bytes.Buffer
	if len(cfg.Searches) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(cfg.Searches, " "))
	}
	for _, s := range cfg.Servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	if len(cfg.Options) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(cfg.Options, " "))
	}
	if b.Len() == 0 {
		return slices.Clone(host), nil
	}
	return b.Bytes(), nil
}

// ClusterDNS says a pod's resolver is the cluster's DNS: dnsPolicy
// ClusterFirst (the default) or ClusterFirstWithHostNet, on a network of
// its own. The kubelet gives ClusterFirstWithHostNet pods on the host
// network the cluster DNS too; podrun serves it inside each pod's own
// network namespace (runner/dns), where a host-network pod is not, so
// those pods get the host's configuration, as ClusterFirst ones on the
// host network do.
func ClusterDNS(spec *corev1.PodSpec) bool {
	switch spec.DNSPolicy {
	case corev1.DNSClusterFirst, corev1.DNSClusterFirstWithHostNet, "":
		return !spec.HostNetwork
	}
	return false
}

// dnsConfigValues are the values of a pod's dnsConfig, named by their
// fields.
func dnsConfigValues(c *corev1.PodDNSConfig) []fieldValue {
	if c == nil {
		return nil
	}
	p := field.NewPath("spec", "dnsConfig")
	var vals []fieldValue
	for i, s := range c.Nameservers {
		vals = append(vals, fieldValue{p.Child("nameservers").Index(i), s})
	}
	for i, s := range c.Searches {
		vals = append(vals, fieldValue{p.Child("searches").Index(i), s})
	}
	for i, o := range c.Options {
		vals = append(vals, fieldValue{p.Child("options").Index(i).Child("name"), o.Name})
		if o.Value != nil {
			vals = append(vals, fieldValue{p.Child("options").Index(i).Child("value"), *o.Value})
		}
	}
	return vals
}

// values are the merged configuration's values, which once the pod's
// have passed can only hold a control character from the host's file.
func (c dnsConfig) values() []fieldValue {
	var vals []fieldValue
	for _, list := range []struct {
		name string
		vs   []string
	}{{"nameserver", c.Servers}, {"search", c.Searches}, {"options", c.Options}} {
		for i, v := range list.vs {
			vals = append(vals, fieldValue{field.NewPath(list.name).Index(i), v})
		}
	}
	return vals
}

// parseResolvConf reads a resolv.conf as the kubelet does: nameserver lines
// accumulate, the last search line and the last options line win, search
// domains lose a trailing dot and "." is dropped.
func parseResolvConf(data []byte) dnsConfig {
	var cfg dnsConfig
	for line := range strings.SplitSeq(string(data), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "nameserver":
			if len(f) >= 2 {
				cfg.Servers = append(cfg.Servers, f[1])
			}
		case "search":
			cfg.Searches = nil
			for _, s := range f[1:] {
				if s != "." {
					cfg.Searches = append(cfg.Searches, strings.TrimSuffix(s, "."))
				}
			}
		case "options":
			cfg.Options = slices.Clone(f[1:])
		}
	}
	return cfg
}

func appendUnique(list []string, more ...string) []string {
	var out []string
	for _, s := range append(slices.Clone(list), more...) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// mergeDNSOptions merges pod options over host options by name. The
// kubelet goes through a map, so its order is random; here an option keeps
// the place where its name first appeared.
func mergeDNSOptions(base []string, pod []corev1.PodDNSConfigOption) []string {
	var names []string
	values := map[string]string{}
	set := func(name, value string) {
		if _, ok := values[name]; !ok {
			names = append(names, name)
		}
		values[name] = value
	}
	for _, o := range base {
		name, value, _ := strings.Cut(o, ":")
		set(name, value)
	}
	for _, o := range pod {
		value := ""
		if o.Value != nil {
			value = *o.Value
		}
		set(o.Name, value)
	}
	var out []string
	for _, n := range names {
		if values[n] != "" {
			out = append(out, n+":"+values[n])
		} else {
			out = append(out, n)
		}
	}
	return out
}

func fitDNSLimits(cfg dnsConfig) dnsConfig {
	if len(cfg.Servers) > maxDNSNameservers {
		cfg.Servers = cfg.Servers[:maxDNSNameservers]
	}
	if len(cfg.Searches) > maxDNSSearchPaths {
		cfg.Searches = cfg.Searches[:maxDNSSearchPaths]
	}
	cfg.Searches = slices.DeleteFunc(slices.Clone(cfg.Searches), func(s string) bool { return len(s) > maxDNSSearchLen })
	for len(cfg.Searches) > 0 && len(strings.Join(cfg.Searches, " ")) > maxDNSSearchListChars {
		cfg.Searches = cfg.Searches[:len(cfg.Searches)-1]
	}
	return cfg
}
