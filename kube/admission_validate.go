package kube

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The checks below are the API server's for the spec of a LimitRange
// and of a ResourceQuota (k8s.io/kubernetes pkg/apis/core/validation,
// ValidateLimitRange and ValidateResourceQuotaSpec), with its wording.
// Metadata is validated with the other kinds'. Keys of a map are
// visited in name order, so that the errors come out the same every time.

// ValidateLimitRange validates the spec of lr as the API server does:
// limit types, resource names, and min <= defaultRequest <= default <= max
// and maxLimitRequestRatio >= 1 for each resource.
func ValidateLimitRange(lr *corev1.LimitRange) field.ErrorList {
	var errs field.ErrorList
	if lr == nil {
		return nil
	}
	seen := map[corev1.LimitType]bool{}
	p := field.NewPath("spec", "limits")
	for i := range lr.Spec.Limits {
		item := &lr.Spec.Limits[i]
		ip := p.Index(i)
		errs = append(errs, validateLimitType(item.Type, ip.Child("type"))...)
		if seen[item.Type] {
			errs = append(errs, field.Duplicate(ip.Child("type"), item.Type))
		}
		seen[item.Type] = true
		errs = append(errs, validateLimitItem(item, ip)...)
	}
	return errs
}

func validateLimitType(t corev1.LimitType, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(string(t)) {
		errs = append(errs, field.Invalid(p, t, msg))
	}
	if len(errs) > 0 || strings.Contains(string(t), "/") {
		return errs
	}
	switch t {
	case corev1.LimitTypePod, corev1.LimitTypeContainer, corev1.LimitTypePersistentVolumeClaim:
		return nil
	}
	return field.ErrorList{field.Invalid(p, t, "must be a standard limit type or fully qualified")}
}

// validateLimitItem checks one item's resource names, then how its
// bounds relate for each resource it names.
func validateLimitItem(item *corev1.LimitRangeItem, p *field.Path) field.ErrorList {
	lists := []struct {
		name string
		list corev1.ResourceList
	}{{"max", item.Max}, {"min", item.Min}, {"default", item.Default}, {"defaultRequest", item.DefaultRequest}, {"maxLimitRequestRatio", item.MaxLimitRequestRatio}}
	var errs field.ErrorList
	names := map[corev1.ResourceName]bool{}
	for _, l := range lists {
		if item.Type == corev1.LimitTypePod && (l.name == "default" || l.name == "defaultRequest") {
			if len(l.list) > 0 {
				errs = append(errs, field.Forbidden(p.Child(l.name), "may not be specified when `type` is 'Pod'"))
			}
			continue
		}
		for _, name := range slices.Sorted(maps.Keys(l.list)) {
			errs = append(errs, validateLimitResourceName(item.Type, name, p.Child(l.name).Key(string(name)))...)
			names[name] = true
		}
	}
	if item.Type == corev1.LimitTypePersistentVolumeClaim {
		_, min := item.Min[corev1.ResourceStorage]
		_, max := item.Max[corev1.ResourceStorage]
		if !min && !max {
			errs = append(errs, field.Required(p.Child("limits"), "either minimum or maximum storage value is required, but neither was provided"))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(names)) {
		errs = append(errs, validateLimitBounds(item, name, p)...)
	}
	return errs
}

func validateLimitResourceName(t corev1.LimitType, name corev1.ResourceName, p *field.Path) field.ErrorList {
	if t != corev1.LimitTypePod && t != corev1.LimitTypeContainer {
		return validateAnyResourceName(name, p)
	}
	errs := validateResourceName(name, p)
	if len(errs) == 0 && !isNativeResource(name) && !isExtendedResource(name) {
		errs = append(errs, field.Invalid(p, string(name), "doesn't follow extended resource name standard"))
	}
	return errs
}

// validateLimitBounds checks min <= defaultRequest <= default <= max and
// the ratio for one resource of an item. The API server's messages
// name the bounds in this order, some with the field of the other bound.
func validateLimitBounds(item *corev1.LimitRangeItem, name corev1.ResourceName, p *field.Path) field.ErrorList {
	key := string(name)
	min, hasMin := item.Min[name]
	max, hasMax := item.Max[name]
	def, hasDef := item.Default[name]
	defReq, hasDefReq := item.DefaultRequest[name]
	ratio, hasRatio := item.MaxLimitRequestRatio[name]
	if item.Type == corev1.LimitTypePod {
		hasDef, hasDefReq = false, false
	}
	var errs field.ErrorList
	bad := func(at string, v resource.Quantity, format string, args ...any) {
		errs = append(errs, field.Invalid(p.Child(at).Key(key), v.String(), fmt.Sprintf(format, args...)))
	}
	if hasMin && hasMax && min.Cmp(max) > 0 {
		bad("min", min, "min value %s is greater than max value %s", min.String(), max.String())
	}
	if hasDefReq && hasMin && min.Cmp(defReq) > 0 {
		bad("defaultRequest", defReq, "min value %s is greater than default request value %s", min.String(), defReq.String())
	}
	if hasDefReq && hasMax && defReq.Cmp(max) > 0 {
		bad("defaultRequest", defReq, "default request value %s is greater than max value %s", defReq.String(), max.String())
	}
	if hasDefReq && hasDef && defReq.Cmp(def) > 0 {
		bad("defaultRequest", defReq, "default request value %s is greater than default limit value %s", defReq.String(), def.String())
	}
	if hasDef && hasMin && min.Cmp(def) > 0 {
		bad("default", min, "min value %s is greater than default value %s", min.String(), def.String())
	}
	if hasDef && hasMax && def.Cmp(max) > 0 {
		bad("default", max, "default value %s is greater than max value %s", def.String(), max.String())
	}
	if hasRatio && ratio.Cmp(*resource.NewQuantity(1, resource.DecimalSI)) < 0 {
		bad("maxLimitRequestRatio", ratio, "ratio %s is less than 1", ratio.String())
	}
	if hasRatio && hasMin && hasMax {
		if widest := ratioBound(min, max); ratioValue(ratio) > widest {
			bad("maxLimitRequestRatio", ratio, "ratio %s is greater than max/min = %f", ratio.String(), widest)
		}
	}
	if !overcommitAllowed(name) && hasDef && hasDefReq && def.Cmp(defReq) != 0 {
		bad("defaultRequest", defReq, "default value %s must equal to defaultRequest value %s in %s", def.String(), defReq.String(), key)
	}
	return errs
}

// ratioBound is max/min, the widest ratio a limit and a request between
// min and max can have, at milli precision where that cannot overflow.
func ratioBound(min, max resource.Quantity) float64 {
	lo, hi := min.Value(), max.Value()
	if lo < resource.MaxMilliValue && hi < resource.MaxMilliValue {
		lo, hi = min.MilliValue(), max.MilliValue()
	}
	return float64(hi) / float64(lo)
}

func ratioValue(q resource.Quantity) float64 {
	if v := q.Value(); v >= resource.MaxMilliValue {
		return float64(v)
	}
	return float64(q.MilliValue()) / 1000
}

// validateAnyResourceName is the API server's validateResourceName: a
// qualified name, and a standard resource when it has no domain.
func validateAnyResourceName(name corev1.ResourceName, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(string(name)) {
		errs = append(errs, field.Invalid(p, string(name), msg))
	}
	if len(errs) > 0 || strings.Contains(string(name), "/") {
		return errs
	}
	if _, ok := standardResourceNames[name]; !ok && !isQuotaHugePages(name) {
		errs = append(errs, field.Invalid(p, string(name), "must be a standard resource type or fully qualified"))
	}
	return errs
}

// standardResourceNames are the API server's standard resources; those
// marked true may also be limited by a ResourceQuota.
var standardResourceNames = map[corev1.ResourceName]bool{
	corev1.ResourceCPU: true, corev1.ResourceMemory: true, corev1.ResourceEphemeralStorage: true,
	corev1.ResourceRequestsCPU: true, corev1.ResourceRequestsMemory: true, corev1.ResourceRequestsEphemeralStorage: true,
	corev1.ResourceLimitsCPU: true, corev1.ResourceLimitsMemory: true, corev1.ResourceLimitsEphemeralStorage: true,
	corev1.ResourcePods: true, corev1.ResourceServices: true, corev1.ResourceReplicationControllers: true,
	corev1.ResourceQuotas: true, corev1.ResourceSecrets: true, corev1.ResourcePersistentVolumeClaims: true,
	corev1.ResourceConfigMaps: true, corev1.ResourceServicesNodePorts: true, corev1.ResourceServicesLoadBalancers: true,
	corev1.ResourceRequestsStorage: true, corev1.ResourceStorage: false,
}

// integerResourceNames are counted in whole objects.
var integerResourceNames = map[corev1.ResourceName]bool{
	corev1.ResourcePods: true, corev1.ResourceServices: true, corev1.ResourceReplicationControllers: true,
	corev1.ResourceQuotas: true, corev1.ResourceSecrets: true, corev1.ResourcePersistentVolumeClaims: true,
	corev1.ResourceConfigMaps: true, corev1.ResourceServicesNodePorts: true, corev1.ResourceServicesLoadBalancers: true,
}

func isQuotaHugePages(name corev1.ResourceName) bool {
	return strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix) ||
		strings.HasPrefix(string(name), corev1.ResourceRequestsHugePagesPrefix)
}

// isNativeResource is true for a name without a domain or in the
// kubernetes.io domain.
func isNativeResource(name corev1.ResourceName) bool {
	return !strings.Contains(string(name), "/") || strings.Contains(string(name), corev1.ResourceDefaultNamespacePrefix)
}

// isExtendedResource is true for a name in a vendor's domain that
// stays a qualified name once "requests." is put before it.
func isExtendedResource(name corev1.ResourceName) bool {
	if isNativeResource(name) || strings.HasPrefix(string(name), corev1.DefaultResourceRequestsPrefix) {
		return false
	}
	return len(validation.IsQualifiedName(corev1.DefaultResourceRequestsPrefix+string(name))) == 0
}

// ValidateResourceQuota validates the spec of rq as the API server does:
// the names and values of hard, its scopes and its scope selector.
func ValidateResourceQuota(rq *corev1.ResourceQuota) field.ErrorList {
	var errs field.ErrorList
	if rq == nil {
		return nil
	}
	s := &rq.Spec
	hp := field.NewPath("spec", "hard")
	for _, name := range slices.Sorted(maps.Keys(s.Hard)) {
		p := hp.Key(string(name))
		errs = append(errs, validateQuotaResourceName(name, p)...)
		errs = append(errs, validateQuotaValue(name, s.Hard[name], p)...)
	}
	errs = append(errs, validateQuotaScopes(s, field.NewPath("spec", "scopes"))...)
	if s.ScopeSelector != nil {
		errs = append(errs, validateScopeSelector(s, field.NewPath("spec", "scopeSelector", "matchExpressions"))...)
	}
	return errs
}

func validateQuotaResourceName(name corev1.ResourceName, p *field.Path) field.ErrorList {
	errs := validateAnyResourceName(name, p)
	if !strings.Contains(string(name), "/") && !isStandardQuotaResource(name) {
		errs = append(errs, field.Invalid(p, string(name), "must be a standard resource for quota"))
	}
	return errs
}

func isStandardQuotaResource(name corev1.ResourceName) bool {
	return standardResourceNames[name] || isQuotaHugePages(name)
}

func validateQuotaValue(name corev1.ResourceName, q resource.Quantity, p *field.Path) field.ErrorList {
	errs := nonNegative(q, p)
	if (integerResourceNames[name] || isExtendedResource(name)) && q.MilliValue()%1000 != 0 {
		errs = append(errs, field.Invalid(p, q.String(), "must be an integer"))
	}
	return errs
}

// The scopes a quota may have; the pod scopes track the pods count and
// pod compute resources only, BestEffort the pods count only.
var (
	quotaScopes = []corev1.ResourceQuotaScope{
		corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating,
		corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort,
		corev1.ResourceQuotaScopePriorityClass, corev1.ResourceQuotaScopeCrossNamespacePodAffinity,
		corev1.ResourceQuotaScopeVolumeAttributesClass,
	}
	podComputeQuotaResources = []corev1.ResourceName{
		corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceLimitsCPU,
		corev1.ResourceLimitsMemory, corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory,
	}
	conflictingScopes = [][2]corev1.ResourceQuotaScope{
		{corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort},
		{corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating},
	}
)

// scopeValidFor says whether a quota of scope may limit name.
func scopeValidFor(scope corev1.ResourceQuotaScope, name corev1.ResourceName) bool {
	switch scope {
	case corev1.ResourceQuotaScopeBestEffort:
		return name == corev1.ResourcePods
	case corev1.ResourceQuotaScopeVolumeAttributesClass:
		return name == corev1.ResourcePersistentVolumeClaims || name == corev1.ResourceRequestsStorage
	case corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating,
		corev1.ResourceQuotaScopeNotBestEffort, corev1.ResourceQuotaScopePriorityClass,
		corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
		return name == corev1.ResourcePods || contains(podComputeQuotaResources, name)
	}
	return true
}

// unsupportedForScope is true when hard names a standard quota
// resource that scope cannot limit.
func unsupportedForScope(hard corev1.ResourceList, scope corev1.ResourceQuotaScope) bool {
	for name := range hard {
		if isStandardQuotaResource(name) && !scopeValidFor(scope, name) {
			return true
		}
	}
	return false
}

func validateQuotaScopes(s *corev1.ResourceQuotaSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	set := map[corev1.ResourceQuotaScope]bool{}
	for _, scope := range s.Scopes {
		if !contains(quotaScopes, scope) {
			errs = append(errs, field.Invalid(p, s.Scopes, "unsupported scope"))
		}
		if unsupportedForScope(s.Hard, scope) {
			errs = append(errs, field.Invalid(p, s.Scopes, "unsupported scope applied to resource"))
		}
		set[scope] = true
	}
	for _, pair := range conflictingScopes {
		if set[pair[0]] && set[pair[1]] {
			errs = append(errs, field.Invalid(p, s.Scopes, "conflicting scopes"))
		}
	}
	return errs
}

// validateScopeSelector checks each match expression. The API server
// names the list, not the expression; here the index is added, so that
// the error finds its line.
func validateScopeSelector(s *corev1.ResourceQuotaSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	set := map[corev1.ResourceQuotaScope]bool{}
	for i, req := range s.ScopeSelector.MatchExpressions {
		ip := p.Index(i)
		if !contains(quotaScopes, req.ScopeName) {
			errs = append(errs, field.Invalid(ip.Child("scopeName"), req.ScopeName, "unsupported scope"))
		}
		if unsupportedForScope(s.Hard, req.ScopeName) {
			errs = append(errs, field.Invalid(ip, req.ScopeName, "unsupported scope applied to resource"))
		}
		errs = append(errs, validateScopeOperator(req, ip)...)
		set[req.ScopeName] = true
	}
	for _, pair := range conflictingScopes {
		if set[pair[0]] && set[pair[1]] {
			errs = append(errs, field.Invalid(p, s.ScopeSelector, "conflicting scopes"))
		}
	}
	return errs
}

func validateScopeOperator(req corev1.ScopedResourceSelectorRequirement, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch req.ScopeName {
	case corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort,
		corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating,
		corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
		if req.Operator != corev1.ScopeSelectorOpExists {
			errs = append(errs, field.Invalid(p.Child("operator"), req.Operator,
				"must be 'Exist' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity"))
		}
	}
	switch req.Operator {
	case corev1.ScopeSelectorOpIn, corev1.ScopeSelectorOpNotIn:
		if len(req.Values) == 0 {
			errs = append(errs, field.Required(p.Child("values"), "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"))
		}
	case corev1.ScopeSelectorOpExists, corev1.ScopeSelectorOpDoesNotExist:
		if len(req.Values) != 0 {
			errs = append(errs, field.Invalid(p.Child("values"), req.Values, "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"))
		}
	default:
		errs = append(errs, field.Invalid(p.Child("operator"), req.Operator, "not a valid selector operator"))
	}
	return errs
}
