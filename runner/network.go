package runner

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/runner/network"
	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/translate"
)

// A pod's network: CNI ADD into its pinned namespace at apply, DEL at
// teardown, with the hostPorts recorded in its sandbox plan.

// attachNetwork pins the sandbox's network namespace and runs CNI ADD in
// it. A pod without a network of its own (hostNetwork) uses the host's
// and gets the host's address.
func (r *Runner) attachNetwork(ctx context.Context, dir *state.PodDir, st *state.Pod, pod *corev1.Pod, sandbox translate.SandboxPlan, open openNetwork) (string, error) {
	if !sandbox.PodNetwork() {
		// The kubelet reports the host's address as such a pod's IP.
		_, err := dir.Update(ctx, func(s *state.Pod) error { s.PodIP, s.Stage = s.HostIP, state.StageNetwork; return nil })
		if err == nil { // rootless: the holder's network is not the host's
			err = portFieldError(pod, r.publishPorts(ctx, sandbox.Ports))
		}
		return st.HostIP, err
	}
	net, err := open()
	if err != nil {
		return "", err
	}
	done := r.timeStep("netns")
	err = network.NewNS(sandbox.NetNS)
	done()
	if err != nil {
		return "", fmt.Errorf("creating the pod's network namespace: %w", err)
	}
	unlock, err := r.lockPorts(ctx)
	if err != nil {
		return "", err
	}
	defer unlock()
	if err := r.checkHostPorts(pod, sandbox.Ports); err != nil {
		return "", err
	}
	done = r.timeStep("CNI ADD")
	att, err := net.Attach(ctx, string(pod.UID), sandbox.NetNS, sandbox.Ports)
	done()
	if err != nil {
		return "", portFieldError(pod, err)
	}
	_, err = dir.Update(ctx, func(s *state.Pod) error {
		s.PodIP = att.IP
		s.Network = r.cfg.Network.Name
		s.CNIResult = att.Result
		s.Stage = state.StageNetwork
		return nil
	})
	if err == nil {
		// Recorded first: a failure here is undone by detachNetwork.
		err = portFieldError(pod, r.publishPorts(ctx, sandbox.Ports))
	}
	return att.IP, err
}

// detachNetwork runs CNI DEL for the pod and removes its network namespace.
func (r *Runner) detachNetwork(ctx context.Context, st *state.Pod, l translate.Layout) error {
	netns := l.Namespace("net")
	var unpublished error // teardown goes on: CNI DEL still runs
	if r.cfg.PortDriver != nil && st.UID != "" {
		if err := r.unpublishPodPorts(ctx, st.Namespace, st.Name, recordedPorts(st)); err != nil {
			unpublished = fmt.Errorf("unpublishing the pod's hostPorts: %w", err)
		}
	}
	if st.Network != "" && st.UID != "" {
		cfg := r.cfg.Network
		cfg.Name = st.Network
		net, err := network.Open(cfg)
		if err != nil {
			return joinUnpublished(unpublished, fmt.Errorf("opening network %q to detach the pod: %w", st.Network, err))
		}
		att := &network.Attachment{IP: st.PodIP, Result: st.CNIResult}
		if err := net.Detach(ctx, st.UID, netns, recordedPorts(st), att); err != nil {
			return joinUnpublished(unpublished, fmt.Errorf("detaching the pod from network %q: %w", st.Network, err))
		}
	}
	if err := network.RemoveNS(netns); err != nil {
		return joinUnpublished(unpublished, fmt.Errorf("removing the network namespace: %w", err))
	}
	return unpublished
}

// joinUnpublished adds a rootless unpublish failure to err; root mode,
// where there is none, gets err itself.
func joinUnpublished(unpublished, err error) error {
	if unpublished == nil {
		return err
	}
	return errors.Join(unpublished, err)
}
