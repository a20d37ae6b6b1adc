package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/portdriver"
	"github.com/podrun/podrun/runner/rootless"
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

// RepublishPorts publishes again the hostPorts of every pod that holds
// some, when the port driver is new: a holder that crashed took its
// slirp4netns, and the forwards with it, while the pods went on in the
// same namespaces under a new holder and uplink. uplink names the port
// driver in use (the holder's slirp4netns); the one the forwards were
// last made on is recorded under the run root, so this costs one read
// while nothing changed. Publishing is idempotent: forwards are found by
// port.
func (r *Runner) RepublishPorts(ctx context.Context, uplink string) error {
	if r.cfg.PortDriver == nil || uplink == "" {
		return nil
	}
	record := filepath.Join(rootless.HolderDir(r.cfg.RunRoot), "ports-uplink")
	if old, err := os.ReadFile(record); err == nil && string(old) == uplink {
		return nil
	}
	entries, err := r.pods.List()
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		st := e.Pod
		if st == nil || st.Stage == state.StagePending || !st.Monitor.Alive() {
			continue
		}
		if err := r.publishPorts(ctx, recordedPorts(st)); err != nil {
			errs = append(errs, fmt.Errorf("publishing the hostPorts of pod %s/%s again: %w", st.Namespace, st.Name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(record), 0o700); err != nil {
		return err
	}
	return state.WriteFile(record, []byte(uplink), 0o600)
}
