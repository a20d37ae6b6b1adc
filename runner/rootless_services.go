package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/runner/portdriver"
	"github.com/podrun/podrun/runner/rootless"
	"github.com/podrun/podrun/runner/state"
)

// Rootless, the service proxy's rules live in the holder's network
// namespace, where it publishes NodePorts and LoadBalancer ports on every
// address (the namespace is the user's alone); the port driver then
// carries each from the host's 127.0.0.1 into it, as it does hostPorts.
// Nothing here runs in root mode, where PortDriver is nil.

// servicePortsFile records the Service ports published through the port
// driver, so that the next sync unpublishes those no Service has any more.
func (r *Runner) servicePortsFile() string {
	return filepath.Join(rootless.HolderDir(r.cfg.RunRoot), "service-ports.json")
}

// hostServicePorts are the host ports svcs publish: every nodePort, and a
// LoadBalancer's ports.
func hostServicePorts(svcs []*corev1.Service) []portdriver.Forward {
	var out []portdriver.Forward
	add := func(proto corev1.Protocol, port int32) {
		f := portdriver.Forward{Proto: strings.ToLower(string(proto)), HostPort: int(port)}
		if port > 0 && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	for _, s := range svcs {
		for _, p := range s.Spec.Ports {
			proto := p.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			if s.Spec.Type == corev1.ServiceTypeNodePort || s.Spec.Type == corev1.ServiceTypeLoadBalancer {
				add(proto, p.NodePort)
			}
			if s.Spec.Type == corev1.ServiceTypeLoadBalancer {
				add(proto, p.Port)
			}
		}
	}
	return out
}

// publishServicePorts makes the port driver's Service forwards those of
// svcs: new ones published, gone ones unpublished.
func (r *Runner) publishServicePorts(ctx context.Context, svcs []*corev1.Service) error {
	if r.cfg.PortDriver == nil {
		return nil
	}
	var old []portdriver.Forward
	if data, err := os.ReadFile(r.servicePortsFile()); err == nil {
		if err := json.Unmarshal(data, &old); err != nil {
			return fmt.Errorf("reading the Service ports published: %w", err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	want := hostServicePorts(svcs)
	var errs []error
	for _, f := range old {
		if !slices.Contains(want, f) {
			errs = append(errs, r.cfg.PortDriver.Unpublish(ctx, f))
		}
	}
	var published []portdriver.Forward
	for _, f := range want {
		if err := r.cfg.PortDriver.Publish(ctx, f); err != nil {
			errs = append(errs, fmt.Errorf("publishing Service port %s on the host: %w", f, err))
			continue
		}
		published = append(published, f)
	}
	data, err := json.Marshal(published)
	if err == nil {
		err = state.WriteFile(r.servicePortsFile(), data, 0o600)
	}
	return errors.Join(append(errs, err)...)
}
