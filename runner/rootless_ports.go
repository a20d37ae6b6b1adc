package runner

import (
	"context"
	"errors"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/portdriver"
	"github.com/podrun/podrun/runner/state"
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
		for _, port := range translate.Sandbox(p.Pod, translate.Layout{}).Ports {
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

// unpublishPodPorts removes the forwards of pod namespace/name's ports,
// except those another pod's record holds: a pod refused because its
// port was taken by another must not take that pod's forward away when
// it is rolled back (forwards are found by port, not by owner).
func (r *Runner) unpublishPodPorts(ctx context.Context, namespace, name string, ports []translate.Port) error {
	if r.cfg.PortDriver == nil || len(ports) == 0 {
		return nil
	}
	others, err := r.pods.List()
	if err != nil {
		return err
	}
	var mine []translate.Port
	for _, p := range ports {
		if !heldElsewhere(p, others, namespace, name) {
			mine = append(mine, p)
		}
	}
	return r.unpublishPorts(ctx, mine)
}

// heldElsewhere reports whether a pod other than namespace/name, past
// Pending, records port p.
func heldElsewhere(p translate.Port, others []state.Entry, namespace, name string) bool {
	for _, e := range others {
		st := e.Pod
		if st == nil || st.Stage == state.StagePending || st.Namespace == namespace && st.Name == name {
			continue
		}
		for _, t := range recordedPorts(st) {
			if clash(p, t) {
				return true
			}
		}
	}
	return false
}

func forward(p translate.Port) portdriver.Forward {
	return portdriver.Forward{Proto: p.Protocol, HostAddr: p.HostIP, HostPort: int(p.HostPort)}
}
