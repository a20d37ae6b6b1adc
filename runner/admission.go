package runner

import (
	"crypto/rand"
	"fmt"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/volume"
	"github.com/podrun/podrun/translate"
)

// Admission: what the API server's admission plugins do to a pod on
// create, before it is stored. Apply and render both call admit on their
// copy of the pod before anything else sees it, so that render shows
// what apply runs.

// admit does to pod what a cluster's admission plugins would, in the API
// server's order. It is the one place they are called from.
func (r *Runner) admit(pod *corev1.Pod) error {
	sa, err := r.serviceAccount(pod.Namespace, serviceAccountName(pod))
	if err != nil {
		return fmt.Errorf("admitting pod %s/%s: looking up its ServiceAccount: %w", pod.Namespace, pod.Name, err)
	}
	var random [5]byte
	_, _ = rand.Read(random[:])
	kube.AdmitServiceAccount(pod, sa, kube.TokenVolumeName(random))
	return nil
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
// for the tokens volumes hold: nil, and no error, when none is applied,
// which stands for the namespace's implicit one (automount on).
//
// podrun stores no ServiceAccounts yet: this is where the ones of the
// set being rendered (r.unstored), then the stored ones, are to be looked
// up once they are.
func (r *Runner) serviceAccount(namespace, name string) (*corev1.ServiceAccount, error) {
	return nil, nil
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
