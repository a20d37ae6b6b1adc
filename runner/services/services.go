package services

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/podrun/podrun/runner/flock"
	"github.com/podrun/podrun/runner/objects"
)

// DataPlane carries Services and their endpoints into the network: the
// service proxy (runner/proxy) implements it.
type DataPlane interface {
	// Sync renders every namespace's Services and EndpointSlices.
	Sync(ctx context.Context, services []*corev1.Service, slices []*discoveryv1.EndpointSlice) error
}

// Config is what Sync reads and writes.
type Config struct {
	// RunRoot holds the lock and the events (see the package doc).
	RunRoot string
	// Objects holds the Services, Endpoints and EndpointSlices.
	Objects *objects.Store
	// Pods lists the pods of a namespace ("" for every namespace) with
	// their status as podrun reports them.
	Pods func(ctx context.Context, namespace string) ([]corev1.Pod, error)
	// DataPlane, if set, is told of every change.
	DataPlane DataPlane
	Log       *slog.Logger
	// Now, if set, replaces time.Now for event times: for tests.
	Now func() time.Time
}

// LockPath is the lock Sync takes, under runRoot.
func LockPath(runRoot string) string {
	return filepath.Join(runRoot, "locks", "services.lock")
}

// Sync brings the Endpoints and EndpointSlices of namespace's Services
// ("" for every namespace) up to date with their pods, and tells the
// data plane when any changed. Call it after changing a pod's readiness
// or existence, with the pod's state written.
func Sync(ctx context.Context, cfg Config, namespace string) error {
	return sync(ctx, cfg, namespace, false)
}

// ServicesChanged is Sync after a Service of namespace was stored or
// deleted: the data plane is told even when no endpoint changed.
func ServicesChanged(ctx context.Context, cfg Config, namespace string) error {
	return sync(ctx, cfg, namespace, true)
}

func sync(ctx context.Context, cfg Config, namespace string, force bool) error {
	if cfg.Objects == nil || cfg.Pods == nil || cfg.RunRoot == "" {
		return errors.New("syncing service endpoints: services.Config needs RunRoot, Objects and Pods")
	}
	if !force {
		if idle, err := idle(cfg.Objects); err != nil || idle {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(LockPath(cfg.RunRoot)), 0o700); err != nil {
		return fmt.Errorf("syncing service endpoints: %w", err)
	}
	l, err := flock.Exclusive(ctx, LockPath(cfg.RunRoot))
	if err != nil {
		return fmt.Errorf("syncing service endpoints: locking %s: %w", LockPath(cfg.RunRoot), err)
	}
	defer l.Unlock()
	s := &syncer{cfg: cfg}
	if err := s.load(); err != nil {
		return err
	}
	for _, ns := range s.namespaces(namespace) {
		if err := s.syncNamespace(ctx, ns); err != nil {
			return err
		}
	}
	if cfg.DataPlane == nil || !(force || s.changed) {
		return nil
	}
	slices, err := cfg.Objects.EndpointSlices.All()
	if err != nil {
		return fmt.Errorf("syncing service endpoints: %w", err)
	}
	if err := cfg.DataPlane.Sync(ctx, s.services, slices); err != nil {
		return fmt.Errorf("syncing service endpoints: updating the service proxy: %w", err)
	}
	return nil
}

// idle reports whether no Service and no slice is stored: then there is
// nothing to compute and nothing to clean, and Sync returns at once.
func idle(store *objects.Store) (bool, error) {
	svcs, err := store.Services.All()
	if err != nil || len(svcs) > 0 {
		return false, err
	}
	slices, err := store.EndpointSlices.All()
	if err != nil {
		return false, err
	}
	return len(slices) == 0, nil
}
