package kube

import (
	"slices"
	"strings"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Resource names a kind as the API server and kubectl do.
type Resource struct {
	Group string
	Kind  string
	// Versions are those accepted, the preferred first.
	Versions   []string
	Plural     string // "serviceaccounts": what `get` takes, and the store's directory
	Singular   string // "serviceaccount"
	Short      []string
	Namespaced bool
}

// Printed is the resource as kubectl prints it before an object's name:
// "serviceaccount", "role.rbac.authorization.k8s.io".
func (r Resource) Printed() string {
	if r.Group == "" {
		return strings.ToLower(r.Kind)
	}
	return strings.ToLower(r.Kind) + "." + r.Group
}

// Qualified is the plural with its group, as in a CustomResourceDefinition's
// name: "roles.rbac.authorization.k8s.io", "configmaps". No two resources
// share one.
func (r Resource) Qualified() string {
	if r.Group == "" {
		return r.Plural
	}
	return r.Plural + "." + r.Group
}

// Matches says whether name names r for `get`: its plural, singular,
// short names or kind, bare or followed by its group.
func (r Resource) Matches(name string) bool {
	name = strings.ToLower(name)
	if r.Group != "" {
		if bare, ok := strings.CutSuffix(name, "."+r.Group); ok {
			name = bare
		}
	}
	return name == r.Plural || name == r.Singular || name == strings.ToLower(r.Kind) || slices.Contains(r.Short, name)
}

// Effect says what podrun does with an object it keeps.
type Effect string

const (
	// NoEffect: stored and listed; nothing here acts on it.
	NoEffect Effect = "accepted, no effect"
	// Warned: stored and listed, with a warning, since a cluster would
	// act on it in ways that change how the pods behave.
	Warned Effect = "accepted with a warning"
	// Admitted: stored and honoured when pods are admitted.
	Admitted Effect = "honoured at admission"
)

// APIObject is a Kubernetes object with metadata: a typed one such as
// *rbacv1.Role, or a custom resource as *unstructured.Unstructured.
type APIObject interface {
	runtime.Object
	metav1.Object
}

// Kept is a validated object that podrun stores and lists but does not
// run: ServiceAccounts, RBAC, PodDisruptionBudgets and the other kinds of
// keptKinds, CustomResourceDefinitions and custom resources. Its namespace
// is set when its kind is namespaced and empty otherwise.
type Kept struct {
	Source   Source
	Resource Resource
	Object   APIObject
	Effect   Effect
	// Note says in one line what the object does here, and why.
	Note string
}

// keptKind is how one kind is checked and what it does here.
type keptKind struct {
	Resource
	effect Effect
	note   string
	// name is the API server's rule for metadata.name.
	name apivalidation.ValidateNameFunc
	// validate checks the defaulted object, as the API server does, for
	// the fields cheap and useful to check.
	validate func(runtime.Object) field.ErrorList
	// prepare sets what the API server sets on create.
	prepare func(runtime.Object)
}

// Notes for the kinds that share one.
const (
	rbacNote = "no effect here: there is no API server to authorize against"
	// admissionNote is what LimitRange and ResourceQuota do: they are
	// stored for the admission of the pods of their namespace.
	admissionNote = "honoured here: the pods of its namespace are admitted against it"
)

// keptKinds are the kinds podrun accepts and keeps without running them,
// in the order `get` lists them.
var keptKinds = []keptKind{
	{
		Resource: Resource{Kind: "Namespace", Versions: []string{"v1"}, Plural: "namespaces", Singular: "namespace", Short: []string{"ns"}},
		effect:   NoEffect, note: "no effect here: podrun runs pods in any namespace, created or not",
		name: apivalidation.ValidateNamespaceName, validate: none, prepare: prepareNamespace,
	},
	{
		Resource: Resource{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition", Versions: []string{"v1"},
			Plural: "customresourcedefinitions", Singular: "customresourcedefinition", Short: []string{"crd", "crds"}},
		effect: NoEffect, note: "no effect here beyond its kind: its custom resources are stored (their schema is not checked) and no controller acts on them",
		name: apivalidation.NameIsDNSSubdomain, validate: typed(validateDefinition), prepare: clearStatus,
	},
	{
		Resource: Resource{Kind: "ServiceAccount", Versions: []string{"v1"}, Plural: "serviceaccounts", Singular: "serviceaccount", Short: []string{"sa"}, Namespaced: true},
		effect:   Admitted, note: "honoured here: its pods are admitted with it and its automountServiceAccountToken; their tokens authenticate nothing, as no API server runs",
		name: apivalidation.ValidateServiceAccountName, validate: none,
	},
	{
		Resource: Resource{Kind: "LimitRange", Versions: []string{"v1"}, Plural: "limitranges", Singular: "limitrange", Short: []string{"limits"}, Namespaced: true},
		effect:   Admitted, note: admissionNote,
		name: apivalidation.NameIsDNSSubdomain, validate: typed(ValidateLimitRange), prepare: typedPrepare(SetLimitRangeDefaults),
	},
	{
		Resource: Resource{Kind: "ResourceQuota", Versions: []string{"v1"}, Plural: "resourcequotas", Singular: "resourcequota", Short: []string{"quota"}, Namespaced: true},
		effect:   Admitted, note: admissionNote,
		name: apivalidation.NameIsDNSSubdomain, validate: typed(ValidateResourceQuota), prepare: clearStatus,
	},
	{
		Resource: Resource{Group: rbacv1.GroupName, Kind: "Role", Versions: []string{"v1"}, Plural: "roles", Singular: "role", Namespaced: true},
		effect:   NoEffect, note: rbacNote,
		name: path.ValidatePathSegmentName, validate: typed(validateRole),
	},
	{
		Resource: Resource{Group: rbacv1.GroupName, Kind: "ClusterRole", Versions: []string{"v1"}, Plural: "clusterroles", Singular: "clusterrole"},
		effect:   NoEffect, note: rbacNote,
		name: path.ValidatePathSegmentName, validate: typed(validateClusterRole),
	},
	{
		Resource: Resource{Group: rbacv1.GroupName, Kind: "RoleBinding", Versions: []string{"v1"}, Plural: "rolebindings", Singular: "rolebinding", Namespaced: true},
		effect:   NoEffect, note: rbacNote,
		name: path.ValidatePathSegmentName, validate: typed(validateRoleBinding), prepare: typedPrepare(prepareRoleBinding),
	},
	{
		Resource: Resource{Group: rbacv1.GroupName, Kind: "ClusterRoleBinding", Versions: []string{"v1"}, Plural: "clusterrolebindings", Singular: "clusterrolebinding"},
		effect:   NoEffect, note: rbacNote,
		name: path.ValidatePathSegmentName, validate: typed(validateClusterRoleBinding), prepare: typedPrepare(prepareClusterRoleBinding),
	},
	{
		Resource: Resource{Group: policyv1.GroupName, Kind: "PodDisruptionBudget", Versions: []string{"v1"}, Plural: "poddisruptionbudgets", Singular: "poddisruptionbudget", Short: []string{"pdb"}, Namespaced: true},
		effect:   NoEffect, note: "no effect here: nothing evicts pods or drains this node",
		name: apivalidation.NameIsDNSSubdomain, validate: typed(validateDisruptionBudget), prepare: clearStatus,
	},
	{
		Resource: Resource{Group: autoscalingv2.GroupName, Kind: "HorizontalPodAutoscaler", Versions: []string{"v2", "v1"}, Plural: "horizontalpodautoscalers", Singular: "horizontalpodautoscaler", Short: []string{"hpa"}, Namespaced: true},
		effect:   NoEffect, note: "no effect here: there is no metrics server and no controller to scale workloads",
		name: apivalidation.NameIsDNSSubdomain, validate: validateAutoscaler, prepare: prepareAutoscaler,
	},
	{
		Resource: Resource{Group: networkingv1.GroupName, Kind: "NetworkPolicy", Versions: []string{"v1"}, Plural: "networkpolicies", Singular: "networkpolicy", Short: []string{"netpol"}, Namespaced: true},
		effect:   Warned, note: "NOT ENFORCED here: every pod reaches every other and the outside; on a cluster whose network plugin enforces policies, the traffic it does not allow would be dropped",
		name: apivalidation.NameIsDNSSubdomain, validate: typed(validateNetworkPolicy), prepare: typedPrepare(prepareNetworkPolicy),
	},
	{
		Resource: Resource{Group: networkingv1.GroupName, Kind: "Ingress", Versions: []string{"v1"}, Plural: "ingresses", Singular: "ingress", Short: []string{"ing"}, Namespaced: true},
		effect:   Warned, note: "NOT SERVED here: no ingress controller runs, nothing routes its hosts and paths; reach the pods through a hostPort",
		name: apivalidation.NameIsDNSSubdomain, validate: typed(validateIngress), prepare: clearStatus,
	},
	{
		Resource: Resource{Group: networkingv1.GroupName, Kind: "IngressClass", Versions: []string{"v1"}, Plural: "ingressclasses", Singular: "ingressclass"},
		effect:   NoEffect, note: "no effect here: no ingress controller runs",
		name: apivalidation.NameIsDNSSubdomain, validate: typed(validateIngressClass),
	},
	{
		Resource: Resource{Group: schedulingv1.GroupName, Kind: "PriorityClass", Versions: []string{"v1"}, Plural: "priorityclasses", Singular: "priorityclass", Short: []string{"pc"}},
		effect:   NoEffect, note: "no effect here: there is no scheduler to order or preempt pods by priority",
		name: apivalidation.NameIsDNSSubdomain, validate: typed(validatePriorityClass), prepare: typedPrepare(preparePriorityClass),
	},
}

// ServiceResource is the Service kind: its ClusterIP and nodePorts are
// allocated when it is stored.
var ServiceResource = Resource{Kind: "Service", Versions: []string{"v1"}, Plural: "services", Singular: "service", Short: []string{"svc"}, Namespaced: true}

// Kinds are the resources podrun accepts besides custom resources, in the
// order `get` lists them: pods and the objects pods use, then the kinds
// podrun keeps.
var Kinds = func() []Resource {
	rs := []Resource{
		{Kind: "Pod", Versions: []string{"v1"}, Plural: "pods", Singular: "pod", Short: []string{"po"}, Namespaced: true},
		{Kind: "ConfigMap", Versions: []string{"v1"}, Plural: "configmaps", Singular: "configmap", Short: []string{"cm"}, Namespaced: true},
		{Kind: "Secret", Versions: []string{"v1"}, Plural: "secrets", Singular: "secret", Namespaced: true},
		{Kind: "PersistentVolumeClaim", Versions: []string{"v1"}, Plural: "persistentvolumeclaims", Singular: "persistentvolumeclaim", Short: []string{"pvc"}, Namespaced: true},
		ServiceResource,
	}
	for _, k := range keptKinds {
		rs = append(rs, k.Resource)
	}
	return rs
}()

func findKept(group, kind string) *keptKind {
	for i := range keptKinds {
		if keptKinds[i].Group == group && keptKinds[i].Kind == kind {
			return &keptKinds[i]
		}
	}
	return nil
}

// keptKindNames lists the kept kinds, for error messages.
func keptKindNames() []string {
	var names []string
	for _, k := range keptKinds {
		names = append(names, k.Kind)
	}
	return names
}

// none is the validation of kinds whose metadata is all podrun checks.
func none(runtime.Object) field.ErrorList { return nil }

// typed adapts a validation of one type to the table's signature.
func typed[T runtime.Object](fn func(T) field.ErrorList) func(runtime.Object) field.ErrorList {
	return func(o runtime.Object) field.ErrorList { return fn(o.(T)) }
}

func typedPrepare[T runtime.Object](fn func(T)) func(runtime.Object) {
	return func(o runtime.Object) { fn(o.(T)) }
}

// kept checks, defaults and validates one object of a kept kind.
func kept(o Object, k *keptKind, opts Options) (*Kept, ErrorList) {
	gvk := kindOf(o)
	in, ok := o.Object.(APIObject)
	if _, unstructured := o.Object.(runtime.Unstructured); !ok || unstructured || !slices.Contains(k.Versions, gvk.Version) {
		var versions []string
		for _, v := range k.Versions {
			versions = append(versions, schema.GroupVersion{Group: k.Group, Version: v}.String())
		}
		return nil, ErrorList{located(o, field.NotSupported(field.NewPath("apiVersion"), gvk.GroupVersion().String(), versions))}
	}
	obj := in.DeepCopyObject().(APIObject)
	var errs ErrorList
	if e := setScope(o, obj, k.Namespaced, opts.Namespace); e != nil {
		errs = append(errs, e)
	}
	if k.prepare != nil {
		k.prepare(obj)
	}
	fes := validateObjectMeta(obj, k.Namespaced, k.name)
	fes = append(fes, k.validate(obj)...)
	for _, fe := range fes {
		errs = append(errs, located(o, fe))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	r := k.Resource
	r.Versions = []string{gvk.Version}
	return &Kept{Source: o.Source, Resource: r, Object: obj, Effect: k.effect, Note: k.note}, nil
}

// setScope sets the namespace of a namespaced object as kubectl does, and
// clears that of a cluster-scoped one, as the API server does (-n does
// not apply to it).
func setScope(o Object, m metav1.Object, namespaced bool, ns string) *Error {
	if namespaced {
		return setNamespace(o, m, ns)
	}
	m.SetNamespace("")
	return nil
}

// validateObjectMeta validates metadata with a kind's name rule.
// generateName is refused, as kubectl apply refuses it.
func validateObjectMeta(m metav1.Object, namespaced bool, name apivalidation.ValidateNameFunc) field.ErrorList {
	p := field.NewPath("metadata")
	errs := apivalidation.ValidateObjectMetaAccessor(m, namespaced, name, p)
	if m.GetName() != "" || m.GetGenerateName() == "" {
		return errs
	}
	out := field.ErrorList{field.Forbidden(p.Child("generateName"), "cannot use generate name with apply; set metadata.name, or use podrun create -f")}
	for _, e := range errs {
		if e.Field != p.Child("name").String() {
			out = append(out, e)
		}
	}
	return out
}

// clearStatus drops what the input says of an object's status, which the
// API server ignores on create.
func clearStatus(o runtime.Object) {
	switch v := o.(type) {
	case *apiextv1.CustomResourceDefinition:
		v.Status = apiextv1.CustomResourceDefinitionStatus{}
	case *corev1.ResourceQuota:
		v.Status = corev1.ResourceQuotaStatus{}
	case *policyv1.PodDisruptionBudget:
		v.Status = policyv1.PodDisruptionBudgetStatus{}
	case *networkingv1.Ingress:
		v.Status = networkingv1.IngressStatus{}
	case *autoscalingv1.HorizontalPodAutoscaler:
		v.Status = autoscalingv1.HorizontalPodAutoscalerStatus{}
	case *autoscalingv2.HorizontalPodAutoscaler:
		v.Status = autoscalingv2.HorizontalPodAutoscalerStatus{}
	}
}

// prepareNamespace does what the API server does to a new namespace: it
// is Active, with the kubernetes finalizer.
func prepareNamespace(o runtime.Object) {
	ns := o.(*corev1.Namespace)
	ns.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
	if !slices.Contains(ns.Spec.Finalizers, corev1.FinalizerKubernetes) {
		ns.Spec.Finalizers = append(ns.Spec.Finalizers, corev1.FinalizerKubernetes)
	}
}
