package runner

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podrun/podrun/runner/flock"
	"github.com/podrun/podrun/runner/network"
	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/translate"
)

// lockPorts serialises hostPort checks and CNI attachments across podrun
// processes, so that two pods cannot both be given one hostPort.
func (r *Runner) lockPorts(ctx context.Context) (func(), error) {
	path := filepath.Join(r.cfg.RunRoot, "locks", "hostports.lock")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	l, err := flock.Exclusive(ctx, path)
	if err != nil {
		return nil, err
	}
	return func() { _ = l.Unlock() }, nil
}

// checkHostPorts refuses a hostPort that another podrun pod publishes,
// one Pending aside. The scheduler's step (place) has left Pending a pod
// that asked for one, so this finds only what records older than it
// hold. (A port held by any other process is found by the network when
// it attaches the pod.)
func (r *Runner) checkHostPorts(pod *corev1.Pod, ports []translate.Port) error {
	if len(ports) == 0 {
		return nil
	}
	others, err := r.pods.List()
	if err != nil {
		return err
	}
	for _, e := range others {
		st := e.Pod
		if st == nil || st.Stage == state.StagePending || st.Namespace == pod.Namespace && st.Name == pod.Name {
			continue
		}
		if err := portClash(ports, recordedPorts(st), st.Namespace, st.Name); err != nil {
			return portFieldError(pod, err)
		}
	}
	return nil
}

// portClash refuses ours when one of them is among theirs, the ports
// pod namespace/name publishes.
func portClash(ours, theirs []translate.Port, namespace, name string) error {
	for _, t := range theirs {
		for _, o := range ours {
			if clash(o, t) {
				return &network.PortError{Port: o, Err: fmt.Errorf("hostPort %d/%s is already published by pod %s/%s: choose another hostPort or delete that pod",
					o.HostPort, strings.ToUpper(o.Protocol), namespace, name)}
			}
		}
	}
	return nil
}

// statePorts are ports as the pod's state records them.
func statePorts(ports []translate.Port) []state.Port {
	var out []state.Port
	for _, p := range ports {
		out = append(out, state.Port{ContainerPort: p.ContainerPort, HostPort: p.HostPort, HostIP: p.HostIP, Protocol: p.Protocol})
	}
	return out
}

// recordedPorts are the hostPort mappings recorded for a pod. A record
// older than the sandbox plan (no stage) has none, so its manifest is
// planned again.
func recordedPorts(st *state.Pod) []translate.Port {
	if st.Stage == "" {
		return translate.Sandbox(manifest(st), translate.Layout{}).Ports
	}
	var out []translate.Port
	for _, p := range st.Ports {
		out = append(out, translate.Port{ContainerPort: p.ContainerPort, HostPort: p.HostPort, HostIP: p.HostIP, Protocol: p.Protocol})
	}
	return out
}

// stateNamespaces are pinned namespaces as the pod's state records them.
func stateNamespaces(pins []translate.PinnedNamespace) []state.Namespace {
	var out []state.Namespace
	for _, ns := range pins {
		out = append(out, state.Namespace{Type: ns.Type, Path: ns.Path})
	}
	return out
}

// portFieldError makes err, when it is about one hostPort of pod (a
// network.PortError), a FieldError about that hostPort field.
func portFieldError(pod *corev1.Pod, err error) error {
	var pe *network.PortError
	if !errors.As(err, &pe) {
		return err
	}
	return &translate.FieldError{Field: hostPortPath(pod, pe.Port), Err: err}
}

// hostPortPath is the path of the hostPort field of pod that publishes p:
// spec.containers[i].ports[j].hostPort, or spec.containers if none does.
func hostPortPath(pod *corev1.Pod, p translate.Port) string {
	for i, c := range pod.Spec.Containers {
		for j, cp := range c.Ports {
			if cp.HostPort == p.HostPort && strings.EqualFold(cmp.Or(string(cp.Protocol), "TCP"), p.Protocol) && cp.HostIP == p.HostIP {
				return field.NewPath("spec", "containers").Index(i).Child("ports").Index(j).Child("hostPort").String()
			}
		}
	}
	return "spec.containers"
}

func clash(a, b translate.Port) bool {
	if a.HostPort != b.HostPort || a.Protocol != b.Protocol {
		return false
	}
	any := func(ip string) bool { return ip == "" || ip == "0.0.0.0" || ip == "::" }
	return a.HostIP == b.HostIP || any(a.HostIP) || any(b.HostIP)
}
