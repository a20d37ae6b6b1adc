package services

import (
	"context"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/objects"
)

// syncer is one Sync, under the lock.
type syncer struct {
	cfg      Config
	services []*corev1.Service // of every namespace
	changed  bool              // an object was written or deleted
}

func (s *syncer) load() error {
	svcs, err := s.cfg.Objects.Services.All()
	if err != nil {
		return fmt.Errorf("syncing service endpoints: %w", err)
	}
	s.services = svcs
	return nil
}

// namespaces are those to sync: ns, or for "" every namespace with a
// Service or a slice.
func (s *syncer) namespaces(ns string) []string {
	if ns != "" {
		return []string{ns}
	}
	var out []string
	for _, svc := range s.services {
		out = append(out, svc.Namespace)
	}
	if all, err := s.cfg.Objects.EndpointSlices.All(); err == nil {
		for _, sl := range all {
			out = append(out, sl.Namespace)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// syncNamespace writes the Endpoints and slices of ns's Services and
// deletes the controllers' objects no Service of ns has any more.
func (s *syncer) syncNamespace(ctx context.Context, ns string) error {
	var svcs []*corev1.Service
	selecting := false
	for _, svc := range s.services {
		if svc.Namespace == ns {
			svcs = append(svcs, svc)
			selecting = selecting || kube.Selects(svc)
		}
	}
	var pods []corev1.Pod
	if selecting {
		var err error
		if pods, err = s.cfg.Pods(ctx, ns); err != nil {
			return fmt.Errorf("syncing the endpoints of namespace %s: listing its pods: %w", ns, err)
		}
	}
	wantEndpoints, wantSlices := map[string]bool{}, map[string]bool{}
	for _, svc := range svcs {
		se := kube.ComputeEndpoints(svc, pods)
		if !kube.Selects(svc) {
			mirrored, err := s.mirror(svc)
			if err != nil {
				return err
			}
			se.Slices = mirrored
		}
		if se.Endpoints != nil {
			wantEndpoints[svc.Name] = true
			if err := put(s, s.cfg.Objects.Endpoints, se.Endpoints); err != nil {
				return err
			}
		}
		for _, sl := range se.Slices {
			wantSlices[sl.Name] = true
			if err := put(s, s.cfg.Objects.EndpointSlices, sl); err != nil {
				return err
			}
		}
		if err := s.recordEvents(svc, se.Missing); err != nil {
			s.cfg.logger().Warn("recording a service's events", "service", ns+"/"+svc.Name, "error", err)
		}
	}
	if err := s.prune(ns, wantEndpoints, wantSlices); err != nil {
		return err
	}
	return s.pruneEvents(ns, svcs)
}

// put stores obj, noting whether it changed.
func put[T any](s *syncer, b objects.Bucket[T], obj *T) error {
	action, err := b.Put(obj)
	if err != nil {
		return fmt.Errorf("syncing service endpoints: %w", err)
	}
	if action != objects.Unchanged {
		s.changed = true
	}
	return nil
}

// prune deletes the controllers' Endpoints and slices in ns that are not
// wanted: those of Services gone, or of port sets no pod has any more.
func (s *syncer) prune(ns string, wantEndpoints, wantSlices map[string]bool) error {
	slices, err := s.cfg.Objects.EndpointSlices.Items(ns)
	if err != nil {
		return fmt.Errorf("syncing service endpoints: %w", err)
	}
	for _, sl := range slices {
		managed := sl.Labels[kube.LabelManagedBy] == kube.ManagedByController || sl.Labels[kube.LabelManagedBy] == kube.ManagedByMirroring
		if !managed || wantSlices[sl.Name] {
			continue
		}
		if err := s.cfg.Objects.EndpointSlices.Delete(ns, sl.Name); err != nil {
			return fmt.Errorf("syncing service endpoints: %w", err)
		}
		s.changed = true
	}
	eps, err := s.cfg.Objects.Endpoints.Items(ns)
	if err != nil {
		return fmt.Errorf("syncing service endpoints: %w", err)
	}
	for _, ep := range eps {
		if ep.Labels[kube.LabelEndpointsManagedBy] != kube.EndpointsManagedBy || wantEndpoints[ep.Name] {
			continue
		}
		if err := s.cfg.Objects.Endpoints.Delete(ns, ep.Name); err != nil {
			return fmt.Errorf("syncing service endpoints: %w", err)
		}
		s.changed = true
	}
	return nil
}

// mirror returns the slices mirroring the user's Endpoints of svc, a
// Service without a selector.
func (s *syncer) mirror(svc *corev1.Service) ([]*discoveryv1.EndpointSlice, error) {
	ep, err := s.cfg.Objects.Endpoints.Get(svc.Namespace, svc.Name)
	if errors.Is(err, objects.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("syncing service endpoints: %w", err)
	}
	return kube.MirrorEndpoints(svc, ep), nil
}
