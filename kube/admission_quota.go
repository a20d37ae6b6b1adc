package kube

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/sets"
)

// The ResourceQuota admission plugin (k8s.io/apiserver
// pkg/admission/plugin/resourcequota) and the quota evaluators it asks
// (k8s.io/kubernetes pkg/quota/v1/evaluator/core), for objects being
// created. There is no quota controller here: what a quota has used is
// counted from the objects already in its namespace, on each call.

// PodUsage is what pod counts against quota, as the pod evaluator
// counts it: count/pods always; and, unless the pod has ended
// (Succeeded or Failed), pods, its requests (as cpu, memory,
// ephemeral-storage and requests.*, huge pages and requests.<extended>)
// and its limits (limits.*). Requests and limits are the pod's totals:
// app containers and sidecars, or the largest init container if more,
// the pod-level values where the pod sets them, plus overhead.
func PodUsage(pod *corev1.Pod) corev1.ResourceList {
	if pod == nil {
		return corev1.ResourceList{}
	}
	usage := corev1.ResourceList{"count/pods": *resource.NewQuantity(1, resource.DecimalSI)}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return usage
	}
	requests, limits := podTotals(pod, true)
	maps.Copy(usage, computeUsage(requests, limits))
	return usage
}

// computeUsage names requests and limits as quota does; pods is 1.
func computeUsage(requests, limits corev1.ResourceList) corev1.ResourceList {
	usage := corev1.ResourceList{corev1.ResourcePods: *resource.NewQuantity(1, resource.DecimalSI)}
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
		if q, ok := requests[name]; ok {
			usage[name] = q.DeepCopy()
			usage[corev1.DefaultResourceRequestsPrefix+name] = q.DeepCopy()
		}
		if q, ok := limits[name]; ok {
			usage[corev1.ResourceName("limits.")+name] = q.DeepCopy()
		}
	}
	for name, q := range requests {
		if strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix) {
			usage[name] = q.DeepCopy()
		}
		if strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix) || isExtendedResource(name) {
			usage[corev1.DefaultResourceRequestsPrefix+name] = q.DeepCopy()
		}
	}
	return usage
}

// podQuotaResources are the names of hard a pod counts against, with
// requests.hugepages-*, hugepages-* and requests.<extended>.
var podQuotaResources = []corev1.ResourceName{
	"count/pods", corev1.ResourcePods, corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage,
	corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceRequestsEphemeralStorage,
	corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceLimitsEphemeralStorage,
}

func podQuotaResource(name corev1.ResourceName) bool {
	return contains(podQuotaResources, name) || isQuotaHugePages(name) ||
		(strings.HasPrefix(string(name), corev1.DefaultResourceRequestsPrefix) &&
			isExtendedResource(corev1.ResourceName(strings.TrimPrefix(string(name), corev1.DefaultResourceRequestsPrefix))))
}

// ObjectUsage is what obj counts against quota: PodUsage for a pod;
// for any object its count, count/<resource> for the core group and
// count/<resource>.<group> for others; and the older names of the core
// kinds: configmaps, secrets, services (with services.nodeports and
// services.loadbalancers), persistentvolumeclaims (with requests.storage
// and the same per storage class, <class>.storageclass.storage.k8s.io/...).
// Its kind comes from its apiVersion and kind, or from its Go type.
func ObjectUsage(obj runtime.Object) (corev1.ResourceList, error) {
	if isNilObject(obj) {
		return nil, errNoObject
	}
	if pod, ok := obj.(*corev1.Pod); ok {
		return PodUsage(pod), nil
	}
	gvk, err := kindOfObject(obj)
	if err != nil {
		return nil, err
	}
	plural, _ := meta.UnsafeGuessKindToResource(gvk)
	count := "count/" + plural.Resource
	if gvk.Group != "" {
		count += "." + gvk.Group
	}
	one := *resource.NewQuantity(1, resource.DecimalSI)
	usage := corev1.ResourceList{corev1.ResourceName(count): one}
	switch o := obj.(type) {
	case *corev1.ConfigMap:
		usage[corev1.ResourceConfigMaps] = one
	case *corev1.Secret:
		usage[corev1.ResourceSecrets] = one
	case *corev1.Service:
		maps.Copy(usage, serviceUsage(o))
	case *corev1.PersistentVolumeClaim:
		maps.Copy(usage, claimUsage(o))
	case *corev1.ReplicationController:
		usage[corev1.ResourceReplicationControllers] = one
	case *corev1.ResourceQuota:
		usage[corev1.ResourceQuotas] = one
	}
	return usage, nil
}

// isNilObject is true for nil and for a typed nil pointer.
func isNilObject(obj runtime.Object) bool {
	if obj == nil {
		return true
	}
	v := reflect.ValueOf(obj)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// kindOfObject returns the kind obj says it is, or else that of its Go
// type.
func kindOfObject(obj runtime.Object) (schema.GroupVersionKind, error) {
	if gvk := obj.GetObjectKind().GroupVersionKind(); gvk.Kind != "" {
		return gvk, nil
	}
	kinds, _, err := scheme().ObjectKinds(obj)
	if err != nil || len(kinds) == 0 {
		return schema.GroupVersionKind{}, fmt.Errorf("counting %T against quota: unknown kind", obj)
	}
	return kinds[0], nil
}

func serviceUsage(s *corev1.Service) corev1.ResourceList {
	usage := corev1.ResourceList{corev1.ResourceServices: *resource.NewQuantity(1, resource.DecimalSI)}
	var lbs, nodePorts int64
	switch s.Spec.Type {
	case corev1.ServiceTypeLoadBalancer:
		lbs = 1
		if a := s.Spec.AllocateLoadBalancerNodePorts; a == nil || *a {
			nodePorts = int64(len(s.Spec.Ports))
		}
	case corev1.ServiceTypeNodePort:
		nodePorts = int64(len(s.Spec.Ports))
	}
	usage[corev1.ResourceServicesLoadBalancers] = *resource.NewQuantity(lbs, resource.DecimalSI)
	usage[corev1.ResourceServicesNodePorts] = *resource.NewQuantity(nodePorts, resource.DecimalSI)
	return usage
}

// storageClassQuotaSuffix ends the names of per-class claim quotas.
const storageClassQuotaSuffix = ".storageclass.storage.k8s.io/"

func claimUsage(c *corev1.PersistentVolumeClaim) corev1.ResourceList {
	one := *resource.NewQuantity(1, resource.DecimalSI)
	usage := corev1.ResourceList{corev1.ResourcePersistentVolumeClaims: one}
	class := ""
	if c.Spec.StorageClassName != nil {
		class = *c.Spec.StorageClassName
	}
	if class != "" {
		usage[corev1.ResourceName(class+storageClassQuotaSuffix)+corev1.ResourcePersistentVolumeClaims] = one
	}
	if q, ok := c.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
		usage[corev1.ResourceRequestsStorage] = q.DeepCopy()
		if class != "" {
			usage[corev1.ResourceName(class+storageClassQuotaSuffix)+corev1.ResourceRequestsStorage] = q.DeepCopy()
		}
	}
	return usage
}

// quotaMatches says whether rq counts obj: rq must limit one of the
// resources obj's kind is counted in, and every scope of rq must hold
// for obj. Only pods and claims have scopes; a scoped quota counts no
// other kind.
func quotaMatches(rq *corev1.ResourceQuota, obj runtime.Object, usage corev1.ResourceList) (bool, error) {
	_, isPod := obj.(*corev1.Pod)
	limits := false
	for name := range rq.Spec.Hard {
		if _, ok := usage[name]; ok || (isPod && podQuotaResource(name)) {
			limits = true
			break
		}
	}
	if !limits {
		return false, nil
	}
	for _, sel := range quotaSelectors(rq) {
		ok, err := inScope(obj, sel)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// inScope says whether obj is in the scope sel names. Only pods and
// claims have scopes.
func inScope(obj runtime.Object, sel corev1.ScopedResourceSelectorRequirement) (bool, error) {
	switch o := obj.(type) {
	case *corev1.Pod:
		return podInScope(o, sel)
	case *corev1.PersistentVolumeClaim:
		if sel.ScopeName != corev1.ResourceQuotaScopeVolumeAttributesClass {
			return false, nil
		}
		class := ""
		if o.Spec.VolumeAttributesClassName != nil {
			class = *o.Spec.VolumeAttributesClassName
		}
		return labelIn(class, sel)
	}
	return false, nil
}

// quotaSelectors are rq's scopes, each as Exists, then its selector.
func quotaSelectors(rq *corev1.ResourceQuota) []corev1.ScopedResourceSelectorRequirement {
	var out []corev1.ScopedResourceSelectorRequirement
	for _, s := range rq.Spec.Scopes {
		out = append(out, corev1.ScopedResourceSelectorRequirement{ScopeName: s, Operator: corev1.ScopeSelectorOpExists})
	}
	if rq.Spec.ScopeSelector != nil {
		out = append(out, rq.Spec.ScopeSelector.MatchExpressions...)
	}
	return out
}

// podInScope says whether pod is in the scope sel names; no pod is in
// a scope of claims (VolumeAttributesClass) or an unknown one.
func podInScope(pod *corev1.Pod, sel corev1.ScopedResourceSelectorRequirement) (bool, error) {
	switch sel.ScopeName {
	case corev1.ResourceQuotaScopeTerminating:
		return terminating(pod), nil
	case corev1.ResourceQuotaScopeNotTerminating:
		return !terminating(pod), nil
	case corev1.ResourceQuotaScopeBestEffort:
		return bestEffort(pod), nil
	case corev1.ResourceQuotaScopeNotBestEffort:
		return !bestEffort(pod), nil
	case corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
		return crossNamespaceAffinity(pod), nil
	case corev1.ResourceQuotaScopePriorityClass:
		return labelIn(pod.Spec.PriorityClassName, sel)
	}
	return false, nil
}

// terminating pods have an active deadline.
func terminating(pod *corev1.Pod) bool {
	return pod.Spec.ActiveDeadlineSeconds != nil && *pod.Spec.ActiveDeadlineSeconds >= 0
}

// bestEffort pods request and limit no cpu and no memory.
func bestEffort(pod *corev1.Pod) bool {
	var lists []corev1.ResourceList
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range cs {
			lists = append(lists, cs[i].Resources.Requests, cs[i].Resources.Limits)
		}
	}
	if r := pod.Spec.Resources; r != nil {
		lists = append(lists, r.Requests, r.Limits)
	}
	for _, l := range lists {
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if q, ok := l[name]; ok && q.Sign() > 0 {
				return false
			}
		}
	}
	return true
}

// crossNamespaceAffinity is true when a pod (anti-)affinity term names
// namespaces or selects them.
func crossNamespaceAffinity(pod *corev1.Pod) bool {
	a := pod.Spec.Affinity
	if a == nil {
		return false
	}
	var terms []corev1.PodAffinityTerm
	if a.PodAffinity != nil {
		terms = append(terms, a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution...)
		for _, w := range a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			terms = append(terms, w.PodAffinityTerm)
		}
	}
	if a.PodAntiAffinity != nil {
		terms = append(terms, a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution...)
		for _, w := range a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			terms = append(terms, w.PodAffinityTerm)
		}
	}
	for _, t := range terms {
		if len(t.Namespaces) > 0 || t.NamespaceSelector != nil {
			return true
		}
	}
	return false
}

// labelIn matches a pod's priority class, or a claim's volume
// attributes class, as the evaluators do: as a label selector over a
// label that only an object naming a class has. In needs the label;
// NotIn and DoesNotExist hold without it.
func labelIn(class string, sel corev1.ScopedResourceSelectorRequirement) (bool, error) {
	switch sel.Operator {
	case corev1.ScopeSelectorOpExists:
		return class != "", nil
	case corev1.ScopeSelectorOpDoesNotExist:
		return class == "", nil
	case corev1.ScopeSelectorOpIn:
		return class != "" && slices.Contains(sel.Values, class), nil
	case corev1.ScopeSelectorOpNotIn:
		return class == "" || !slices.Contains(sel.Values, class), nil
	}
	return false, fmt.Errorf("%q is not a valid scope selector operator", sel.Operator)
}

// QuotaUsage is what the objects already in rq's namespace use of each
// resource rq limits, counting only those rq matches (so a pod outside
// rq's scopes counts nothing). existing is every object of the
// namespace other than the one being created or replaced: pods (ended
// ones count only in count/pods), ConfigMaps, Secrets, claims, and any
// other kind for its count/<resource>.<group>.
func QuotaUsage(rq *corev1.ResourceQuota, existing []runtime.Object) (corev1.ResourceList, error) {
	if rq == nil {
		return nil, errNoObject
	}
	used := corev1.ResourceList{}
	for name := range rq.Spec.Hard {
		used[name] = *resource.NewQuantity(0, resource.DecimalSI)
	}
	for _, obj := range existing {
		usage, err := ObjectUsage(obj)
		if err != nil {
			return nil, err
		}
		ok, err := quotaMatches(rq, obj, usage)
		if err != nil {
			return nil, fmt.Errorf("matching scopes of quota %s: %w", rq.Name, err)
		}
		if ok {
			addResources(used, mask(usage, rq.Spec.Hard))
		}
	}
	return used, nil
}

// QuotaStatus is the status the quota controller would give rq, for
// get -o yaml: hard as in the spec, used for each name of hard (zero
// where used has none).
func QuotaStatus(rq *corev1.ResourceQuota, used corev1.ResourceList) corev1.ResourceQuotaStatus {
	if rq == nil {
		return corev1.ResourceQuotaStatus{}
	}
	st := corev1.ResourceQuotaStatus{Hard: rq.Spec.Hard.DeepCopy(), Used: corev1.ResourceList{}}
	for name := range rq.Spec.Hard {
		if q, ok := used[name]; ok {
			st.Used[name] = q.DeepCopy()
		} else {
			st.Used[name] = *resource.NewQuantity(0, resource.DecimalSI)
		}
	}
	return st
}

// CheckQuota is the ResourceQuota plugin's verdict on creating obj (a
// pod after ApplyLimitRanges, or a ConfigMap, Secret, claim or any
// other object) in a namespace holding quotas and existing (as for
// QuotaUsage). nil means it fits every quota that counts it.
//
// A pod is first refused by each quota limiting cpu or memory (requests
// or limits) that one of its containers does not set:
//
//	failed quota: compute: must specify limits.cpu for: app; requests.memory for: app,sidecar
//
// and otherwise by each quota it would take past its hard limits:
//
//	exceeded quota: compute, requested: requests.cpu=2, used: requests.cpu=1, limited: requests.cpu=2
//
// Every refusing quota is named, in the order of quotas, in one
// aggregate error ("[first, second]") as ApplyLimitRanges returns; the
// API server names only the first.
func CheckQuota(obj runtime.Object, quotas []*corev1.ResourceQuota, existing []runtime.Object) error {
	usage, err := ObjectUsage(obj)
	if err != nil {
		return err
	}
	var matched []*corev1.ResourceQuota
	var failed []error
	for _, rq := range quotas {
		if rq == nil {
			continue
		}
		ok, err := quotaMatches(rq, obj, usage)
		if err != nil {
			return fmt.Errorf("matching scopes of quota %s: %w", rq.Name, err)
		}
		if !ok {
			continue
		}
		if pod, isPod := obj.(*corev1.Pod); isPod {
			if err := podConstraints(pod, rq.Spec.Hard); err != nil {
				failed = append(failed, fmt.Errorf("failed quota: %s: %w", rq.Name, err))
			}
		}
		matched = append(matched, rq)
	}
	if len(failed) > 0 {
		return utilerrors.NewAggregate(failed)
	}
	if neg := negative(usage); len(neg) > 0 {
		return fmt.Errorf("quota usage is negative for resource(s): %s", strings.Join(neg, ","))
	}
	delta := withoutZeros(usage)
	var exceeded []error
	for _, rq := range matched {
		if err := checkHard(rq, delta, existing); err != nil {
			exceeded = append(exceeded, err)
		}
	}
	return utilerrors.NewAggregate(exceeded)
}

// checkHard refuses delta where it would take rq past its hard limits.
func checkHard(rq *corev1.ResourceQuota, delta corev1.ResourceList, existing []runtime.Object) error {
	requested := mask(delta, rq.Spec.Hard)
	if len(requested) == 0 {
		return nil
	}
	used, err := QuotaUsage(rq, existing)
	if err != nil {
		return err
	}
	var over []corev1.ResourceName
	for name, q := range requested {
		total := used[name].DeepCopy()
		total.Add(q)
		if total.Cmp(rq.Spec.Hard[name]) > 0 {
			over = append(over, name)
		}
	}
	if len(over) == 0 {
		return nil
	}
	return fmt.Errorf("exceeded quota: %s, requested: %s, used: %s, limited: %s", rq.Name,
		printResources(requested, over), printResources(used, over), printResources(rq.Spec.Hard, over))
}

// quotaConstrained are the resources every container of a pod must set
// when a quota limits them, a rule Kubernetes keeps for compatibility.
var quotaConstrained = []corev1.ResourceName{
	corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceRequestsCPU,
	corev1.ResourceRequestsMemory, corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory,
}

// podConstraints names, for each of those resources hard limits, the
// containers and init containers that do not set it. A pod that sets
// its own cpu, memory or huge pages (spec.resources) is exempt.
func podConstraints(pod *corev1.Pod, hard corev1.ResourceList) error {
	if podLevelSet(pod) {
		return nil
	}
	missing := map[corev1.ResourceName]sets.Set[string]{}
	for _, cs := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range cs {
			set := computeUsage(cs[i].Resources.Requests, cs[i].Resources.Limits)
			for _, name := range quotaConstrained {
				if _, limited := hard[name]; !limited {
					continue
				}
				if _, ok := set[name]; !ok {
					if missing[name] == nil {
						missing[name] = sets.New[string]()
					}
					missing[name].Insert(cs[i].Name)
				}
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(missing)) {
		parts = append(parts, fmt.Sprintf("%s for: %s", name, strings.Join(sets.List(missing[name]), ",")))
	}
	return fmt.Errorf("must specify %s", strings.Join(parts, "; "))
}

// podLevelSet is true when the pod sets a resource of its own.
func podLevelSet(pod *corev1.Pod) bool {
	r := pod.Spec.Resources
	if r == nil {
		return false
	}
	for _, l := range []corev1.ResourceList{r.Requests, r.Limits} {
		for name := range l {
			if podLevelResource(name) {
				return true
			}
		}
	}
	return false
}

// mask keeps the entries of l that hard names.
func mask(l, hard corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for name, q := range l {
		if _, ok := hard[name]; ok {
			out[name] = q.DeepCopy()
		}
	}
	return out
}

func withoutZeros(l corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for name, q := range l {
		if !q.IsZero() {
			out[name] = q.DeepCopy()
		}
	}
	return out
}

func negative(l corev1.ResourceList) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(l)) {
		if q := l[name]; q.Sign() < 0 {
			out = append(out, string(name))
		}
	}
	return out
}

// printResources writes the entries of l that names lists, sorted by
// name, as name=quantity separated by commas.
func printResources(l corev1.ResourceList, names []corev1.ResourceName) string {
	var parts []string
	for _, name := range slices.Sorted(slices.Values(names)) {
		if q, ok := l[name]; ok {
			parts = append(parts, fmt.Sprintf("%s=%s", name, q.String()))
		}
	}
	return strings.Join(parts, ",")
}

// ForbiddenError is an admission refusal of one object, worded as the
// API server words it to kubectl, one line per refusal:
//
//	pods "web" is forbidden: maximum cpu usage per Container is 500m, but limit is 1.
type ForbiddenError struct {
	Resource string // e.g. "pods", "persistentvolumeclaims", "deployments.apps"
	Name     string
	Err      error // as ApplyLimitRanges, CheckClaimLimitRanges or CheckQuota return it
}

func (e *ForbiddenError) Error() string {
	var lines []string
	for _, err := range flatten(e.Err) {
		lines = append(lines, fmt.Sprintf("%s %q is forbidden: %v", e.Resource, e.Name, err))
	}
	return strings.Join(lines, "\n")
}

func (e *ForbiddenError) Unwrap() error { return e.Err }

// flatten lists the refusals an aggregate holds.
func flatten(err error) []error {
	var agg utilerrors.Aggregate
	if errors.As(err, &agg) {
		return agg.Errors()
	}
	return []error{err}
}

// Admit is what the API server's admission does to obj, being created
// in a namespace holding ranges, quotas and existing (every other object
// of the namespace, as for QuotaUsage): LimitRanger first (defaulting a
// pod's resources, and checking pods and claims), then ResourceQuota on
// the result. A refusal is a *ForbiddenError, or an *InvalidError for a
// pod the ranges' defaults make invalid; a pod may be changed even when
// refused.
func Admit(obj runtime.Object, ranges []*corev1.LimitRange, quotas []*corev1.ResourceQuota, existing []runtime.Object) error {
	if isNilObject(obj) {
		return errNoObject
	}
	var err error
	switch o := obj.(type) {
	case *corev1.Pod:
		err = ApplyLimitRanges(o, ranges)
	case *corev1.PersistentVolumeClaim:
		err = CheckClaimLimitRanges(o, ranges)
	}
	if err == nil {
		err = CheckQuota(obj, quotas, existing)
	}
	var invalid *InvalidError
	if err == nil || errors.As(err, &invalid) {
		return err
	}
	return forbidden(obj, err)
}

func forbidden(obj runtime.Object, err error) error {
	gvk, kerr := kindOfObject(obj)
	if kerr != nil {
		return err
	}
	plural, _ := meta.UnsafeGuessKindToResource(gvk)
	res := plural.Resource
	if gvk.Group != "" {
		res += "." + gvk.Group
	}
	name := ""
	if m, merr := meta.Accessor(obj); merr == nil {
		name = m.GetName()
	}
	return &ForbiddenError{Resource: res, Name: name, Err: err}
}
