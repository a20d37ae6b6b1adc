package kube

import (
	"fmt"
	"strings"
	"unicode"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The checks below follow the API server's (k8s.io/kubernetes
// pkg/apis/core/validation: ValidatePodSpec, validatePodDNSConfig,
// ValidateHostAliases), with its wording, for the names and addresses
// podrun writes into a pod's /etc/hostname, /etc/hosts and
// /etc/resolv.conf and its UTS hostname. They keep a value from carrying
// a line of its own into those files ("good\n6.6.6.6 evil"). Where the API
// server has no rule (dnsConfig options), control characters are refused.

// Limits on a pod's resolver configuration, as the API server's
// MaxDNSNameservers, MaxDNSSearchPaths and MaxDNSSearchListChars.
const (
	maxNameservers     = 3
	maxSearches        = 32
	maxSearchListChars = 2048
)

// maxHostnameOverrideLen is the kernel's limit on a hostname (64 bytes),
// which the API server applies to spec.hostnameOverride.
const maxHostnameOverrideLen = 64

var dnsPolicies = []corev1.DNSPolicy{corev1.DNSClusterFirstWithHostNet, corev1.DNSClusterFirst, corev1.DNSDefault, corev1.DNSNone}

// validateDNS checks dnsPolicy and dnsConfig; policy None needs a config
// with at least one nameserver.
func validateDNS(s *corev1.PodSpec, p *field.Path) field.ErrorList {
	errs := oneOf(s.DNSPolicy, p.Child("dnsPolicy"), dnsPolicies...)
	cp := p.Child("dnsConfig")
	c := s.DNSConfig
	if s.DNSPolicy == corev1.DNSNone {
		if c == nil {
			return append(errs, field.Required(cp, "must provide `dnsConfig` when `dnsPolicy` is None"))
		}
		if len(c.Nameservers) == 0 {
			return append(errs, field.Required(cp.Child("nameservers"), "must provide at least one DNS nameserver when `dnsPolicy` is None"))
		}
	}
	if c == nil {
		return errs
	}
	errs = append(errs, validateNameservers(c.Nameservers, cp.Child("nameservers"))...)
	errs = append(errs, validateSearches(c.Searches, cp.Child("searches"))...)
	return append(errs, validateDNSOptions(c.Options, cp.Child("options"))...)
}

func validateNameservers(list []string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(list) > maxNameservers {
		errs = append(errs, field.Invalid(p, list, fmt.Sprintf("must not have more than %v nameservers", maxNameservers)))
	}
	for i, ns := range list {
		errs = append(errs, validateIP(ns, p.Index(i))...)
	}
	return errs
}

// validateSearches applies the API server's relaxed rule (its
// RelaxedDNSSearchValidation, on by default): a DNS subdomain that may
// hold underscores and end with a dot, or "." alone.
func validateSearches(list []string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(list) > maxSearches {
		errs = append(errs, field.Invalid(p, list, fmt.Sprintf("must not have more than %v search paths", maxSearches)))
	}
	if len(strings.Join(list, " ")) > maxSearchListChars {
		errs = append(errs, field.Invalid(p, list, fmt.Sprintf("must not have more than %v characters (including spaces) in the search list", maxSearchListChars)))
	}
	for i, search := range list {
		if search == "." {
			continue
		}
		for _, msg := range validation.IsDNS1123SubdomainWithUnderscore(strings.TrimSuffix(search, ".")) {
			errs = append(errs, field.Invalid(p.Index(i), search, msg))
		}
	}
	return errs
}

// validateDNSOptions requires a name, as the API server does; it has no
// rule for the characters of a name or value, which podrun writes into the
// options line of /etc/resolv.conf, so control characters are refused.
func validateDNSOptions(list []corev1.PodDNSConfigOption, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, o := range list {
		ip := p.Index(i)
		if o.Name == "" {
			errs = append(errs, field.Required(ip, "must not be empty"))
		}
		errs = append(errs, noControl(o.Name, ip.Child("name"))...)
		if o.Value != nil {
			errs = append(errs, noControl(*o.Value, ip.Child("value"))...)
		}
	}
	return errs
}

// validateHostnames checks hostname, subdomain, hostnameOverride and
// hostAliases, which make up the pod's /etc/hostname and /etc/hosts.
func validateHostnames(s *corev1.PodSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.Hostname != "" {
		errs = append(errs, dns1123Label(s.Hostname, p.Child("hostname"))...)
	}
	if s.Subdomain != "" {
		errs = append(errs, dns1123Label(s.Subdomain, p.Child("subdomain"))...)
	}
	errs = append(errs, validateHostnameOverride(s, p)...)
	for i, a := range s.HostAliases {
		ap := p.Child("hostAliases").Index(i)
		errs = append(errs, validateIP(a.IP, ap.Child("ip"))...)
		for j, h := range a.Hostnames {
			for _, msg := range validation.IsDNS1123Subdomain(h) {
				errs = append(errs, field.Invalid(ap.Child("hostnames").Index(j), h, msg))
			}
		}
	}
	return errs
}

// validateHostnameOverride applies the rules the API documents for
// spec.hostnameOverride: a DNS subdomain of at most 64 characters, not
// with setHostnameAsFQDN, not on the host network.
func validateHostnameOverride(s *corev1.PodSpec, p *field.Path) field.ErrorList {
	if s.HostnameOverride == nil {
		return nil
	}
	var errs field.ErrorList
	op, v := p.Child("hostnameOverride"), *s.HostnameOverride
	for _, msg := range validation.IsDNS1123Subdomain(v) {
		errs = append(errs, field.Invalid(op, v, msg))
	}
	if len(v) > maxHostnameOverrideLen {
		errs = append(errs, field.TooLong(op, v, maxHostnameOverrideLen))
	}
	if s.SetHostnameAsFQDN != nil && *s.SetHostnameAsFQDN {
		errs = append(errs, field.Invalid(p.Child("setHostnameAsFQDN"), true, "must not be true when `hostnameOverride` is set"))
	}
	if s.HostNetwork {
		errs = append(errs, field.Forbidden(op, "may not be set when `hostNetwork` is true"))
	}
	return errs
}

func dns1123Label(v string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Label(v) {
		errs = append(errs, field.Invalid(p, v, msg))
	}
	return errs
}

// validateIP checks an address as the API server checks its older IP
// fields with strict validation on (StrictIPCIDRValidation, KEP-4858):
// what net.ParseIP accepts, without leading zeros or IPv4-mapped IPv6.
// Unlike netip.ParseAddr it refuses an IPv6 zone, in which anything
// could follow the '%'.
func validateIP(v string, p *field.Path) field.ErrorList {
	return validation.IsValidIPForLegacyField(p, v, true, nil)
}

// noControl refuses control characters (newline, carriage return, tab,
// NUL, other C0 and C1 codes and DEL) in a value written into a file.
func noControl(v string, p *field.Path) field.ErrorList {
	if strings.IndexFunc(v, unicode.IsControl) < 0 {
		return nil
	}
	return field.ErrorList{field.Invalid(p, v, "must not contain control characters")}
}
