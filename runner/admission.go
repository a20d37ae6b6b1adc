package runner

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/flock"
	"github.com/podrun/podrun/runner/volume"
	"github.com/podrun/podrun/translate"
)

// Admission: what the API server's admission plugins do to a pod on
// create, before it is stored. Apply and render both call admit on their
// copy of the pod before anything else sees it, so that render shows
// what apply runs.

// admit does to pod what a cluster's admission plugins would, in the API
// server's order: ServiceAccount (the token volume, and a refusal of a
// ServiceAccount that does not exist), then LimitRanger (default
// resources, minimums and maximums) and ResourceQuota. It is the one
// place they are called from. existing are the namespace's pods that
// ResourceQuota counts besides those recorded: the pods rendered before
// this one.
func (r *Runner) admit(pod *corev1.Pod) error {
	name := serviceAccountName(pod)
	sa, err := r.serviceAccount(pod.Namespace, name)
	if err != nil {
		return fmt.Errorf("looking up its ServiceAccount: %w", err)
	}
	if sa == nil && name != kube.DefaultServiceAccount {
		// The API server refuses it; the namespace's "default" always exists.
		return &kube.ForbiddenError{Resource: "pods", Name: pod.Name, Err: fmt.Errorf(
			"error looking up service account %s/%s: serviceaccount %q not found: apply the ServiceAccount with the pod",
			pod.Namespace, name, name)}
	}
	var random [5]byte
	_, _ = rand.Read(random[:])
	kube.AdmitServiceAccount(pod, sa, kube.TokenVolumeName(random))
	return r.admitResources(pod)
}

// admitResources runs LimitRanger and ResourceQuota on obj, a pod or an
// object of another kind about to be stored, against the LimitRanges
// and ResourceQuotas of its namespace: those of the input at render,
// as apply would store them before its pods, and the stored ones.
func (r *Runner) admitResources(obj runtime.Object) error {
	m, err := apimeta.Accessor(obj)
	if err != nil {
		return err
	}
	ns := m.GetNamespace()
	if ns == "" {
		return nil // cluster-scoped: no namespace's ranges or quotas apply
	}
	ranges, err := r.limitRanges(ns)
	if err != nil {
		return err
	}
	quotas, err := r.resourceQuotas(ns)
	if err != nil {
		return err
	}
	if len(ranges) == 0 && len(quotas) == 0 {
		return nil
	}
	var existing []runtime.Object
	if len(quotas) > 0 {
		if existing, err = r.quotaUsers(obj, ns); err != nil {
			return err
		}
	}
	return kube.Admit(obj, ranges, quotas, existing)
}

// quotaUsers are the objects of namespace that ResourceQuota counts,
// but for obj itself (a re-apply replaces it): the recorded pods, the
// pods rendered before it, the bound claims and every stored object.
func (r *Runner) quotaUsers(obj runtime.Object, namespace string) ([]runtime.Object, error) {
	self, _ := apimeta.Accessor(obj)
	selfKind := reflect.TypeOf(obj)
	var out []runtime.Object
	add := func(o runtime.Object) {
		if m, err := apimeta.Accessor(o); err == nil && reflect.TypeOf(o) == selfKind && m.GetName() == self.GetName() {
			return
		}
		out = append(out, o)
	}
	pods, err := r.List(context.Background(), namespace)
	if err != nil {
		return nil, err
	}
	for i := range pods {
		add(&pods[i])
	}
	for _, p := range r.rendered {
		if p.Namespace == namespace {
			add(p)
		}
	}
	claims, err := r.Claims().List()
	if err != nil {
		return nil, err
	}
	for _, n := range claims {
		if n.Namespace == namespace && n.Bound() {
			add(n.Claim)
		}
	}
	objs, err := r.NamespaceObjects(namespace)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		add(o)
	}
	return out, nil
}

// limitRanges are the LimitRanges of namespace: the input's at render,
// in place of stored ones of the same name, and the stored ones.
func (r *Runner) limitRanges(namespace string) ([]*corev1.LimitRange, error) {
	stored, err := r.LimitRanges(namespace)
	return withUnstored(r.unstored, namespace, stored, err)
}

// resourceQuotas are the ResourceQuotas of namespace, as limitRanges.
func (r *Runner) resourceQuotas(namespace string) ([]*corev1.ResourceQuota, error) {
	stored, err := r.ResourceQuotas(namespace)
	return withUnstored(r.unstored, namespace, stored, err)
}

// withUnstored is stored with the objects of type T in set's kept kinds
// of namespace in place of, or beside, the stored ones of their name.
func withUnstored[T any, P interface {
	*T
	metav1.Object
}](set *kube.Set, namespace string, stored []P, err error) ([]P, error) {
	if err != nil || set == nil {
		return stored, err
	}
	out := stored
	for _, k := range set.Kept {
		o, ok := k.Object.(P)
		if !ok || o.GetNamespace() != namespace {
			continue
		}
		out = slices.DeleteFunc(out, func(s P) bool { return s.GetName() == o.GetName() })
		out = append(out, o)
	}
	return out, nil
}

// admissionLock serialises the admission and recording of pods in a
// namespace with ResourceQuotas, so that two pods applied side by side
// cannot both fit where only one does, as the API server serialises its
// quota's updates. Namespaces without quotas take no lock.
func (r *Runner) admissionLock(ctx context.Context, namespace string) (func(), error) {
	quotas, err := r.ResourceQuotas(namespace)
	if err != nil || len(quotas) == 0 {
		return func() {}, err
	}
	path := filepath.Join(r.cfg.RunRoot, "locks", "admission", namespace+".lock")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	l, err := flock.Exclusive(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("locking the admission of namespace %s: %w", namespace, err)
	}
	return func() { _ = l.Unlock() }, nil
}

func serviceAccountName(pod *corev1.Pod) string {
	switch s := pod.Spec; {
	case s.ServiceAccountName != "":
		return s.ServiceAccountName
	case s.DeprecatedServiceAccount != "":
		return s.DeprecatedServiceAccount
	}
	return kube.DefaultServiceAccount
}

// serviceAccount finds ServiceAccount namespace/name, for admission and
// for the tokens volumes hold: the input's at render, then the stored
// one; nil, and no error, when there is none.
func (r *Runner) serviceAccount(namespace, name string) (*corev1.ServiceAccount, error) {
	return r.keptServiceAccount(namespace, name)
}

// rootCAPath is where podrun keeps the CA certificate it publishes as
// the kube-root-ca.crt ConfigMap of every namespace (volume.RootCA).
func (r *Runner) rootCAPath() string {
	return filepath.Join(r.cfg.Root, "serviceaccount", "ca.crt")
}

// rootCAConfigMap is the kube-root-ca.crt ConfigMap podrun publishes in
// namespace, where the user applied none, as the root-CA publisher does.
func rootCAConfigMap(path, namespace string) (*corev1.ConfigMap, error) {
	cert, err := volume.RootCA(path)
	if err != nil {
		return nil, err
	}
	cm := &corev1.ConfigMap{Data: map[string]string{kube.RootCAKey: string(cert)}}
	cm.Name, cm.Namespace = kube.RootCAConfigMap, namespace
	return cm, nil
}

// holdsToken reports whether v projects a service account token.
func holdsToken(v *corev1.Volume) bool {
	if v.Projected == nil {
		return false
	}
	for _, s := range v.Projected.Sources {
		if s.ServiceAccountToken != nil {
			return true
		}
	}
	return false
}

// addRootCA adds podrun's kube-root-ca.crt to the ConfigMaps translate
// sees when a container's environment names it and none is stored or
// given, as it exists in every namespace of a cluster.
func (r *Runner) addRootCA(in *translate.Input) error {
	if _, ok := in.ConfigMaps[kube.RootCAConfigMap]; ok || !envNamesConfigMap(&in.Pod.Spec, kube.RootCAConfigMap) {
		return nil
	}
	cm, err := rootCAConfigMap(r.rootCAPath(), in.Pod.Namespace)
	if err != nil {
		return err
	}
	if in.ConfigMaps == nil {
		in.ConfigMaps = map[string]*corev1.ConfigMap{}
	}
	in.ConfigMaps[kube.RootCAConfigMap] = cm
	return nil
}

// envNamesConfigMap reports whether a container's env or envFrom names
// ConfigMap name.
func envNamesConfigMap(spec *corev1.PodSpec, name string) bool {
	for _, c := range allContainers(spec) {
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil && e.ValueFrom.ConfigMapKeyRef.Name == name {
				return true
			}
		}
		for _, e := range c.EnvFrom {
			if e.ConfigMapRef != nil && e.ConfigMapRef.Name == name {
				return true
			}
		}
	}
	return false
}
