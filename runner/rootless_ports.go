package runner

import (
	"context"
	"errors"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/portdriver"
	"github.com/podrun/podrun/translate"
)

// Rootless hostPorts: the CNI portmap plugin maps them inside the
// per-user namespace holder's network namespace, and the port driver
// (Config.PortDriver) publishes each on the host's loopback. Nothing here
// runs in root mode, where PortDriver is nil.

// checkPortFloor refuses, before anything is created, every hostPort of
// pods the port driver may not publish (below the host's
// ip_unprivileged_port_start).
func (r *Runner) checkPortFloor(pods []kube.Pod) error {
	if r.cfg.PortDriver == nil {
		return nil
	}
	var errs []error
	for _, p := range pods {
		sandbox := translate.Sandbox(p.Pod, translate.Layout{})
		if !sandbox.PodNetwork() {
			continue
		}
		for _, port := range sandbox.Ports {
			if err := r.cfg.PortDriver.Check(forward(port)); err != nil {
				errs = append(errs, podError(p, &translate.FieldError{Field: hostPortPath(p.Pod, port), Err: err}))
			}
		}
	}
	return errors.Join(errs...)
}

// publishPorts publishes ports on the host; on failure it unpublishes
// what it published.
func (r *Runner) publishPorts(ctx context.Context, ports []translate.Port) error {
	if r.cfg.PortDriver == nil {
		return nil
	}
	for i, p := range ports {
		if err := r.cfg.PortDriver.Publish(ctx, forward(p)); err != nil {
			_ = r.unpublishPorts(context.WithoutCancel(ctx), ports[:i])
			return err
		}
	}
	return nil
}

// unpublishPorts removes ports' forwards; those already gone are fine.
func (r *Runner) unpublishPorts(ctx context.Context, ports []translate.Port) error {
	if r.cfg.PortDriver == nil {
		return nil
	}
	var errs []error
	for _, p := range ports {
		errs = append(errs, r.cfg.PortDriver.Unpublish(ctx, forward(p)))
	}
	return errors.Join(errs...)
}

func forward(p translate.Port) portdriver.Forward {
	return portdriver.Forward{Proto: p.Protocol, HostAddr: p.HostIP, HostPort: int(p.HostPort)}
}
