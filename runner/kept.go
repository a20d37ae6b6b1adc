package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/objects"
)

// keptKind stores and deletes the objects podrun keeps without running
// them (kube.Kept): with first, the Namespaces and CustomResourceDefinitions,
// which apply before everything and delete after; otherwise the others.
type keptKind struct{ first bool }

func (k keptKind) resource() string {
	if k.first {
		return "namespace+customresourcedefinition"
	}
	return "kept"
}

// mine says whether kept is k's to handle.
func (k keptKind) mine(kept kube.Kept) bool {
	r := kept.Resource
	first := (r.Group == "" && r.Kind == "Namespace") || (r.Group == apiextv1.GroupName && r.Kind == "CustomResourceDefinition")
	return first == k.first
}

func (k keptKind) apply(_ context.Context, r *Runner, set *kube.Set) ([]Outcome, error) {
	var done []Outcome
	for _, kept := range set.Kept {
		if !k.mine(kept) {
			continue
		}
		u, err := toUnstructured(kept.Object)
		if err != nil {
			return done, fmt.Errorf("%s: %w", kept.Source, err)
		}
		b := keptBucket(r, kept.Resource)
		if _, err := b.Get(u.GetNamespace(), u.GetName()); errors.Is(err, objects.ErrNotFound) {
			if err := r.admitResources(kept.Object); err != nil { // created now
				return done, fmt.Errorf("%s: %w", kept.Source, err)
			}
		}
		a, err := b.Put(u)
		if err != nil {
			return done, fmt.Errorf("%s: %w", kept.Source, err)
		}
		done = append(done, Outcome{Kind: kept.Resource.Printed(), Namespace: u.GetNamespace(), Name: u.GetName(), Action: string(a)})
	}
	return done, nil
}

// remove deletes the objects, skipping those already gone; a definition
// takes its custom resources with it.
func (k keptKind) remove(_ context.Context, r *Runner, set *kube.Set, _ DeleteSetOptions) ([]Outcome, error) {
	var done []Outcome
	var errs []error
	for _, kept := range set.Kept {
		if !k.mine(kept) {
			continue
		}
		b := keptBucket(r, kept.Resource)
		ns, name := kept.Object.GetNamespace(), kept.Object.GetName()
		if _, err := b.Get(ns, name); errors.Is(err, objects.ErrNotFound) {
			continue
		}
		err := b.Delete(ns, name)
		if crd, ok := kept.Object.(*apiextv1.CustomResourceDefinition); ok && err == nil {
			err = r.Objects().DropResource(kube.CustomResource(crd).Qualified())
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		done = append(done, Outcome{Kind: kept.Resource.Printed(), Namespace: ns, Name: name, Action: "deleted"})
	}
	return done, errors.Join(errs...)
}

// keptBucket is where the objects of a resource are stored.
func keptBucket(r *Runner, res kube.Resource) objects.Bucket[unstructured.Unstructured] {
	return r.Objects().Resource(res.Qualified(), res.Singular, res.Namespaced)
}

// toUnstructured is obj as stored: its JSON, apiVersion and kind
// included.
func toUnstructured(obj kube.APIObject) (*unstructured.Unstructured, error) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		return u, nil
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("encoding %s %s: %w", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), err)
	}
	return &unstructured.Unstructured{Object: m}, nil
}

// Stored returns the stored objects of a resource, sorted: those of
// namespace, or of every namespace when it is "" (cluster-scoped kinds
// have none). Claims are those bound to their volumes; List has the
// pods.
func (r *Runner) Stored(res kube.Resource, namespace string) ([]*unstructured.Unstructured, error) {
	if res.Group == "" && res.Kind == "PersistentVolumeClaim" {
		return r.storedClaims(namespace)
	}
	b := keptBucket(r, res)
	if namespace == "" || !res.Namespaced {
		return b.All()
	}
	return b.Items(namespace)
}

// Definitions returns the stored CustomResourceDefinitions.
func (r *Runner) Definitions() ([]*apiextv1.CustomResourceDefinition, error) {
	return r.Objects().Definitions.Items("")
}

// ServiceAccounts returns the stored ServiceAccounts of a namespace,
// sorted by name.
func (r *Runner) ServiceAccounts(namespace string) ([]*corev1.ServiceAccount, error) {
	return r.Objects().ServiceAccounts.Items(namespace)
}

// LimitRanges returns the stored LimitRanges of a namespace, sorted by
// name, for the admission of its pods.
func (r *Runner) LimitRanges(namespace string) ([]*corev1.LimitRange, error) {
	return r.Objects().LimitRanges.Items(namespace)
}

// ResourceQuotas returns the stored ResourceQuotas of a namespace, sorted
// by name, for the admission of its pods.
func (r *Runner) ResourceQuotas(namespace string) ([]*corev1.ResourceQuota, error) {
	return r.Objects().ResourceQuotas.Items(namespace)
}

// storedClaims are the claims bound to their volumes, Bound or
// Terminating, created when their volume was.
func (r *Runner) storedClaims(namespace string) ([]*unstructured.Unstructured, error) {
	named, err := r.Claims().List()
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	for _, n := range named {
		if !n.Bound() || (namespace != "" && n.Namespace != namespace) {
			continue
		}
		c := n.Claim.DeepCopy()
		c.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"}
		if c.CreationTimestamp.IsZero() {
			c.CreationTimestamp = metav1.NewTime(n.Created)
		}
		c.Status.Phase = corev1.ClaimBound
		u, err := toUnstructured(c)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// keptServiceAccount finds ServiceAccount namespace/name among those of
// the set being rendered (r.unstored), then those stored: nil, and no
// error, when there is none. It is what admission's serviceAccount is to
// return (admission.go).
func (r *Runner) keptServiceAccount(namespace, name string) (*corev1.ServiceAccount, error) {
	if r.unstored != nil {
		for _, k := range r.unstored.Kept {
			if sa, ok := k.Object.(*corev1.ServiceAccount); ok && sa.Namespace == namespace && sa.Name == name {
				return sa, nil
			}
		}
	}
	sa, err := r.Objects().ServiceAccounts.Get(namespace, name)
	if errors.Is(err, objects.ErrNotFound) {
		return nil, nil
	}
	return sa, err
}

// DeleteStored deletes one stored object of a resource other than pods
// and claims, as `delete KIND NAME` does: ErrNotFound (matched with
// errors.Is, worded `serviceaccounts "x" not found`) when it is not
// stored. A definition takes its custom resources with it.
func (r *Runner) DeleteStored(res kube.Resource, namespace, name string) error {
	if res.Group == "" && res.Kind == kube.ServiceResource.Kind {
		return r.DeleteService(context.Background(), namespace, name)
	}
	if !res.Namespaced {
		namespace = ""
	}
	b := keptBucket(r, res)
	obj, err := b.Get(namespace, name)
	if errors.Is(err, objects.ErrNotFound) {
		return fmt.Errorf("%s %q %w", res.Qualified(), name, objects.ErrNotFound)
	}
	if err != nil {
		return err
	}
	if err := b.Delete(namespace, name); err != nil {
		return err
	}
	if res.Group == apiextv1.GroupName && res.Kind == "CustomResourceDefinition" {
		var crd apiextv1.CustomResourceDefinition
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &crd); err != nil {
			return fmt.Errorf("reading customresourcedefinition %s: %w", name, err)
		}
		return r.Objects().DropResource(kube.CustomResource(&crd).Qualified())
	}
	return nil
}

// NamespaceObjects returns every object stored in a namespace but its pods
// and claims (List and Claims have those), for ResourceQuota admission,
// which counts them: ConfigMaps, Secrets, ServiceAccounts, LimitRanges and
// ResourceQuotas typed, the other kinds and custom resources
// unstructured, with their apiVersion and kind.
func (r *Runner) NamespaceObjects(namespace string) ([]runtime.Object, error) {
	s := r.Objects()
	var out []runtime.Object
	var errs []error
	add := func(items []runtime.Object, err error) {
		out = append(out, items...)
		errs = append(errs, err)
	}
	add(objectsOf(s.ConfigMaps.Items(namespace)))
	add(objectsOf(s.Secrets.Items(namespace)))
	add(objectsOf(s.ServiceAccounts.Items(namespace)))
	add(objectsOf(s.LimitRanges.Items(namespace)))
	add(objectsOf(s.ResourceQuotas.Items(namespace)))
	add(objectsOf(s.Services.Items(namespace)))
	typed := []string{"pods", "persistentvolumeclaims", "configmaps", "secrets", "serviceaccounts", "limitranges", "resourcequotas", "services"}
	resources := slices.Clone(kube.Kinds)
	defs, err := r.Definitions()
	errs = append(errs, err)
	for _, d := range defs {
		resources = append(resources, kube.CustomResource(d))
	}
	for _, res := range resources {
		if !res.Namespaced || slices.Contains(typed, res.Qualified()) {
			continue
		}
		add(objectsOf(keptBucket(r, res).Items(namespace)))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("listing the objects of namespace %s: %w", namespace, err)
	}
	return out, nil
}

// objectsOf is items as runtime objects.
func objectsOf[T any, P interface {
	*T
	runtime.Object
}](items []*T, err error) ([]runtime.Object, error) {
	out := make([]runtime.Object, len(items))
	for i, it := range items {
		out[i] = P(it)
	}
	return out, err
}
