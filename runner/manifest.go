package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/objects"
	"github.com/podrun/podrun/runner/volume"
)

// Manifests name the manifests of one command: the unit that apply,
// delete -f, up and render act on.
type Manifests struct {
	// Paths are files, directories (their *.yaml, *.yml and *.json) and
	// "-" for Stdin, which may appear once.
	Paths []string
	Stdin io.Reader
	// Namespace is for objects that name none, as kubectl's -n.
	Namespace string
	// RunRoot is where earlier applies stored their objects (Config.RunRoot):
	// the CustomResourceDefinitions stored there serve the manifests'
	// custom resources. Empty: only definitions in the manifests do.
	RunRoot string
	// GenerateNames names the objects that give metadata.generateName,
	// as create does; apply refuses them.
	GenerateNames bool
	// ServiceCIDR is the range Services' ClusterIPs must be in
	// (Config.ServiceCIDR); "" is kube.DefaultServiceCIDR.
	ServiceCIDR string
}

// Load reads the manifests, standard input at most once, and validates
// and defaults every object in them; every problem is returned together.
// Nothing is created: a manifest refused leaves no trace.
func (m Manifests) Load() (*kube.Set, error) {
	var defs []*apiextv1.CustomResourceDefinition
	if m.RunRoot != "" {
		var err error
		if defs, err = objectsUnder(m.RunRoot).Definitions.Items(""); err != nil {
			return nil, err
		}
	}
	if n := slices.Index(m.Paths, "-"); n >= 0 && slices.Contains(m.Paths[n+1:], "-") {
		return nil, errors.New("reading the manifests: - (standard input) is given twice, and can be read once")
	}
	opts := kube.Options{Namespace: m.Namespace, Definitions: defs, ServiceCIDR: m.ServiceCIDR}
	if m.GenerateNames {
		opts.GenerateName = kube.GeneratedName
	}
	return kube.LoadSet(m.Paths, m.Stdin, opts)
}

// Load is m.Load with the objects stored under the runner's run root.
func (r *Runner) Load(m Manifests) (*kube.Set, error) {
	m.RunRoot = r.cfg.RunRoot
	m.ServiceCIDR = r.cfg.ServiceCIDR
	return m.Load()
}

// DeleteSetOptions tune DeleteSet.
type DeleteSetOptions struct {
	Pods DeleteOptions
	// Cascade is what happens to the pods of the workloads deleted, as
	// kubectl's --cascade: "" is background.
	Cascade Cascade
	// PurgeVolumes removes the data of the claims deleted too, which is
	// kept by default as with the Retain reclaim policy.
	PurgeVolumes bool
}

// A kind is how ApplySet and DeleteSet handle the objects of one kind in
// a set. A new kind is one more value in objectKinds or workloadKinds.
type kind interface {
	// resource names the kind as kubectl prints it: "pod", "configmap".
	resource() string
	apply(ctx context.Context, r *Runner, set *kube.Set) ([]Outcome, error)
	// remove deletes the kind's objects of set; those already gone are
	// neither errors nor reported.
	remove(ctx context.Context, r *Runner, set *kube.Set, opts DeleteSetOptions) ([]Outcome, error)
}

var (
	// objectKinds are applied before any pod starts: the Namespaces and
	// CustomResourceDefinitions that other objects may be of, then what
	// pods use, the claims (storage outliving pods and objects) first,
	// then the other kept kinds, which admission reads (LimitRanges,
	// ResourceQuotas, ServiceAccounts), then the Services, which pods
	// started after them see (their environment variables).
	objectKinds = []kind{keptKind{first: true}, claimKind{}, configMapKind, secretKind, keptKind{}, serviceKind{}}
	// workloadKinds run, once the objects they use are applied.
	workloadKinds = []kind{podKind{}, workloadKind{}}
	// kinds are every kind in the order ApplySet applies them; DeleteSet
	// deletes in reverse.
	kinds = slices.Concat(objectKinds, workloadKinds)
)

// ApplySet applies every object of set, kind by kind: Namespaces and
// CustomResourceDefinitions, claims, ConfigMaps and Secrets, the other
// kinds podrun keeps, then the pods (with those recorded waiting for an object
// that now exists). A kind that fails stops the apply before the kinds
// after it, so no pod starts without the objects it uses.
func (r *Runner) ApplySet(ctx context.Context, set *kube.Set) ([]Outcome, error) {
	if err := r.checkServices(ctx, set.Services); err != nil {
		return nil, err
	}
	return r.applyKinds(ctx, set, kinds)
}

// ApplyObjects applies the objects of set that pods use, and starts no
// pod: for `up`, which starts its pods itself.
func (r *Runner) ApplyObjects(ctx context.Context, set *kube.Set) ([]Outcome, error) {
	if err := r.checkServices(ctx, set.Services); err != nil {
		return nil, err
	}
	return r.applyKinds(ctx, set, objectKinds)
}

// DeleteSet deletes every object of set in the reverse order of
// ApplySet: the pods first, then the kept kinds, the Secrets and
// ConfigMaps, the claims, and last Namespaces and definitions (with their
// custom resources, as the API server does); the claims which keep their data unless opts.PurgeVolumes. Objects already
// gone are skipped, as kubectl delete -f does; a failure does not stop the
// deletion of the rest.
func (r *Runner) DeleteSet(ctx context.Context, set *kube.Set, opts DeleteSetOptions) ([]Outcome, error) {
	return r.deleteKinds(ctx, set, opts, kinds)
}

func (r *Runner) applyKinds(ctx context.Context, set *kube.Set, ks []kind) ([]Outcome, error) {
	var done []Outcome
	for _, k := range ks {
		out, err := k.apply(ctx, r, set)
		done = append(done, out...)
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

func (r *Runner) deleteKinds(ctx context.Context, set *kube.Set, opts DeleteSetOptions, ks []kind) ([]Outcome, error) {
	var done []Outcome
	var errs []error
	for _, k := range slices.Backward(ks) {
		out, err := k.remove(ctx, r, set, opts)
		done = append(done, out...)
		errs = append(errs, err)
	}
	return done, errors.Join(errs...)
}

// podKind starts and deletes pods.
type podKind struct{}

func (podKind) resource() string { return "pod" }

func (podKind) apply(ctx context.Context, r *Runner, set *kube.Set) ([]Outcome, error) {
	pods, err := r.withWaiting(set.Pods)
	if err != nil || len(pods) == 0 {
		return nil, err
	}
	return r.Apply(ctx, pods)
}

func (podKind) remove(ctx context.Context, r *Runner, set *kube.Set, opts DeleteSetOptions) ([]Outcome, error) {
	refs := make([]PodRef, len(set.Pods))
	for i, p := range set.Pods {
		refs[i] = PodRef{p.Pod.Namespace, p.Pod.Name}
	}
	return deletedPods(refs, r.DeletePods(ctx, refs, opts.Pods))
}

// deletedPods is what DeletePods did to pods, given each one's error: the
// pods deleted in their order, and every error but ErrPodNotFound joined.
func deletedPods(pods []PodRef, errs []error) ([]Outcome, error) {
	var done []Outcome
	var failed []error
	for i, p := range pods {
		switch err := errs[i]; {
		case err == nil:
			done = append(done, Outcome{podKind{}.resource(), p.Namespace, p.Name, "deleted"})
		case !errors.Is(err, ErrPodNotFound):
			failed = append(failed, err)
		}
	}
	return done, errors.Join(failed...)
}

// withWaiting adds to pods those recorded waiting for a claim, ConfigMap
// or Secret that now exists, so that apply starts them, as the kubelet
// does once the object appears.
func (r *Runner) withWaiting(pods []kube.Pod) ([]kube.Pod, error) {
	waiting, err := r.WaitingPods()
	if err != nil {
		return nil, err
	}
	named := map[string]bool{}
	for _, p := range pods {
		named[p.Pod.Namespace+"/"+p.Pod.Name] = true
	}
	for _, p := range waiting {
		if !named[p.Pod.Namespace+"/"+p.Pod.Name] {
			pods = append(pods, p)
		}
	}
	return pods, nil
}

// claimKind binds PersistentVolumeClaims to named volumes, and releases
// them.
type claimKind struct{}

func (claimKind) resource() string { return "persistentvolumeclaim" }

func (claimKind) apply(_ context.Context, r *Runner, set *kube.Set) ([]Outcome, error) {
	var list []*corev1.PersistentVolumeClaim
	for _, c := range set.Claims {
		list = append(list, c.Claim)
	}
	return r.ApplyClaims(list)
}

// remove releases each claim still bound, keeping its data, or with
// PurgeVolumes removes its named volume, released or not.
func (claimKind) remove(_ context.Context, r *Runner, set *kube.Set, opts DeleteSetOptions) ([]Outcome, error) {
	var done []Outcome
	var errs []error
	for _, c := range set.Claims {
		ns, name := c.Claim.Namespace, c.Claim.Name
		vol, err := r.Claims().Claimed(ns, name)
		if errors.Is(err, volume.ErrNotFound) || (err == nil && !vol.Bound() && !opts.PurgeVolumes) {
			continue // gone is gone, as for pods
		}
		if err == nil {
			err = r.DeleteClaim(ns, name, opts.PurgeVolumes)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		done = append(done, Outcome{claimKind{}.resource(), ns, name, "deleted"})
	}
	return done, errors.Join(errs...)
}

// storedKind keeps objects of type T in the runner's object store, where
// pods read them (runner/objects).
type storedKind[T any] struct {
	name   string // as kubectl prints it: "configmap"
	bucket func(*objects.Store) objects.Bucket[T]
	items  func(*kube.Set) []sourced[T]
}

// sourced is one object of a set with where it was read.
type sourced[T any] struct {
	source kube.Source
	obj    *T
}

var (
	configMapKind = storedKind[corev1.ConfigMap]{
		name:   "configmap",
		bucket: func(s *objects.Store) objects.Bucket[corev1.ConfigMap] { return s.ConfigMaps },
		items: func(set *kube.Set) (out []sourced[corev1.ConfigMap]) {
			for _, cm := range set.ConfigMaps {
				out = append(out, sourced[corev1.ConfigMap]{cm.Source, cm.ConfigMap})
			}
			return out
		},
	}
	secretKind = storedKind[corev1.Secret]{
		name:   "secret",
		bucket: func(s *objects.Store) objects.Bucket[corev1.Secret] { return s.Secrets },
		items: func(set *kube.Set) (out []sourced[corev1.Secret]) {
			for _, s := range set.Secrets {
				out = append(out, sourced[corev1.Secret]{s.Source, s.Secret})
			}
			return out
		},
	}
)

func (k storedKind[T]) resource() string { return k.name }

// apply stores the objects, replacing those of the same namespace and
// name, then rewrites the volumes of running pods that project one that
// changed. A volume left as it was is a warning, as the kubelet's is an
// event: the objects are stored.
func (k storedKind[T]) apply(ctx context.Context, r *Runner, set *kube.Set) ([]Outcome, error) {
	bucket := k.bucket(r.Objects())
	var done []Outcome
	for _, it := range k.items(set) {
		m := meta(it.obj)
		if _, err := bucket.Get(m.GetNamespace(), m.GetName()); errors.Is(err, objects.ErrNotFound) {
			if err := r.admitResources(any(it.obj).(runtime.Object)); err != nil { // created now
				return done, fmt.Errorf("%s: %w", it.source, err)
			}
		}
		a, err := bucket.Put(it.obj)
		if err != nil {
			return done, fmt.Errorf("%s: %w", it.source, err)
		}
		done = append(done, Outcome{k.name, m.GetNamespace(), m.GetName(), string(a)})
	}
	if err := r.RefreshVolumes(ctx, done); err != nil {
		r.cfg.Log.Warn("refreshing the volumes of running pods", "error", err)
	}
	return done, nil
}

func (k storedKind[T]) remove(_ context.Context, r *Runner, set *kube.Set, _ DeleteSetOptions) ([]Outcome, error) {
	bucket := k.bucket(r.Objects())
	var done []Outcome
	var errs []error
	for _, it := range k.items(set) {
		m := meta(it.obj)
		ns, name := m.GetNamespace(), m.GetName()
		if _, err := bucket.Get(ns, name); errors.Is(err, objects.ErrNotFound) {
			continue
		}
		if err := bucket.Delete(ns, name); err != nil {
			errs = append(errs, err)
			continue
		}
		done = append(done, Outcome{k.name, ns, name, "deleted"})
	}
	return done, errors.Join(errs...)
}

// meta is the metadata of a Kubernetes object: every object of a set has
// it.
func meta(obj any) metav1.Object { return obj.(metav1.Object) }
