package kube

import (
	"fmt"
	"net/netip"
	"strings"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	istr "k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The checks below follow the API server's (k8s.io/kubernetes
// pkg/apis/{rbac,policy,autoscaling,networking,scheduling}/validation),
// with its wording, for the fields cheap and useful to check.

// validatePolicyRules checks the rules of a Role or ClusterRole.
func validatePolicyRules(rules []rbacv1.PolicyRule, namespaced bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, r := range rules {
		rp := p.Index(i)
		if len(r.Verbs) == 0 {
			errs = append(errs, field.Required(rp.Child("verbs"), "verbs must contain at least one value"))
		}
		if len(r.NonResourceURLs) > 0 {
			if namespaced {
				errs = append(errs, field.Invalid(rp.Child("nonResourceURLs"), r.NonResourceURLs, "namespaced rules cannot apply to non-resource URLs"))
			}
			if len(r.APIGroups) > 0 || len(r.Resources) > 0 || len(r.ResourceNames) > 0 {
				errs = append(errs, field.Invalid(rp.Child("nonResourceURLs"), r.NonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs"))
			}
			continue
		}
		if len(r.APIGroups) == 0 {
			errs = append(errs, field.Required(rp.Child("apiGroups"), "resource rules must supply at least one api group"))
		}
		if len(r.Resources) == 0 {
			errs = append(errs, field.Required(rp.Child("resources"), "resource rules must supply at least one resource"))
		}
	}
	return errs
}

func validateRole(r *rbacv1.Role) field.ErrorList {
	return validatePolicyRules(r.Rules, true, field.NewPath("rules"))
}

func validateClusterRole(r *rbacv1.ClusterRole) field.ErrorList {
	errs := validatePolicyRules(r.Rules, false, field.NewPath("rules"))
	if a := r.AggregationRule; a != nil {
		p := field.NewPath("aggregationRule", "clusterRoleSelectors")
		if len(a.ClusterRoleSelectors) == 0 {
			errs = append(errs, field.Required(p, "at least one clusterRoleSelector required if aggregationRule is non-nil"))
		}
		for i := range a.ClusterRoleSelectors {
			errs = append(errs, metav1validation.ValidateLabelSelector(&a.ClusterRoleSelectors[i], metav1validation.LabelSelectorValidationOptions{}, p.Index(i))...)
		}
	}
	return errs
}

// prepareRoleBinding applies rbac/v1's defaults: the API groups of the
// role and of User and Group subjects.
func prepareRoleBinding(b *rbacv1.RoleBinding) { defaultBinding(&b.RoleRef, b.Subjects) }

func prepareClusterRoleBinding(b *rbacv1.ClusterRoleBinding) { defaultBinding(&b.RoleRef, b.Subjects) }

func defaultBinding(ref *rbacv1.RoleRef, subjects []rbacv1.Subject) {
	if ref.APIGroup == "" {
		ref.APIGroup = rbacv1.GroupName
	}
	for i := range subjects {
		if s := &subjects[i]; s.APIGroup == "" && (s.Kind == rbacv1.UserKind || s.Kind == rbacv1.GroupKind) {
			s.APIGroup = rbacv1.GroupName
		}
	}
}

func validateRoleBinding(b *rbacv1.RoleBinding) field.ErrorList {
	errs := validateRoleRef(b.RoleRef, []string{"Role", "ClusterRole"})
	return append(errs, validateSubjects(b.Subjects, true)...)
}

func validateClusterRoleBinding(b *rbacv1.ClusterRoleBinding) field.ErrorList {
	errs := validateRoleRef(b.RoleRef, []string{"ClusterRole"})
	return append(errs, validateSubjects(b.Subjects, false)...)
}

func validateRoleRef(ref rbacv1.RoleRef, kinds []string) field.ErrorList {
	p := field.NewPath("roleRef")
	var errs field.ErrorList
	if ref.APIGroup != rbacv1.GroupName {
		errs = append(errs, field.NotSupported(p.Child("apiGroup"), ref.APIGroup, []string{rbacv1.GroupName}))
	}
	if !contains(kinds, ref.Kind) {
		errs = append(errs, field.NotSupported(p.Child("kind"), ref.Kind, kinds))
	}
	if ref.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	}
	for _, msg := range path.IsValidPathSegmentName(ref.Name) {
		errs = append(errs, field.Invalid(p.Child("name"), ref.Name, msg))
	}
	return errs
}

func validateSubjects(subjects []rbacv1.Subject, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	for i, s := range subjects {
		p := field.NewPath("subjects").Index(i)
		if s.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
		}
		switch s.Kind {
		case rbacv1.ServiceAccountKind:
			if s.Name != "" {
				for _, msg := range apivalidation.ValidateServiceAccountName(s.Name, false) {
					errs = append(errs, field.Invalid(p.Child("name"), s.Name, msg))
				}
			}
			if s.APIGroup != "" {
				errs = append(errs, field.NotSupported(p.Child("apiGroup"), s.APIGroup, []string{""}))
			}
			if !namespaced && s.Namespace == "" {
				errs = append(errs, field.Required(p.Child("namespace"), ""))
			}
		case rbacv1.UserKind, rbacv1.GroupKind:
			if s.APIGroup != rbacv1.GroupName {
				errs = append(errs, field.NotSupported(p.Child("apiGroup"), s.APIGroup, []string{rbacv1.GroupName}))
			}
		default:
			errs = append(errs, field.NotSupported(p.Child("kind"), s.Kind, []string{rbacv1.ServiceAccountKind, rbacv1.UserKind, rbacv1.GroupKind}))
		}
	}
	return errs
}

var evictionPolicies = []policyv1.UnhealthyPodEvictionPolicyType{policyv1.IfHealthyBudget, policyv1.AlwaysAllow}

func validateDisruptionBudget(b *policyv1.PodDisruptionBudget) field.ErrorList {
	p := field.NewPath("spec")
	s := b.Spec
	var errs field.ErrorList
	if s.MinAvailable != nil && s.MaxUnavailable != nil {
		errs = append(errs, field.Invalid(p, field.OmitValueType{}, "minAvailable and maxUnavailable cannot be both set"))
	}
	for name, v := range map[string]*istr.IntOrString{"minAvailable": s.MinAvailable, "maxUnavailable": s.MaxUnavailable} {
		if v != nil {
			errs = append(errs, intOrPercent(*v, p.Child(name))...)
		}
	}
	errs = append(errs, metav1validation.ValidateLabelSelector(s.Selector, metav1validation.LabelSelectorValidationOptions{}, p.Child("selector"))...)
	if v := s.UnhealthyPodEvictionPolicy; v != nil {
		errs = append(errs, oneOf(*v, p.Child("unhealthyPodEvictionPolicy"), evictionPolicies...)...)
	}
	return sortedByField(errs)
}

// intOrPercent checks a count or a percentage of at most 100%.
func intOrPercent(v istr.IntOrString, p *field.Path) field.ErrorList {
	if v.Type == istr.Int {
		if v.IntVal < 0 {
			return field.ErrorList{field.Invalid(p, v.IntVal, "must be greater than or equal to 0")}
		}
		return nil
	}
	n, ok := percent(v) // workloads_apps.go
	if !ok {
		return field.ErrorList{field.Invalid(p, v.StrVal, "a valid percent string must be a numeric string followed by an ending '%'")}
	}
	if n > 100 {
		return field.ErrorList{field.Invalid(p, v.StrVal, "must not be greater than 100%")}
	}
	return nil
}

// prepareAutoscaler defaults minReplicas to 1, as autoscaling's defaults
// do in both versions.
func prepareAutoscaler(o runtime.Object) {
	switch h := o.(type) {
	case *autoscalingv1.HorizontalPodAutoscaler:
		if h.Spec.MinReplicas == nil {
			h.Spec.MinReplicas = ptr(int32(1))
		}
	case *autoscalingv2.HorizontalPodAutoscaler:
		if h.Spec.MinReplicas == nil {
			h.Spec.MinReplicas = ptr(int32(1))
		}
	}
	clearStatus(o)
}

func validateAutoscaler(o runtime.Object) field.ErrorList {
	p := field.NewPath("spec")
	switch h := o.(type) {
	case *autoscalingv1.HorizontalPodAutoscaler:
		ref := h.Spec.ScaleTargetRef
		errs := validateScaleTarget(ref.Kind, ref.Name, p.Child("scaleTargetRef"))
		return append(errs, validateReplicas(h.Spec.MinReplicas, h.Spec.MaxReplicas, p)...)
	case *autoscalingv2.HorizontalPodAutoscaler:
		ref := h.Spec.ScaleTargetRef
		errs := validateScaleTarget(ref.Kind, ref.Name, p.Child("scaleTargetRef"))
		errs = append(errs, validateReplicas(h.Spec.MinReplicas, h.Spec.MaxReplicas, p)...)
		return append(errs, validateMetrics(h.Spec.Metrics, p.Child("metrics"))...)
	}
	return nil
}

var metricTypes = []autoscalingv2.MetricSourceType{
	autoscalingv2.ObjectMetricSourceType, autoscalingv2.PodsMetricSourceType, autoscalingv2.ResourceMetricSourceType,
	autoscalingv2.ExternalMetricSourceType, autoscalingv2.ContainerResourceMetricSourceType,
}

// validateMetrics checks that each metric names a known type and fills in
// the source of that type only.
func validateMetrics(metrics []autoscalingv2.MetricSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, m := range metrics {
		mp := p.Index(i)
		sources := map[autoscalingv2.MetricSourceType]bool{
			autoscalingv2.ObjectMetricSourceType: m.Object != nil, autoscalingv2.PodsMetricSourceType: m.Pods != nil,
			autoscalingv2.ResourceMetricSourceType: m.Resource != nil, autoscalingv2.ExternalMetricSourceType: m.External != nil,
			autoscalingv2.ContainerResourceMetricSourceType: m.ContainerResource != nil,
		}
		set := 0
		for _, ok := range sources {
			if ok {
				set++
			}
		}
		switch {
		case m.Type == "":
			errs = append(errs, field.Required(mp.Child("type"), "must specify a metric source type"))
		case !contains(metricTypes, m.Type):
			errs = append(errs, field.NotSupported(mp.Child("type"), m.Type, metricTypes))
		case !sources[m.Type]:
			errs = append(errs, field.Required(mp.Child(metricField(m.Type)), "must populate information for the given metric source"))
		case set > 1:
			errs = append(errs, field.Forbidden(mp, "must populate the given metric source only"))
		}
	}
	return errs
}

// metricField is the field of a metric source type: "containerResource"
// for ContainerResource.
func metricField(t autoscalingv2.MetricSourceType) string {
	s := string(t)
	return strings.ToLower(s[:1]) + s[1:]
}

func validateScaleTarget(kind, name string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if kind == "" {
		errs = append(errs, field.Required(p.Child("kind"), ""))
	}
	for _, msg := range path.IsValidPathSegmentName(kind) {
		errs = append(errs, field.Invalid(p.Child("kind"), kind, msg))
	}
	if name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	}
	for _, msg := range path.IsValidPathSegmentName(name) {
		errs = append(errs, field.Invalid(p.Child("name"), name, msg))
	}
	return errs
}

func validateReplicas(minReplicas *int32, maxReplicas int32, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if minReplicas != nil && *minReplicas < 1 {
		errs = append(errs, field.Invalid(p.Child("minReplicas"), *minReplicas, "must be greater than or equal to 1"))
	}
	if maxReplicas < 1 {
		errs = append(errs, field.Invalid(p.Child("maxReplicas"), maxReplicas, "must be greater than 0"))
	}
	if minReplicas != nil && maxReplicas < *minReplicas {
		errs = append(errs, field.Invalid(p.Child("maxReplicas"), maxReplicas, "must be greater than or equal to `minReplicas`"))
	}
	return errs
}

// prepareNetworkPolicy applies networking/v1's defaults: TCP ports, and
// the policy types the rules imply.
func prepareNetworkPolicy(np *networkingv1.NetworkPolicy) {
	for i := range np.Spec.Ingress {
		defaultProtocols(np.Spec.Ingress[i].Ports)
	}
	for i := range np.Spec.Egress {
		defaultProtocols(np.Spec.Egress[i].Ports)
	}
	if len(np.Spec.PolicyTypes) == 0 {
		np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		if len(np.Spec.Egress) > 0 {
			np.Spec.PolicyTypes = append(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress)
		}
	}
}

func defaultProtocols(ports []networkingv1.NetworkPolicyPort) {
	for i := range ports {
		if ports[i].Protocol == nil {
			ports[i].Protocol = ptr(corev1.ProtocolTCP)
		}
	}
}

var policyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}

func validateNetworkPolicy(np *networkingv1.NetworkPolicy) field.ErrorList {
	p := field.NewPath("spec")
	opts := metav1validation.LabelSelectorValidationOptions{}
	errs := metav1validation.ValidateLabelSelector(&np.Spec.PodSelector, opts, p.Child("podSelector"))
	for i, t := range np.Spec.PolicyTypes {
		errs = append(errs, oneOf(t, p.Child("policyTypes").Index(i), policyTypes...)...)
	}
	if len(np.Spec.PolicyTypes) > len(policyTypes) {
		errs = append(errs, field.Invalid(p.Child("policyTypes"), np.Spec.PolicyTypes, "may not specify more than two policyTypes"))
	}
	for i, r := range np.Spec.Ingress {
		rp := p.Child("ingress").Index(i)
		errs = append(errs, validatePolicyPorts(r.Ports, rp.Child("ports"))...)
		errs = append(errs, validatePeers(r.From, rp.Child("from"))...)
	}
	for i, r := range np.Spec.Egress {
		rp := p.Child("egress").Index(i)
		errs = append(errs, validatePolicyPorts(r.Ports, rp.Child("ports"))...)
		errs = append(errs, validatePeers(r.To, rp.Child("to"))...)
	}
	return errs
}

func validatePolicyPorts(ports []networkingv1.NetworkPolicyPort, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, port := range ports {
		if port.Protocol != nil {
			errs = append(errs, oneOf(*port.Protocol, p.Index(i).Child("protocol"), portProtocols...)...)
		}
		if port.Port != nil && port.Port.Type == istr.Int {
			for _, msg := range validation.IsValidPortNum(int(port.Port.IntVal)) {
				errs = append(errs, field.Invalid(p.Index(i).Child("port"), port.Port.IntVal, msg))
			}
		}
	}
	return errs
}

func validatePeers(peers []networkingv1.NetworkPolicyPeer, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	opts := metav1validation.LabelSelectorValidationOptions{}
	for i, peer := range peers {
		pp := p.Index(i)
		switch {
		case peer.IPBlock != nil && (peer.PodSelector != nil || peer.NamespaceSelector != nil):
			errs = append(errs, field.Forbidden(pp, "may not specify both ipBlock and another peer"))
		case peer.IPBlock == nil && peer.PodSelector == nil && peer.NamespaceSelector == nil:
			errs = append(errs, field.Required(pp, "must specify a peer"))
		}
		errs = append(errs, metav1validation.ValidateLabelSelector(peer.PodSelector, opts, pp.Child("podSelector"))...)
		errs = append(errs, metav1validation.ValidateLabelSelector(peer.NamespaceSelector, opts, pp.Child("namespaceSelector"))...)
		if b := peer.IPBlock; b != nil {
			if _, err := netip.ParsePrefix(b.CIDR); err != nil {
				errs = append(errs, field.Invalid(pp.Child("ipBlock", "cidr"), b.CIDR, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
			}
		}
	}
	return errs
}

var pathTypes = []networkingv1.PathType{networkingv1.PathTypeExact, networkingv1.PathTypePrefix, networkingv1.PathTypeImplementationSpecific}

func validateIngress(ing *networkingv1.Ingress) field.ErrorList {
	p := field.NewPath("spec")
	var errs field.ErrorList
	if ing.Spec.DefaultBackend == nil && len(ing.Spec.Rules) == 0 {
		errs = append(errs, field.Invalid(p, field.OmitValueType{}, "either `defaultBackend` or `rules` must be specified"))
	}
	if b := ing.Spec.DefaultBackend; b != nil {
		errs = append(errs, validateBackend(b, p.Child("defaultBackend"))...)
	}
	for i, r := range ing.Spec.Rules {
		rp := p.Child("rules").Index(i)
		if r.Host != "" {
			errs = append(errs, validateIngressHost(r.Host, rp.Child("host"))...)
		}
		if r.HTTP == nil {
			continue
		}
		if len(r.HTTP.Paths) == 0 {
			errs = append(errs, field.Required(rp.Child("http", "paths"), ""))
		}
		for j, hp := range r.HTTP.Paths {
			pp := rp.Child("http", "paths").Index(j)
			errs = append(errs, validateIngressPath(hp, pp)...)
			errs = append(errs, validateBackend(&hp.Backend, pp.Child("backend"))...)
		}
	}
	return errs
}

func validateIngressHost(host string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if _, err := netip.ParseAddr(host); err == nil {
		errs = append(errs, field.Invalid(p, host, "must be a DNS name, not an IP address"))
	}
	check := validation.IsDNS1123Subdomain
	if strings.HasPrefix(host, "*.") {
		check = validation.IsWildcardDNS1123Subdomain
	}
	for _, msg := range check(host) {
		errs = append(errs, field.Invalid(p, host, msg))
	}
	return errs
}

func validateIngressPath(hp networkingv1.HTTPIngressPath, p *field.Path) field.ErrorList {
	if hp.PathType == nil {
		return field.ErrorList{field.Required(p.Child("pathType"), "pathType must be specified")}
	}
	errs := oneOf(*hp.PathType, p.Child("pathType"), pathTypes...)
	implementation := *hp.PathType == networkingv1.PathTypeImplementationSpecific
	if (!implementation || hp.Path != "") && !strings.HasPrefix(hp.Path, "/") {
		errs = append(errs, field.Invalid(p.Child("path"), hp.Path, "must be an absolute path"))
	}
	return errs
}

func validateBackend(b *networkingv1.IngressBackend, p *field.Path) field.ErrorList {
	switch {
	case b.Service != nil && b.Resource != nil:
		return field.ErrorList{field.Invalid(p, field.OmitValueType{}, "cannot set both resource and service backends")}
	case b.Resource != nil:
		return nil
	case b.Service == nil:
		return field.ErrorList{field.Invalid(p, field.OmitValueType{}, "resource or service backend is required")}
	}
	s := b.Service
	sp := p.Child("service")
	var errs field.ErrorList
	if s.Name == "" {
		errs = append(errs, field.Required(sp.Child("name"), ""))
	}
	for _, msg := range validation.IsDNS1035Label(s.Name) {
		if s.Name != "" {
			errs = append(errs, field.Invalid(sp.Child("name"), s.Name, msg))
		}
	}
	switch {
	case s.Port.Name != "" && s.Port.Number != 0:
		errs = append(errs, field.Invalid(sp.Child("port"), field.OmitValueType{}, "cannot set both port name & port number"))
	case s.Port.Name == "" && s.Port.Number == 0:
		errs = append(errs, field.Invalid(sp.Child("port"), field.OmitValueType{}, "port name or number is required"))
	case s.Port.Number != 0:
		for _, msg := range validation.IsValidPortNum(int(s.Port.Number)) {
			errs = append(errs, field.Invalid(sp.Child("port", "number"), s.Port.Number, msg))
		}
	default:
		for _, msg := range validation.IsValidPortName(s.Port.Name) {
			errs = append(errs, field.Invalid(sp.Child("port", "name"), s.Port.Name, msg))
		}
	}
	return errs
}

func validateIngressClass(c *networkingv1.IngressClass) field.ErrorList {
	p := field.NewPath("spec", "controller")
	if len(c.Spec.Controller) > 250 {
		return field.ErrorList{field.TooLong(p, "", 250)}
	}
	return validation.IsDomainPrefixedPath(p, c.Spec.Controller)
}

// highestUserPriority is the highest value of a PriorityClass that is not
// a system one (scheduling.HighestUserDefinablePriority).
const highestUserPriority = 1000000000

var preemptionPolicies = []corev1.PreemptionPolicy{corev1.PreemptLowerPriority, corev1.PreemptNever}

func preparePriorityClass(pc *schedulingv1.PriorityClass) {
	if pc.PreemptionPolicy == nil {
		pc.PreemptionPolicy = ptr(corev1.PreemptLowerPriority)
	}
}

// validatePriorityClass refuses values above the user range, and
// system- names other than the system classes with their values.
func validatePriorityClass(pc *schedulingv1.PriorityClass) field.ErrorList {
	var errs field.ErrorList
	if strings.HasPrefix(pc.Name, "system-") {
		if err := knownSystemClass(pc); err != "" {
			errs = append(errs, field.Forbidden(field.NewPath("metadata", "name"),
				"priority class names with 'system-' prefix are reserved for system use only. error: "+err))
		}
	} else if pc.Value > highestUserPriority {
		errs = append(errs, field.Forbidden(field.NewPath("value"), fmt.Sprintf("maximum allowed value of a user defined priority is %d", highestUserPriority)))
	}
	if v := pc.PreemptionPolicy; v != nil {
		errs = append(errs, oneOf(*v, field.NewPath("preemptionPolicy"), preemptionPolicies...)...)
	}
	return errs
}

// knownSystemClass words the API server's reason a system- class is not
// one of the system classes, or is empty when it is.
func knownSystemClass(pc *schedulingv1.PriorityClass) string {
	v, ok := systemPriorities[pc.Name]
	switch {
	case !ok:
		return fmt.Sprintf("%v is not a known system priority class", pc.Name)
	case pc.Value != v:
		return fmt.Sprintf("value of %v PriorityClass must be %v", pc.Name, v)
	case pc.GlobalDefault:
		return fmt.Sprintf("globalDefault of %v PriorityClass must be false", pc.Name)
	}
	return ""
}
