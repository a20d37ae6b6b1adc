package runner

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/flock"
	"github.com/podrun/podrun/runner/network"
	"github.com/podrun/podrun/runner/objects"
	"github.com/podrun/podrun/runner/proxy"
	"github.com/podrun/podrun/runner/state"
)

// DefaultPublishAddress is the address LoadBalancer Services are
// published on (their status.loadBalancer.ingress) when
// Config.PublishAddress is empty.
const DefaultPublishAddress = "127.0.0.1"

// servicesChanged is called, with the services lock released, after the
// Services of a namespace were stored, changed or deleted: the
// namespace's Endpoints and EndpointSlices follow them, and the data
// plane is told. A failure is logged: the Services stay stored. Tests
// replace it.
var servicesChanged = func(ctx context.Context, r *Runner, namespace string) error {
	return r.ServicesChanged(ctx, namespace)
}

// serviceKind allocates, stores and deletes Services (services_alloc.go
// allocates their ClusterIPs and nodePorts).
type serviceKind struct{}

func (serviceKind) resource() string { return "service" }

func (serviceKind) apply(ctx context.Context, r *Runner, set *kube.Set) ([]Outcome, error) {
	return r.ApplyServices(ctx, set.Services)
}

// remove deletes the Services of set; those already gone are skipped.
func (serviceKind) remove(ctx context.Context, r *Runner, set *kube.Set, _ DeleteSetOptions) ([]Outcome, error) {
	var done []Outcome
	var errs []error
	for _, s := range set.Services {
		ns, name := s.Service.Namespace, s.Service.Name
		switch err := r.DeleteService(ctx, ns, name); {
		case err == nil:
			done = append(done, Outcome{serviceKind{}.resource(), ns, name, "deleted"})
		case !errors.Is(err, objects.ErrNotFound):
			errs = append(errs, err)
		}
	}
	return done, errors.Join(errs...)
}

// lockServices serialises the allocation and storing of Services across
// podrun processes, so that no two get one ClusterIP or nodePort.
func (r *Runner) lockServices(ctx context.Context) (func(), error) {
	path := filepath.Join(r.cfg.RunRoot, "locks", "services.lock")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	l, err := flock.Exclusive(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("locking the Services: %w", err)
	}
	return func() { _ = l.Unlock() }, nil
}

// serviceRangeFile records the service range of a run root's Services.
func (r *Runner) serviceRangeFile() string { return filepath.Join(r.cfg.RunRoot, "service-cidr") }

// ServiceCIDR is the service range in use under the run root: the one
// the first Service stored recorded, else Config.ServiceCIDR.
func (r *Runner) ServiceCIDR() (netip.Prefix, error) {
	data, err := os.ReadFile(r.serviceRangeFile())
	if errors.Is(err, os.ErrNotExist) {
		return kube.ParseServiceCIDR(r.cfg.ServiceCIDR)
	}
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("reading the service range: %w", err)
	}
	return kube.ParseServiceCIDR(strings.TrimSpace(string(data)))
}

// checkServiceRange returns Config.ServiceCIDR once it is known to be
// the range of the Services stored: a range is fixed while any Service
// has an address from it. With record, it is recorded for later
// commands. The caller holds the services lock.
func (r *Runner) checkServiceRange(record bool) (netip.Prefix, error) {
	want, err := kube.ParseServiceCIDR(r.cfg.ServiceCIDR)
	if err != nil {
		return netip.Prefix{}, err
	}
	got, err := r.ServiceCIDR()
	if err != nil {
		return netip.Prefix{}, err
	}
	if got != want {
		stored, err := r.Objects().Services.All()
		if err != nil {
			return netip.Prefix{}, err
		}
		if len(stored) > 0 {
			return netip.Prefix{}, fmt.Errorf("the service range in use under %s is %s (%d Services have addresses from it), not --service-cidr=%s: "+
				"run podrun with --service-cidr=%s, or delete every Service before changing it", r.cfg.RunRoot, got, len(stored), want, got)
		}
	}
	if record && (got != want || !exists(r.serviceRangeFile())) {
		if err := state.WriteFile(r.serviceRangeFile(), []byte(want.String()+"\n"), 0o644); err != nil {
			return netip.Prefix{}, fmt.Errorf("recording the service range: %w", err)
		}
	}
	return want, nil
}

// publishAddressFile records where a run root's NodePort and
// LoadBalancer Services are published.
func (r *Runner) publishAddressFile() string { return filepath.Join(r.cfg.RunRoot, "publish-address") }

// PublishAddress is where the run root's NodePort and LoadBalancer
// Services are published: the address the first Service stored
// recorded, else Config.PublishAddress, else DefaultPublishAddress.
func (r *Runner) PublishAddress() (netip.Addr, error) {
	s := cmp.Or(r.cfg.PublishAddress, DefaultPublishAddress)
	if data, err := os.ReadFile(r.publishAddressFile()); err == nil {
		s = strings.TrimSpace(string(data))
	} else if !errors.Is(err, os.ErrNotExist) {
		return netip.Addr{}, fmt.Errorf("reading the publish address: %w", err)
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Addr{}, fmt.Errorf("publish address %q: want an IPv4 address, 0.0.0.0 for every address of this machine", s)
	}
	return a, nil
}

// checkPublishAddress returns the publish address of the Services to be
// stored: Config.PublishAddress, if given, must be the recorded one while
// Services are stored (stored counts them), as LoadBalancer statuses name
// it. With record, it is recorded for later commands (monitors and
// supervisors, which sync the data plane, get no flags). The caller
// holds the services lock.
func (r *Runner) checkPublishAddress(record bool, stored int) (netip.Addr, error) {
	got, err := r.PublishAddress()
	if err != nil {
		return netip.Addr{}, err
	}
	want := got
	if r.cfg.PublishAddress != "" {
		if want, err = netip.ParseAddr(r.cfg.PublishAddress); err != nil || !want.Is4() {
			return netip.Addr{}, fmt.Errorf("--publish-address %q: want an IPv4 address, 0.0.0.0 for every address of this machine", r.cfg.PublishAddress)
		}
	}
	if want != got && stored > 0 && exists(r.publishAddressFile()) {
		return netip.Addr{}, fmt.Errorf("the Services under %s are published on %s, not --publish-address=%s: "+
			"run podrun with --publish-address=%s, or delete every Service before changing it", r.cfg.RunRoot, got, want, got)
	}
	if record && (want != got || !exists(r.publishAddressFile())) {
		if err := state.WriteFile(r.publishAddressFile(), []byte(want.String()+"\n"), 0o644); err != nil {
			return netip.Addr{}, fmt.Errorf("recording the publish address: %w", err)
		}
	}
	return want, nil
}

// checkServices allocates services as ApplyServices would, storing
// nothing: ApplySet calls it first, so that a Service that cannot be
// stored stops the set before any of its objects is applied.
func (r *Runner) checkServices(ctx context.Context, services []kube.Service) error {
	_, err := r.previewServices(ctx, services)
	return err
}

// previewServices allocates services as ApplyServices would, storing
// nothing, for Render.
func (r *Runner) previewServices(ctx context.Context, services []kube.Service) ([]*corev1.Service, error) {
	if len(services) == 0 {
		return nil, nil
	}
	unlock, err := r.lockServices(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return r.allocateServices(services, false)
}

// withServices is stored, the Services of namespace, with those of
// extra in that namespace in place of stored ones of the same name,
// sorted by name.
func withServices(stored, extra []*corev1.Service, namespace string) []*corev1.Service {
	out := slices.Clone(stored)
	for _, s := range extra {
		if s.Namespace != namespace {
			continue
		}
		if i := slices.IndexFunc(out, func(o *corev1.Service) bool { return o.Name == s.Name }); i >= 0 {
			out[i] = s
		} else {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b *corev1.Service) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// ApplyServices allocates the ClusterIPs and nodePorts of services and
// stores them, under one lock, all or none: a Service that cannot be
// allocated stores none of them, and a failure to store one puts back
// those stored before it. A re-apply keeps what was allocated (as
// kubectl apply keeps what the API server set). Then servicesChanged
// runs for each namespace whose Services changed.
func (r *Runner) ApplyServices(ctx context.Context, services []kube.Service) ([]Outcome, error) {
	if len(services) == 0 {
		return nil, nil
	}
	done, err := r.storeServices(ctx, services)
	if err != nil {
		return nil, err
	}
	r.notifyServices(ctx, done)
	return done, nil
}

func (r *Runner) storeServices(ctx context.Context, services []kube.Service) ([]Outcome, error) {
	unlock, err := r.lockServices(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	allocated, err := r.allocateServices(services, true)
	if err != nil {
		return nil, err
	}
	bucket := r.Objects().Services
	var done []Outcome
	var undo []func() error
	for i, svc := range allocated {
		old, err := bucket.Get(svc.Namespace, svc.Name)
		if err != nil && !errors.Is(err, objects.ErrNotFound) {
			return nil, errors.Join(err, rollback(undo))
		}
		if old == nil {
			if err := r.admitResources(svc); err != nil {
				return nil, errors.Join(fmt.Errorf("%s: %w", services[i].Source, err), rollback(undo))
			}
		}
		a, err := bucket.Put(svc)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("%s: %w", services[i].Source, err), rollback(undo))
		}
		ns, name := svc.Namespace, svc.Name
		undo = append(undo, func() error {
			if old == nil {
				return bucket.Delete(ns, name)
			}
			_, err := bucket.Put(old)
			return err
		})
		done = append(done, Outcome{serviceKind{}.resource(), ns, name, string(a)})
	}
	return done, nil
}

// rollback runs undo in reverse, joining what fails.
func rollback(undo []func() error) error {
	var errs []error
	for _, u := range slices.Backward(undo) {
		errs = append(errs, u())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("putting back the Services stored before: %w", err)
	}
	return nil
}

// allocateServices gives each of services its ClusterIP and nodePorts
// against the Services stored, and returns them as they are to be
// stored. The caller holds the services lock.
func (r *Runner) allocateServices(services []kube.Service, record bool) ([]*corev1.Service, error) {
	cidr, err := r.checkServiceRange(record)
	if err != nil {
		return nil, err
	}
	stored, err := r.Objects().Services.All()
	if err != nil {
		return nil, err
	}
	publish, err := r.checkPublishAddress(record, len(stored))
	if err != nil {
		return nil, err
	}
	a := newAllocator(cidr, stored)
	a.publish = publish.String()
	a.hostPorts = r.hostPortsHeld
	a.portFree = network.CheckPortFree
	var out []*corev1.Service
	var errs []error
	for _, s := range services {
		svc, err := a.allocate(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, svc)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// podHostPorts are the hostPorts pods publish, "30080/TCP" to "pod
// namespace/name", which no nodePort may take.
func (r *Runner) podHostPorts() (map[string]string, error) {
	entries, err := r.pods.List()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, e := range entries {
		if e.Pod == nil {
			continue
		}
		for _, p := range recordedPorts(e.Pod) {
			out[fmt.Sprintf("%d/%s", p.HostPort, strings.ToUpper(p.Protocol))] = "pod " + e.Pod.Namespace + "/" + e.Pod.Name + " as a hostPort"
		}
	}
	return out, nil
}

// hostPortsHeld are podHostPorts and the host ports the other run roots
// on this machine publish Services on (their proxies' rules), which a
// nodePort here would collide with though no socket holds them.
func (r *Runner) hostPortsHeld() (map[string]string, error) {
	out, err := r.podHostPorts()
	if err != nil {
		return nil, err
	}
	published, err := proxy.PublishedPorts(context.Background(), nil)
	if err != nil {
		return nil, err
	}
	self := ProxyInstance(r.cfg.RunRoot)
	for _, p := range published {
		if p.Instance != self {
			out[fmt.Sprintf("%d/%s", p.Port, p.Protocol)] = "a Service of another podrun run root (rules PODRUN-" + p.Instance + "-*)"
		}
	}
	return out, nil
}

// notifyServices runs servicesChanged once per namespace of done whose
// Services changed.
func (r *Runner) notifyServices(ctx context.Context, done []Outcome) {
	seen := map[string]bool{}
	for _, o := range done {
		if o.Action == string(objects.Unchanged) || seen[o.Namespace] {
			continue
		}
		seen[o.Namespace] = true
		if err := servicesChanged(ctx, r, o.Namespace); err != nil {
			r.cfg.Log.Warn("updating what follows the Services", "namespace", o.Namespace, "error", err)
		}
	}
}

// DeleteService deletes Service namespace/name, freeing its ClusterIP and
// nodePorts: ErrNotFound (worded `services "x" not found`) when there is
// none.
func (r *Runner) DeleteService(ctx context.Context, namespace, name string) error {
	unlock, err := r.lockServices(ctx)
	if err != nil {
		return err
	}
	bucket := r.Objects().Services
	_, err = bucket.Get(namespace, name)
	if err == nil {
		err = bucket.Delete(namespace, name)
	} else if errors.Is(err, objects.ErrNotFound) {
		err = fmt.Errorf("services %q %w", name, objects.ErrNotFound)
	}
	unlock()
	if err != nil {
		return err
	}
	r.notifyServices(ctx, []Outcome{{Kind: "service", Namespace: namespace, Name: name, Action: "deleted"}})
	return nil
}

// Services returns the stored Services of a namespace, or of every
// namespace when it is "", sorted.
func (r *Runner) Services(namespace string) ([]*corev1.Service, error) {
	if namespace == "" {
		return r.Objects().Services.All()
	}
	return r.Objects().Services.Items(namespace)
}

// ServiceEndpoints returns the Endpoints of Service namespace/name, nil
// when none are stored.
func (r *Runner) ServiceEndpoints(namespace, name string) (*corev1.Endpoints, error) {
	ep, err := r.Objects().Endpoints.Get(namespace, name)
	if errors.Is(err, objects.ErrNotFound) {
		return nil, nil
	}
	return ep, err
}

// stored makes svc what the store keeps: its kind, the UID and creation
// of the Service it replaces, or new ones.
func asStored(svc *corev1.Service, old *corev1.Service) {
	svc.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}
	if old != nil && old.UID != "" {
		svc.UID = old.UID
		return
	}
	svc.UID = types.UID(newUID())
}
