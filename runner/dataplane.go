package runner

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/podrun/podrun/runner/flock"
	"github.com/podrun/podrun/runner/proxy"
	"github.com/podrun/podrun/runner/services"
	"github.com/podrun/podrun/runner/state"
)

// dataPlane carries the run root's Services and endpoints into the
// network: Config.DataPlane when set, else the run root's service proxy
// (runner/proxy), made when a sync first needs it, with the service range
// and publish address the Services were stored with. Every process that
// changes pods (apply, delete, a monitor, a supervisor) syncs through it,
// so there is no proxy process.
func (r *Runner) dataPlane() services.DataPlane {
	if r.cfg.DataPlane != nil {
		return r.cfg.DataPlane
	}
	return runProxy{r}
}

// runProxy is the run root's service proxy.
type runProxy struct{ r *Runner }

// Sync makes the proxy serve svcs. With none left, the range stays
// rejected while the run root has pods (Proxy.Guard: a ClusterIP just
// deleted must not be routed out), and everything goes with the last pod
// (releaseProxy).
func (p runProxy) Sync(ctx context.Context, svcs []*corev1.Service, slices []*discoveryv1.EndpointSlice) error {
	px, err := p.r.proxy()
	if err != nil {
		return err
	}
	if err := p.r.publishServicePorts(ctx, svcs); err != nil {
		return err
	}
	if len(svcs) > 0 {
		return px.Sync(ctx, svcs, slices)
	}
	has, err := p.r.hasPods()
	if err != nil {
		return err
	}
	if has {
		return px.Guard(ctx)
	}
	return p.r.teardownProxy(ctx, px)
}

// hasPods says whether the run root records a pod; a directory left
// with no record (a pod being deleted, under its lock) is none.
func (r *Runner) hasPods() (bool, error) {
	entries, err := r.pods.List()
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		if e.Pod != nil || !errors.Is(e.Err, state.ErrNoState) {
			return true, nil
		}
	}
	return false, nil
}

// proxyDir is the proxy's state under the run root; it exists while the
// proxy may have rules.
func (r *Runner) proxyDir() string { return filepath.Join(r.cfg.RunRoot, "proxy") }

// releaseProxy removes the run root's service rules once it has neither
// Services nor pods: after the last pod's delete, which leaves nothing
// for a ClusterIP to be guarded from. It takes the lock Services' syncs
// take, so that no Service is stored between the look and the teardown.
func (r *Runner) releaseProxy(ctx context.Context) {
	if r.cfg.DataPlane != nil || !exists(r.proxyDir()) {
		return
	}
	err := func() error {
		l, err := flock.Exclusive(ctx, services.LockPath(r.cfg.RunRoot))
		if err != nil {
			return err
		}
		defer l.Unlock()
		svcs, err := r.Objects().Services.All()
		if err != nil || len(svcs) > 0 {
			return err
		}
		if has, err := r.hasPods(); err != nil || has {
			return err
		}
		px, err := r.proxy()
		if err != nil {
			return err
		}
		return r.teardownProxy(ctx, px)
	}()
	if err != nil {
		r.cfg.Log.Warn("removing the service rules of a run root with no pods and no Services", "error", err)
	}
}

// teardownProxy removes the proxy's rules and its state.
func (r *Runner) teardownProxy(ctx context.Context, px *proxy.Proxy) error {
	if err := px.Teardown(ctx); err != nil {
		return err
	}
	return os.RemoveAll(r.proxyDir())
}

// ProxyInstance names the run root's service rules: their chains are
// PODRUN-<instance>-*, their comments say "podrun <instance>".
func ProxyInstance(runRoot string) string { return proxy.InstanceName(runRoot) }

func (r *Runner) proxy() (*proxy.Proxy, error) {
	cidr, err := r.ServiceCIDR()
	if err != nil {
		return nil, err
	}
	publish, err := r.PublishAddress()
	if err != nil {
		return nil, err
	}
	if r.cfg.PortDriver != nil {
		// Rootless: every address of the holder's network namespace, the
		// user's alone, where the port driver brings the host's ports.
		publish = netip.IPv4Unspecified()
	}
	p, err := proxy.New(proxy.Config{
		Instance:       ProxyInstance(r.cfg.RunRoot),
		ServiceCIDR:    cidr,
		PublishAddress: publish,
		StateDir:       r.proxyDir(),
		Log:            r.cfg.Log,
	})
	if err != nil {
		return nil, fmt.Errorf("the service proxy: %w", err)
	}
	return p, nil
}
