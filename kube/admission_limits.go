package kube

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The LimitRanger admission plugin (k8s.io/kubernetes
// plugin/pkg/admission/limitranger), for pods and claims being created.
// Its refusals are not about one field of the input but about the
// object against a LimitRange, so they are errors in the API server's
// words rather than field errors; a caller reports them as
//
//	pods "web" is forbidden: maximum cpu usage per Container is 500m, but limit is 1.

// errNoObject is returned when an admission function is given no object.
var errNoObject = errors.New("admitting: no object")

// limitRangerAnnotation records on a pod what LimitRanger defaulted.
const limitRangerAnnotation = "kubernetes.io/limit-ranger"

// ApplyLimitRanges does to a defaulted pod being created what the
// LimitRanger plugin does. First, in the order of ranges, each range's
// Container defaults fill the limits and requests its containers and
// init containers leave unset (so the first range to name a resource
// wins), and the pod is annotated with what was set. Then every range's
// min, max and maxLimitRequestRatio are checked for each container and,
// for type Pod, over the pod's totals (the sum of app containers and
// sidecars, or the largest init container if more, without overhead).
//
// ranges are defaulted (SetLimitRangeDefaults) on a copy first. Between
// the two steps the containers' resources are validated again, as the
// API server validates a pod after its mutating admission: a default
// limit below a request the pod sets makes the pod invalid, and the
// error is then an *InvalidError.
// The error, nil if the pod fits, holds every refusal, one per message
// as the API server words it, in the order of ranges then items then
// containers, resources by name. The API server stops at the first
// range that refuses; all are reported here, so that one run shows all.
func ApplyLimitRanges(pod *corev1.Pod, ranges []*corev1.LimitRange) error {
	if pod == nil {
		return errNoObject
	}
	ranges = defaultedRanges(ranges)
	for _, lr := range ranges {
		defaultPodResources(pod, lr)
	}
	if errs := validatePodResources(pod); len(errs) > 0 {
		return &InvalidError{Kind: "Pod", Name: pod.Name, Errs: errs}
	}
	var errs []error
	for _, lr := range ranges {
		errs = append(errs, checkPodLimits(pod, lr)...)
	}
	return utilerrors.NewAggregate(errs)
}

// InvalidError is a pod made invalid by admission's defaults, worded as
// the API server words it to kubectl:
//
//	Pod "web" is invalid: spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 500m
//
// Errs locate the fields, so that a caller can add the file and line.
type InvalidError struct {
	Kind, Name string
	Errs       field.ErrorList
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("%s %q is invalid: %v", e.Kind, e.Name, e.Errs.ToAggregate())
}

// validatePodResources validates the resources of every container.
func validatePodResources(pod *corev1.Pod) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	for i := range pod.Spec.Containers {
		errs = append(errs, validateResources(&pod.Spec.Containers[i].Resources, spec.Child("containers").Index(i).Child("resources"))...)
	}
	for i := range pod.Spec.InitContainers {
		errs = append(errs, validateResources(&pod.Spec.InitContainers[i].Resources, spec.Child("initContainers").Index(i).Child("resources"))...)
	}
	return errs
}

// SetLimitRangeDefaults fills in what the API server does for a new
// LimitRange (pkg/apis/core/v1 SetDefaults_LimitRangeItem), before it is
// validated and stored: in each Container item, an unset default limit
// is the max, and an unset default request is the default limit, or
// else the min. This is why a range with only a max caps containers
// that set nothing at that max. It may be called more than once.
func SetLimitRangeDefaults(lr *corev1.LimitRange) {
	for i := range lr.Spec.Limits {
		item := &lr.Spec.Limits[i]
		if item.Type != corev1.LimitTypeContainer {
			continue
		}
		if item.Default == nil {
			item.Default = corev1.ResourceList{}
		}
		if item.DefaultRequest == nil {
			item.DefaultRequest = corev1.ResourceList{}
		}
		fillUnset(item.Default, item.Max)
		fillUnset(item.DefaultRequest, item.Default)
		fillUnset(item.DefaultRequest, item.Min)
	}
}

// defaultedRanges returns defaulted copies of ranges, without nils, so
// that ranges as written and as stored act alike.
func defaultedRanges(ranges []*corev1.LimitRange) []*corev1.LimitRange {
	var out []*corev1.LimitRange
	for _, lr := range ranges {
		if lr == nil {
			continue
		}
		lr = lr.DeepCopy()
		SetLimitRangeDefaults(lr)
		out = append(out, lr)
	}
	return out
}

// defaultPodResources fills unset limits and requests from the Container
// items of lr, and says so in the pod's annotation.
func defaultPodResources(pod *corev1.Pod, lr *corev1.LimitRange) {
	limits, requests := corev1.ResourceList{}, corev1.ResourceList{}
	for _, item := range lr.Spec.Limits {
		if item.Type != corev1.LimitTypeContainer {
			continue
		}
		maps.Copy(requests, item.DefaultRequest)
		maps.Copy(limits, item.Default)
	}
	var notes []string
	for i := range pod.Spec.Containers {
		notes = append(notes, defaultContainerResources(&pod.Spec.Containers[i], "container", limits, requests)...)
	}
	for i := range pod.Spec.InitContainers {
		notes = append(notes, defaultContainerResources(&pod.Spec.InitContainers[i], "init container", limits, requests)...)
	}
	if len(notes) == 0 {
		return
	}
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[limitRangerAnnotation] = "LimitRanger plugin set: " + strings.Join(notes, "; ")
}

// defaultContainerResources sets what c leaves unset and returns the
// notes for the annotation, requests first, as the plugin writes them.
func defaultContainerResources(c *corev1.Container, kind string, limits, requests corev1.ResourceList) []string {
	if c.Resources.Limits == nil {
		c.Resources.Limits = corev1.ResourceList{}
	}
	if c.Resources.Requests == nil {
		c.Resources.Requests = corev1.ResourceList{}
	}
	var notes []string
	if set := fillUnset(c.Resources.Requests, requests); len(set) > 0 {
		notes = append(notes, fmt.Sprintf("%s request for %s %s", strings.Join(set, ", "), kind, c.Name))
	}
	if set := fillUnset(c.Resources.Limits, limits); len(set) > 0 {
		notes = append(notes, fmt.Sprintf("%s limit for %s %s", strings.Join(set, ", "), kind, c.Name))
	}
	return notes
}

// fillUnset copies into dst the entries of defaults it lacks and
// returns their names, sorted.
func fillUnset(dst, defaults corev1.ResourceList) []string {
	var set []string
	for _, name := range slices.Sorted(maps.Keys(defaults)) {
		if _, ok := dst[name]; !ok {
			dst[name] = defaults[name].DeepCopy()
			set = append(set, string(name))
		}
	}
	return set
}

// checkPodLimits checks pod against the Container and Pod items of lr.
func checkPodLimits(pod *corev1.Pod, lr *corev1.LimitRange) []error {
	var errs []error
	for _, item := range lr.Spec.Limits {
		switch item.Type {
		case corev1.LimitTypeContainer:
			for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
				for i := range list {
					r := &list[i].Resources
					errs = append(errs, checkLimitItem(&item, r.Requests, r.Limits)...)
				}
			}
		case corev1.LimitTypePod:
			requests, limits := podTotals(pod, false)
			errs = append(errs, checkLimitItem(&item, requests, limits)...)
		}
	}
	return errs
}

// checkLimitItem checks min, max and maxLimitRequestRatio of item
// against one container's or one pod's requests and limits.
func checkLimitItem(item *corev1.LimitRangeItem, requests, limits corev1.ResourceList) []error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(item.Min)) {
		errs = appendErr(errs, checkMin(item.Type, name, item.Min[name], requests, limits))
	}
	for _, name := range slices.Sorted(maps.Keys(item.Max)) {
		errs = appendErr(errs, checkMax(item.Type, name, item.Max[name], requests, limits))
	}
	for _, name := range slices.Sorted(maps.Keys(item.MaxLimitRequestRatio)) {
		errs = appendErr(errs, checkRatio(item.Type, name, item.MaxLimitRequestRatio[name], requests, limits))
	}
	return errs
}

func appendErr(errs []error, err error) []error {
	if err != nil {
		return append(errs, err)
	}
	return errs
}

// atOnePrecision returns the values of request, limit and bound in one
// unit: thousandths where none would overflow, as the plugin does, so a
// cpu of 0.5001 counts as 501m.
func atOnePrecision(request, limit, bound resource.Quantity) (int64, int64, int64) {
	r, l, b := request.Value(), limit.Value(), bound.Value()
	if r <= resource.MaxMilliValue && l <= resource.MaxMilliValue && b <= resource.MaxMilliValue {
		return request.MilliValue(), limit.MilliValue(), bound.MilliValue()
	}
	return r, l, b
}

func checkMin(t corev1.LimitType, name corev1.ResourceName, min resource.Quantity, requests, limits corev1.ResourceList) error {
	req, hasReq := requests[name]
	lim, hasLim := limits[name]
	r, l, b := atOnePrecision(req, lim, min)
	switch {
	case !hasReq:
		return fmt.Errorf("minimum %s usage per %s is %s.  No request is specified.", name, t, min.String())
	case r < b:
		return fmt.Errorf("minimum %s usage per %s is %s, but request is %s.", name, t, min.String(), req.String())
	case hasLim && l < b:
		return fmt.Errorf("minimum %s usage per %s is %s, but limit is %s.", name, t, min.String(), lim.String())
	}
	return nil
}

func checkMax(t corev1.LimitType, name corev1.ResourceName, max resource.Quantity, requests, limits corev1.ResourceList) error {
	req, hasReq := requests[name]
	lim, hasLim := limits[name]
	r, l, b := atOnePrecision(req, lim, max)
	switch {
	case !hasLim:
		return fmt.Errorf("maximum %s usage per %s is %s.  No limit is specified.", name, t, max.String())
	case l > b:
		return fmt.Errorf("maximum %s usage per %s is %s, but limit is %s.", name, t, max.String(), lim.String())
	case hasReq && r > b:
		return fmt.Errorf("maximum %s usage per %s is %s, but request is %s.", name, t, max.String(), req.String())
	}
	return nil
}

func checkRatio(t corev1.LimitType, name corev1.ResourceName, ratio resource.Quantity, requests, limits corev1.ResourceList) error {
	req, hasReq := requests[name]
	lim, hasLim := limits[name]
	r, l, _ := atOnePrecision(req, lim, ratio)
	if !hasReq || r == 0 {
		return fmt.Errorf("%s max limit to request ratio per %s is %s, but no request is specified or request is 0.", name, t, ratio.String())
	}
	if !hasLim || l == 0 {
		return fmt.Errorf("%s max limit to request ratio per %s is %s, but no limit is specified or limit is 0.", name, t, ratio.String())
	}
	observed := float64(l) / float64(r)
	scaled, bound := observed, float64(ratio.Value())
	if ratio.Value() <= resource.MaxMilliValue {
		scaled, bound = observed*1000, float64(ratio.MilliValue())
	}
	if scaled > bound {
		return fmt.Errorf("%s max limit to request ratio per %s is %s, but provided ratio is %f.", name, t, ratio.String(), observed)
	}
	return nil
}

// CheckClaimLimitRanges checks a claim being created against the
// PersistentVolumeClaim items of ranges, as LimitRanger does: its
// requests (its limits are not the user's to set) against min and max.
// The error holds every refusal, in the API server's words.
func CheckClaimLimitRanges(pvc *corev1.PersistentVolumeClaim, ranges []*corev1.LimitRange) error {
	if pvc == nil {
		return errNoObject
	}
	var errs []error
	requests := pvc.Spec.Resources.Requests
	for _, lr := range ranges {
		if lr == nil {
			continue
		}
		for _, item := range lr.Spec.Limits {
			if item.Type != corev1.LimitTypePersistentVolumeClaim {
				continue
			}
			for _, name := range slices.Sorted(maps.Keys(item.Min)) {
				errs = appendErr(errs, checkMin(item.Type, name, item.Min[name], requests, nil))
			}
			for _, name := range slices.Sorted(maps.Keys(item.Max)) {
				errs = appendErr(errs, checkMaxRequest(item.Type, name, item.Max[name], requests))
			}
		}
	}
	return utilerrors.NewAggregate(errs)
}

// checkMaxRequest holds a claim's request to max.
func checkMaxRequest(t corev1.LimitType, name corev1.ResourceName, max resource.Quantity, requests corev1.ResourceList) error {
	req, hasReq := requests[name]
	r, _, b := atOnePrecision(req, resource.Quantity{}, max)
	switch {
	case !hasReq:
		return fmt.Errorf("maximum %s usage per %s is %s.  No request is specified.", name, t, max.String())
	case r > b:
		return fmt.Errorf("maximum %s usage per %s is %s, but request is %s.", name, t, max.String(), req.String())
	}
	return nil
}

// podTotals returns what a pod asks for in all: app containers and
// sidecars (restartable init containers) together, or, where more, an
// init container with the sidecars started before it. For quota (as
// the API server's PodRequests and PodLimits), the values the pod sets
// itself (spec.resources) replace the containers' and overhead is added
// to requests and to the limits the pod has; LimitRanger uses neither.
func podTotals(pod *corev1.Pod, forQuota bool) (requests, limits corev1.ResourceList) {
	requests = containerTotals(pod, func(r *corev1.ResourceRequirements) corev1.ResourceList { return r.Requests })
	limits = containerTotals(pod, func(r *corev1.ResourceRequirements) corev1.ResourceList { return r.Limits })
	if forQuota {
		if r := pod.Spec.Resources; r != nil {
			podLevel(requests, r.Requests)
			podLevel(limits, r.Limits)
		}
		addResources(requests, pod.Spec.Overhead)
		for name, q := range pod.Spec.Overhead {
			if v, ok := limits[name]; ok {
				v.Add(q)
				limits[name] = v
			}
		}
	}
	return requests, limits
}

func containerTotals(pod *corev1.Pod, list func(*corev1.ResourceRequirements) corev1.ResourceList) corev1.ResourceList {
	total := corev1.ResourceList{}
	for i := range pod.Spec.Containers {
		addResources(total, list(&pod.Spec.Containers[i].Resources))
	}
	sidecars, inits := corev1.ResourceList{}, corev1.ResourceList{}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		own := list(&c.Resources)
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			addResources(total, own)
			addResources(sidecars, own)
			maxResources(inits, sidecars)
			continue
		}
		running := corev1.ResourceList{}
		addResources(running, own)
		addResources(running, sidecars)
		maxResources(inits, running)
	}
	maxResources(total, inits)
	return total
}

// podLevel puts in total the pod-level values of the resources a pod
// may set for itself (cpu, memory, huge pages).
func podLevel(total, pod corev1.ResourceList) {
	for name, q := range pod {
		if podLevelResource(name) {
			total[name] = q.DeepCopy()
		}
	}
}

func podLevelResource(name corev1.ResourceName) bool {
	return name == corev1.ResourceCPU || name == corev1.ResourceMemory || strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}

func addResources(dst, src corev1.ResourceList) {
	for name, q := range src {
		v, ok := dst[name]
		if !ok {
			dst[name] = q.DeepCopy()
			continue
		}
		v.Add(q)
		dst[name] = v
	}
}

func maxResources(dst, src corev1.ResourceList) {
	for name, q := range src {
		if v, ok := dst[name]; !ok || q.Cmp(v) > 0 {
			dst[name] = q.DeepCopy()
		}
	}
}
