package runner

// What keeps a pod's volumes in step with the objects they come from
// after the pod started (waiting.go has what a pod does while one is
// missing): the parts of the kubelet's volume manager that podrun,
// without a daemon, runs at apply.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/objects"
	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/runner/volume"
)

// ReasonContainerCreating is the waiting reason of the containers of a
// pod whose volumes cannot be set up yet, as the kubelet words it.
const ReasonContainerCreating = "ContainerCreating"

// storeObjects lets volumes read the ConfigMaps and Secrets podrun
// stores, the kube-root-ca.crt it publishes in every namespace where none
// is stored, and the ServiceAccounts.
type storeObjects struct {
	store  *objects.Store
	rootCA string // volume.RootCA's path
	sa     func(namespace, name string) (*corev1.ServiceAccount, error)
}

func (o storeObjects) ConfigMap(namespace, name string) (*corev1.ConfigMap, error) {
	cm, err := o.store.ConfigMaps.Get(namespace, name)
	if errors.Is(err, objects.ErrNotFound) && name == kube.RootCAConfigMap && o.rootCA != "" {
		return rootCAConfigMap(o.rootCA, namespace)
	}
	return cm, volumeNotFound("configmap", name, err)
}

func (o storeObjects) ServiceAccount(namespace, name string) (*corev1.ServiceAccount, error) {
	var sa *corev1.ServiceAccount
	var err error
	if o.sa != nil {
		sa, err = o.sa(namespace, name)
	}
	if err == nil && sa == nil {
		err = fmt.Errorf("serviceaccount %q %w", name, volume.ErrNotFound)
	}
	return sa, err
}

func (o storeObjects) Secret(namespace, name string) (*corev1.Secret, error) {
	s, err := o.store.Secrets.Get(namespace, name)
	return s, volumeNotFound("secret", name, err)
}

// volumeNotFound turns the store's not found into the volume package's,
// in the kubelet's words: `configmap "x" not found`.
func volumeNotFound(kind, name string, err error) error {
	if errors.Is(err, objects.ErrNotFound) {
		return fmt.Errorf("%s %q %w", kind, name, volume.ErrNotFound)
	}
	return err
}

func isTrue(b *bool) bool { return b != nil && *b }

// RefreshVolumes rewrites, in every running pod, the configMap, secret
// and projected volumes that project one of the objects changed (created
// or configured), as the kubelet's periodic sync does: each volume's
// `..data` link is swapped in one rename, so containers see the new files
// without a restart. subPath mounts keep the old file, as on Kubernetes.
func (r *Runner) RefreshVolumes(ctx context.Context, changed []Outcome) error {
	want := map[string]bool{}
	for _, o := range changed {
		if o.Action == string(objects.Created) || o.Action == string(objects.Configured) {
			want[o.Kind+"/"+o.Namespace+"/"+o.Name] = true
		}
	}
	if len(want) == 0 {
		return nil
	}
	entries, err := r.pods.List()
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if e.Pod == nil || !e.Pod.Monitor.Alive() {
			continue
		}
		ns := e.Pod.Namespace
		uses := func(v *corev1.Volume) bool {
			for _, ref := range objectRefs(v) {
				if want[ref.kind+"/"+ns+"/"+ref.name] {
					return true
				}
			}
			return false
		}
		errs = append(errs, r.refreshPod(ctx, e.Key, uses))
	}
	return errors.Join(errs...)
}

type objectRef struct{ kind, name string }

// objectRefs lists the ConfigMaps and Secrets volume v projects.
func objectRefs(v *corev1.Volume) []objectRef {
	var refs []objectRef
	switch vs := v.VolumeSource; {
	case vs.ConfigMap != nil:
		refs = append(refs, objectRef{"configmap", vs.ConfigMap.Name})
	case vs.Secret != nil:
		refs = append(refs, objectRef{"secret", vs.Secret.SecretName})
	case vs.Projected != nil:
		for _, s := range vs.Projected.Sources {
			if s.ConfigMap != nil {
				refs = append(refs, objectRef{"configmap", s.ConfigMap.Name})
			}
			if s.Secret != nil {
				refs = append(refs, objectRef{"secret", s.Secret.Name})
			}
		}
	}
	return refs
}

// usesDownwardAPI reports whether v shows pod metadata.
func usesDownwardAPI(v *corev1.Volume) bool {
	if v.DownwardAPI != nil {
		return true
	}
	if v.Projected != nil {
		for _, s := range v.Projected.Sources {
			if s.DownwardAPI != nil {
				return true
			}
		}
	}
	return false
}

// refreshPod rewrites the volumes of a running pod for which only is
// true, from its recorded manifest, under the pod's lock.
func (r *Runner) refreshPod(ctx context.Context, k state.Key, only func(*corev1.Volume) bool) error {
	h := r.pod(k)
	unlock, err := h.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	st, err := h.dir.Read()
	if err != nil || !st.Monitor.Alive() {
		return nil // deleted or stopped meanwhile: nothing to refresh
	}
	var pod corev1.Pod
	if err := json.Unmarshal(st.Manifest, &pod); err != nil {
		return fmt.Errorf("reading the manifest of pod %s: %w", k, err)
	}
	if err := volume.Refresh(r.volumeConfig(h.layout), &pod, only); err != nil {
		return fmt.Errorf("refreshing the volumes of pod %s (they keep their last contents): %w", k, err)
	}
	return nil
}

// updateMetadata is the in-place update an API server allows on a
// running pod whose spec is unchanged: new labels and annotations are
// recorded and its downwardAPI volumes rewritten; a pod that no
// controller owns is adopted by the controller that makes it again
// (adopt). It returns "configured",
// or "unchanged" when the metadata is the same. The caller holds the
// pod's lock.
func (r *Runner) updateMetadata(ctx context.Context, h podHandle, pod *corev1.Pod) (string, error) {
	var changed *corev1.Pod
	_, err := h.dir.Update(ctx, func(s *state.Pod) error {
		var rec corev1.Pod
		if err := json.Unmarshal(s.Manifest, &rec); err != nil {
			return err
		}
		adopted := adopt(&rec, pod)
		if sameMap(rec.Labels, pod.Labels) && sameMap(rec.Annotations, pod.Annotations) && !adopted {
			return nil
		}
		rec.Labels, rec.Annotations = pod.Labels, pod.Annotations
		if adopted {
			applied, err := adoptApplied(s.Applied, pod)
			if err != nil {
				return err
			}
			s.Applied = applied
		}
		manifest, err := json.Marshal(&rec)
		if err != nil {
			return err
		}
		s.Manifest, changed = manifest, &rec
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("updating the labels and annotations of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	if changed == nil {
		return "unchanged", nil
	}
	if err := volume.Refresh(r.volumeConfig(h.layout), changed, usesDownwardAPI); err != nil {
		return "", fmt.Errorf("refreshing the downwardAPI volumes of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return "configured", nil
}

func sameMap(a, b map[string]string) bool { return maps.Equal(a, b) }
