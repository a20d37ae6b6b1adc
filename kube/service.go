package kube

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	istr "k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The checks below are those of the API server for a v1 Service
// (k8s.io/kubernetes pkg/apis/core/v1/defaults.go SetDefaults_Service,
// pkg/apis/core/validation ValidateService and the service registry's
// family defaults), with its wording. What needs the Services already
// stored (a ClusterIP or nodePort taken, what a re-apply keeps) is the
// runner's.

// Service is a validated Service with its namespace set and the API
// server's defaults applied. Its ClusterIP is the one asked for, if any:
// the runner allocates one when it stores the Service.
type Service struct {
	Source  Source
	Service *corev1.Service
	// Lines locates the Service's fields in Source.File, so that the
	// runner names the line of a clusterIP or nodePort it refuses.
	Lines Lines
}

// At locates the field at path (spec.ports[0].nodePort) in the Service's
// manifest, as Pod.At does.
func (s Service) At(path string) Source {
	if n := s.Lines.Find(path); n > 0 {
		return Source{File: s.Source.File, Line: n}
	}
	return s.Source
}

// Limits of a Service's fields (k8s.io/kubernetes pkg/apis/core).
const (
	// DefaultClientIPTimeout is sessionAffinityConfig.clientIP.timeoutSeconds
	// when sessionAffinity is ClientIP and none is given: three hours.
	DefaultClientIPTimeout = 10800
	// maxClientIPTimeout is the longest: one day.
	maxClientIPTimeout = 86400
	// NodePortMin and NodePortMax bound nodePorts, as kube-apiserver's
	// --service-node-port-range default.
	NodePortMin = 30000
	NodePortMax = 32767
)

var (
	serviceTypes = []corev1.ServiceType{corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort,
		corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeExternalName}
	sessionAffinities = []corev1.ServiceAffinity{corev1.ServiceAffinityNone, corev1.ServiceAffinityClientIP}
	trafficPolicies   = []corev1.ServiceInternalTrafficPolicy{corev1.ServiceInternalTrafficPolicyCluster,
		corev1.ServiceInternalTrafficPolicyLocal}
	externalPolicies = []corev1.ServiceExternalTrafficPolicy{corev1.ServiceExternalTrafficPolicyCluster,
		corev1.ServiceExternalTrafficPolicyLocal}
	familyPolicies = []corev1.IPFamilyPolicy{corev1.IPFamilyPolicySingleStack, corev1.IPFamilyPolicyPreferDualStack,
		corev1.IPFamilyPolicyRequireDualStack}
)

// service checks, defaults and validates one Service.
func service(o Object, opts Options) (*corev1.Service, ErrorList) {
	in, ok := o.Object.(*corev1.Service)
	if e := checkVersion(o, ok); e != nil {
		return nil, ErrorList{e}
	}
	s := in.DeepCopy()
	var errs ErrorList
	if e := setNamespace(o, s, opts.Namespace); e != nil {
		errs = append(errs, e)
	}
	cidr := DefaultServiceCIDR
	if opts.ServiceCIDR != "" {
		cidr = opts.ServiceCIDR
	}
	serviceRange, err := ParseServiceCIDR(cidr)
	if err != nil {
		return nil, ErrorList{{Source: o.Source, Detail: err.Error()}}
	}
	SetServiceDefaults(s, serviceRange)
	fes := apivalidation.ValidateObjectMeta(&s.ObjectMeta, true, apivalidation.NameIsDNS1035Label, field.NewPath("metadata"))
	if s.Name == "" && s.GenerateName != "" {
		fes = field.ErrorList{field.Forbidden(field.NewPath("metadata", "generateName"), "cannot use generate name with apply; set metadata.name")}
	}
	fes = append(fes, ValidateService(s, serviceRange)...)
	for _, fe := range fes {
		errs = append(errs, located(o, fe))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return s, nil
}

// SetServiceDefaults applies what the API server sets on a Service it
// creates: v1's defaults (type ClusterIP, protocol TCP, targetPort the
// port, sessionAffinity None and ClientIP's three hours, the traffic
// policies, allocateLoadBalancerNodePorts), the registry's IP family
// (that of the service range, single-stack) and an empty status. The
// ClusterIP and nodePorts are left to the allocation.
func SetServiceDefaults(s *corev1.Service, serviceRange netip.Prefix) {
	sp := &s.Spec
	if sp.Type == "" {
		sp.Type = corev1.ServiceTypeClusterIP
	}
	if sp.SessionAffinity == "" {
		sp.SessionAffinity = corev1.ServiceAffinityNone
	}
	if sp.SessionAffinity == corev1.ServiceAffinityClientIP {
		if sp.SessionAffinityConfig == nil {
			sp.SessionAffinityConfig = &corev1.SessionAffinityConfig{}
		}
		if sp.SessionAffinityConfig.ClientIP == nil {
			sp.SessionAffinityConfig.ClientIP = &corev1.ClientIPConfig{}
		}
		if sp.SessionAffinityConfig.ClientIP.TimeoutSeconds == nil {
			sp.SessionAffinityConfig.ClientIP.TimeoutSeconds = ptr(int32(DefaultClientIPTimeout))
		}
	}
	for i := range sp.Ports {
		p := &sp.Ports[i]
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		if p.TargetPort == (istr.IntOrString{}) {
			p.TargetPort = istr.FromInt32(p.Port)
		}
	}
	external := sp.Type == corev1.ServiceTypeNodePort || sp.Type == corev1.ServiceTypeLoadBalancer
	if external && sp.ExternalTrafficPolicy == "" {
		sp.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	}
	if sp.Type != corev1.ServiceTypeExternalName && sp.InternalTrafficPolicy == nil {
		sp.InternalTrafficPolicy = ptr(corev1.ServiceInternalTrafficPolicyCluster)
	}
	if sp.Type == corev1.ServiceTypeLoadBalancer && sp.AllocateLoadBalancerNodePorts == nil {
		sp.AllocateLoadBalancerNodePorts = ptr(true)
	}
	if sp.Type != corev1.ServiceTypeExternalName {
		if sp.IPFamilyPolicy == nil {
			sp.IPFamilyPolicy = ptr(corev1.IPFamilyPolicySingleStack)
		}
		if len(sp.IPFamilies) == 0 {
			sp.IPFamilies = []corev1.IPFamily{Family(serviceRange)}
		}
	}
	if sp.ClusterIP != "" && len(sp.ClusterIPs) == 0 {
		sp.ClusterIPs = []string{sp.ClusterIP}
	}
	s.Status = corev1.ServiceStatus{}
}

// Family is the IP family of a range.
func Family(p netip.Prefix) corev1.IPFamily {
	if p.Addr().Is4() {
		return corev1.IPv4Protocol
	}
	return corev1.IPv6Protocol
}

// IsHeadless says whether s has no ClusterIP by request (clusterIP None).
func IsHeadless(s *corev1.Service) bool { return s.Spec.ClusterIP == corev1.ClusterIPNone }

// ValidateService checks a defaulted Service as the API server's
// ValidateService does, and what its registry checks without the other
// Services: the ClusterIP inside serviceRange, the nodePorts inside
// their range, the families this single-stack cluster serves.
func ValidateService(s *corev1.Service, serviceRange netip.Prefix) field.ErrorList {
	sp := field.NewPath("spec")
	spec := &s.Spec
	var errs field.ErrorList
	errs = append(errs, oneOf(spec.Type, sp.Child("type"), serviceTypes...)...)
	headless := IsHeadless(s)
	if len(spec.Ports) == 0 && !headless && spec.Type != corev1.ServiceTypeExternalName {
		errs = append(errs, field.Required(sp.Child("ports"), ""))
	}
	errs = append(errs, validateServicePorts(s)...)
	errs = append(errs, validateServiceType(s)...)
	if spec.Type != corev1.ServiceTypeExternalName {
		errs = append(errs, validateClusterIP(s, serviceRange)...)
		errs = append(errs, validateFamilies(s, serviceRange)...)
	}
	errs = append(errs, metav1validation.ValidateLabels(spec.Selector, sp.Child("selector"))...)
	errs = append(errs, validateAffinity(spec, sp)...)
	for i, ip := range spec.ExternalIPs {
		if _, err := netip.ParseAddr(ip); err != nil {
			errs = append(errs, field.Invalid(sp.Child("externalIPs").Index(i), ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
		}
	}
	for i, r := range spec.LoadBalancerSourceRanges {
		if _, err := netip.ParsePrefix(strings.TrimSpace(r)); err != nil {
			errs = append(errs, field.Invalid(sp.Child("loadBalancerSourceRanges").Index(i), r, "must be a list of IP ranges. For example, 10.240.0.0/24,10.250.0.0/24"))
		}
	}
	if v := spec.InternalTrafficPolicy; v != nil {
		errs = append(errs, oneOf(*v, sp.Child("internalTrafficPolicy"), trafficPolicies...)...)
	}
	return errs
}

// validateServicePorts checks each port, their names and that no two
// have one port, or one nodePort, with one protocol.
func validateServicePorts(s *corev1.Service) field.ErrorList {
	pp := field.NewPath("spec", "ports")
	var errs field.ErrorList
	names := map[string]bool{}
	ports := map[string]bool{}
	nodePorts := map[string]bool{}
	for i, port := range s.Spec.Ports {
		p := pp.Index(i)
		switch {
		case port.Name == "" && len(s.Spec.Ports) > 1:
			errs = append(errs, field.Required(p.Child("name"), ""))
		case port.Name != "":
			for _, msg := range validation.IsDNS1123Label(port.Name) {
				errs = append(errs, field.Invalid(p.Child("name"), port.Name, msg))
			}
			if names[port.Name] {
				errs = append(errs, field.Duplicate(p.Child("name"), port.Name))
			}
			names[port.Name] = true
		}
		for _, msg := range validation.IsValidPortNum(int(port.Port)) {
			errs = append(errs, field.Invalid(p.Child("port"), port.Port, msg))
		}
		errs = append(errs, oneOf(port.Protocol, p.Child("protocol"), portProtocols...)...)
		errs = append(errs, validateTargetPort(port.TargetPort, p.Child("targetPort"))...)
		if port.AppProtocol != nil {
			for _, msg := range validation.IsQualifiedName(*port.AppProtocol) {
				errs = append(errs, field.Invalid(p.Child("appProtocol"), *port.AppProtocol, msg))
			}
		}
		key := fmt.Sprintf("%d/%s", port.Port, port.Protocol)
		if ports[key] {
			errs = append(errs, field.Duplicate(p, key))
		}
		ports[key] = true
		if port.NodePort != 0 {
			errs = append(errs, validateNodePort(s, port.NodePort, p.Child("nodePort"))...)
			key := fmt.Sprintf("%d/%s", port.NodePort, port.Protocol)
			if nodePorts[key] {
				errs = append(errs, field.Duplicate(p.Child("nodePort"), key))
			}
			nodePorts[key] = true
		}
	}
	return errs
}

// validateTargetPort checks a port number or an IANA service name.
func validateTargetPort(v istr.IntOrString, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if v.Type == istr.Int {
		for _, msg := range validation.IsValidPortNum(v.IntValue()) {
			errs = append(errs, field.Invalid(p, v.IntValue(), msg))
		}
		return errs
	}
	for _, msg := range validation.IsValidPortName(v.StrVal) {
		errs = append(errs, field.Invalid(p, v.StrVal, msg))
	}
	return errs
}

// validateNodePort checks a nodePort asked for: in its range, and of a
// type that has them.
func validateNodePort(s *corev1.Service, port int32, p *field.Path) field.ErrorList {
	switch s.Spec.Type {
	case corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer:
	default:
		return field.ErrorList{field.Forbidden(p, fmt.Sprintf("may not be used when `type` is '%s'", s.Spec.Type))}
	}
	if port < NodePortMin || port > NodePortMax {
		return field.ErrorList{field.Invalid(p, port, fmt.Sprintf(
			"provided port is not in the valid range. The range of valid ports is %d-%d", NodePortMin, NodePortMax))}
	}
	return nil
}

// validateServiceType checks what each type requires and forbids.
func validateServiceType(s *corev1.Service) field.ErrorList {
	sp := field.NewPath("spec")
	spec := &s.Spec
	var errs field.ErrorList
	switch spec.Type {
	case corev1.ServiceTypeExternalName:
		if spec.ClusterIP != "" || len(spec.ClusterIPs) > 0 {
			errs = append(errs, field.Forbidden(sp.Child("clusterIP"), "may not be set for ExternalName services"))
		}
		if len(spec.IPFamilies) > 0 {
			errs = append(errs, field.Forbidden(sp.Child("ipFamilies"), "may not be set for ExternalName services"))
		}
		if spec.IPFamilyPolicy != nil {
			errs = append(errs, field.Forbidden(sp.Child("ipFamilyPolicy"), "may not be set for ExternalName services"))
		}
		cname := strings.TrimSuffix(spec.ExternalName, ".")
		if cname == "" {
			errs = append(errs, field.Required(sp.Child("externalName"), ""))
		}
		for _, msg := range validation.IsDNS1123Subdomain(cname) {
			if cname != "" {
				errs = append(errs, field.Invalid(sp.Child("externalName"), spec.ExternalName, msg))
			}
		}
	case corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer:
		if IsHeadless(s) {
			errs = append(errs, field.Invalid(sp.Child("clusterIP"), spec.ClusterIP,
				fmt.Sprintf("may not be set to 'None' for %s services", spec.Type)))
		}
	}
	external := spec.Type == corev1.ServiceTypeNodePort || spec.Type == corev1.ServiceTypeLoadBalancer
	switch {
	case spec.ExternalTrafficPolicy != "" && !external:
		errs = append(errs, field.Invalid(sp.Child("externalTrafficPolicy"), spec.ExternalTrafficPolicy,
			"may only be set when `type` is 'NodePort' or 'LoadBalancer'"))
	case external:
		errs = append(errs, oneOf(spec.ExternalTrafficPolicy, sp.Child("externalTrafficPolicy"), externalPolicies...)...)
	}
	if spec.AllocateLoadBalancerNodePorts != nil && spec.Type != corev1.ServiceTypeLoadBalancer {
		errs = append(errs, field.Forbidden(sp.Child("allocateLoadBalancerNodePorts"), "may only be used when `type` is 'LoadBalancer'"))
	}
	if spec.Type == corev1.ServiceTypeExternalName && spec.InternalTrafficPolicy != nil {
		errs = append(errs, field.Forbidden(sp.Child("internalTrafficPolicy"), "may not be set for ExternalName services"))
	}
	return errs
}

// validateClusterIP checks a ClusterIP asked for: an address of the
// service range, or None. clusterIPs, the API server's dual-stack form,
// must say the same.
func validateClusterIP(s *corev1.Service, serviceRange netip.Prefix) field.ErrorList {
	p := field.NewPath("spec", "clusterIP")
	ip := s.Spec.ClusterIP
	var errs field.ErrorList
	if len(s.Spec.ClusterIPs) > 1 {
		errs = append(errs, field.Invalid(field.NewPath("spec", "clusterIPs"), s.Spec.ClusterIPs,
			"this cluster is not configured for dual-stack services: give one address"))
	}
	if len(s.Spec.ClusterIPs) > 0 && s.Spec.ClusterIPs[0] != ip {
		errs = append(errs, field.Invalid(field.NewPath("spec", "clusterIPs").Index(0), s.Spec.ClusterIPs[0],
			"must match `clusterIP`"))
	}
	if ip == "" || ip == corev1.ClusterIPNone {
		return errs
	}
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Zone() != "" {
		return append(errs, field.Invalid(p, ip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
	}
	if !serviceRange.Contains(a) {
		errs = append(errs, field.Invalid(p, ip, fmt.Sprintf(
			"failed to allocate IP %s: the provided IP (%s) is not in the valid range. The range of valid IPs is %s "+
				"(podrun's --service-cidr): leave clusterIP out to get one, or give an address of the range",
			ip, ip, serviceRange)))
	}
	return errs
}

// validateFamilies checks the families and policy against this
// single-stack cluster.
func validateFamilies(s *corev1.Service, serviceRange netip.Prefix) field.ErrorList {
	sp := field.NewPath("spec")
	var errs field.ErrorList
	if v := s.Spec.IPFamilyPolicy; v != nil {
		errs = append(errs, oneOf(*v, sp.Child("ipFamilyPolicy"), familyPolicies...)...)
		if *v == corev1.IPFamilyPolicyRequireDualStack {
			errs = append(errs, field.Invalid(sp.Child("ipFamilyPolicy"), *v, "this cluster is not configured for dual-stack services"))
		}
	}
	served := Family(serviceRange)
	for i, f := range s.Spec.IPFamilies {
		switch {
		case f != corev1.IPv4Protocol && f != corev1.IPv6Protocol:
			errs = append(errs, field.NotSupported(sp.Child("ipFamilies").Index(i), f, []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}))
		case f != served && (i == 0 || s.Spec.IPFamilyPolicy == nil || *s.Spec.IPFamilyPolicy == corev1.IPFamilyPolicySingleStack):
			errs = append(errs, field.Invalid(sp.Child("ipFamilies").Index(i), f, fmt.Sprintf("not configured on this cluster (its service range is %s)", serviceRange)))
		}
	}
	return errs
}

// validateAffinity checks sessionAffinity and its ClientIP timeout.
func validateAffinity(spec *corev1.ServiceSpec, sp *field.Path) field.ErrorList {
	errs := oneOf(spec.SessionAffinity, sp.Child("sessionAffinity"), sessionAffinities...)
	cp := sp.Child("sessionAffinityConfig")
	switch {
	case spec.SessionAffinity == corev1.ServiceAffinityNone && spec.SessionAffinityConfig != nil:
		errs = append(errs, field.Forbidden(cp, fmt.Sprintf("must not be set when session affinity is %s", corev1.ServiceAffinityNone)))
	case spec.SessionAffinity == corev1.ServiceAffinityClientIP:
		t := spec.SessionAffinityConfig.ClientIP.TimeoutSeconds
		if *t <= 0 || *t > maxClientIPTimeout {
			errs = append(errs, field.Invalid(cp.Child("clientIP", "timeoutSeconds"), *t,
				fmt.Sprintf("must be greater than 0 and less than %d", maxClientIPTimeout)))
		}
	}
	return errs
}
