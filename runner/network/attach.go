package network

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/translate"
)

// ifName is the pod's interface.
const ifName = "eth0"

// rollbackTimeout bounds the DEL that undoes a failed Attach, which runs
// even when the caller's context is done.
const rollbackTimeout = 30 * time.Second

// Attach runs CNI ADD for the pod with id (the pod UID) in the namespace
// pinned at netns, with hostPort mappings ports: first the loopback
// network, then the conflist. A hostPort already in use on the host is
// ErrPortInUse; on any error DEL has undone whatever ADD began.
func (n *Network) Attach(ctx context.Context, id, netns string, ports []translate.Port) (*Attachment, error) {
	unlock, err := n.lock(ctx)
	if err != nil {
		return nil, fmt.Errorf("attaching pod %s to network %q: %w", id, n.list.Name, err)
	}
	defer unlock()
	if err := checkPorts(ports); err != nil {
		return nil, err
	}
	rt := n.runtimeConf(id, netns, ports)
	prev := &prevResult{}
	att, err := n.add(withPrevResult(ctx, prev), rt)
	if err != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		defer cancel()
		if derr := n.del(withPrevResult(rctx, prev), rt); derr != nil {
			n.cfg.Logger.Warn("rolling back CNI ADD", "pod", id, "err", derr)
		}
		return nil, fmt.Errorf("attaching pod %s to network %q: %w", id, n.list.Name, err)
	}
	return att, nil
}

// add runs the loopback ADD, then the conflist's, and reads the result.
func (n *Network) add(ctx context.Context, rt *libcni.RuntimeConf) (*Attachment, error) {
	// The loopback result is no prevResult for the conflist's DEL.
	if _, err := n.cni.AddNetwork(withPrevResult(ctx, nil), n.loopback, loopbackRT(rt)); err != nil {
		return nil, fmt.Errorf("bringing up loopback: %w", err)
	}
	res, err := n.cni.AddNetworkList(ctx, n.list, rt)
	if err != nil {
		return nil, err
	}
	return attachment(res, n.list.CNIVersion)
}

// attachment reads the pod's IPv4 address and gateway from an ADD result,
// and keeps the result in the conflist's version, as plugins get it.
func attachment(res types.Result, cniVersion string) (*Attachment, error) {
	r, err := types100.NewResultFromResult(res)
	if err != nil {
		return nil, fmt.Errorf("reading the CNI result: %w", err)
	}
	asIs, err := res.GetAsVersion(cniVersion)
	if err != nil {
		return nil, fmt.Errorf("reading the CNI result: %w", err)
	}
	raw, err := json.Marshal(asIs)
	if err != nil {
		return nil, fmt.Errorf("encoding the CNI result: %w", err)
	}
	att := &Attachment{Result: raw}
	for _, ip := range r.IPs {
		if ip.Address.IP.To4() == nil {
			continue
		}
		att.IP = ip.Address.IP.String()
		if ip.Gateway != nil {
			att.Gateway = ip.Gateway.String()
		}
		return att, nil
	}
	return nil, fmt.Errorf("reading the CNI result: no IPv4 address in %s", raw)
}

// Detach runs CNI DEL for the conflist, then for loopback, with the
// result libcni cached at ADD as prevResult. It is idempotent: detaching
// twice, or after the namespace is gone, succeeds; with the namespace gone
// NetNS is passed empty, as the spec allows, so IPAM and iptables are
// still cleaned up (and the masquerading rules the bridge plugin cannot
// find then are removed by cleanMasq). att may be nil.
func (n *Network) Detach(ctx context.Context, id, netns string, ports []translate.Port, att *Attachment) error {
	unlock, err := n.lock(ctx)
	if err != nil {
		return fmt.Errorf("detaching pod %s from network %q: %w", id, n.list.Name, err)
	}
	defer unlock()
	gone := !isNetNS(netns)
	if gone {
		netns = ""
	}
	if att != nil {
		// Should libcni's cache have lost the result, DEL gets att's.
		ctx = withPrevResult(ctx, &prevResult{raw: att.Result})
	}
	if err := n.del(ctx, n.runtimeConf(id, netns, ports)); err != nil {
		return fmt.Errorf("detaching pod %s from network %q: %w", id, n.list.Name, err)
	}
	if gone {
		if err := cleanMasq(ctx, n.list.Name, id); err != nil {
			return fmt.Errorf("detaching pod %s from network %q: %w", id, n.list.Name, err)
		}
	}
	return nil
}

// del runs DEL for the conflist and then loopback, reporting the first
// error but running both.
func (n *Network) del(ctx context.Context, rt *libcni.RuntimeConf) error {
	err := n.cni.DelNetworkList(ctx, n.list, rt)
	if lerr := n.cni.DelNetwork(withPrevResult(ctx, nil), n.loopback, loopbackRT(rt)); lerr != nil && err == nil {
		err = fmt.Errorf("bringing down loopback: %w", lerr)
	}
	return err
}

// Check runs CNI CHECK for the pod's attachment, against the result cached
// at ADD: an error says the network is not as ADD left it.
func (n *Network) Check(ctx context.Context, id, netns string, ports []translate.Port) error {
	unlock, err := n.lock(ctx)
	if err != nil {
		return fmt.Errorf("checking pod %s on network %q: %w", id, n.list.Name, err)
	}
	defer unlock()
	if err := n.cni.CheckNetworkList(ctx, n.list, n.runtimeConf(id, netns, ports)); err != nil {
		return fmt.Errorf("checking pod %s on network %q: %w", id, n.list.Name, err)
	}
	return nil
}

// runtimeConf is the per-pod part of every call.
func (n *Network) runtimeConf(id, netns string, ports []translate.Port) *libcni.RuntimeConf {
	rt := &libcni.RuntimeConf{ContainerID: id, NetNS: netns, IfName: ifName}
	if len(ports) > 0 {
		rt.CapabilityArgs = map[string]any{"portMappings": portMappings(ports)}
	}
	return rt
}

// loopbackRT is rt for the loopback network.
func loopbackRT(rt *libcni.RuntimeConf) *libcni.RuntimeConf {
	return &libcni.RuntimeConf{ContainerID: rt.ContainerID, NetNS: rt.NetNS, IfName: "lo"}
}

// portMapping is one entry of CNI's portMappings capability.
type portMapping struct {
	HostPort      int32  `json:"hostPort"`
	ContainerPort int32  `json:"containerPort"`
	Protocol      string `json:"protocol"`
	HostIP        string `json:"hostIP,omitempty"`
}

func portMappings(ports []translate.Port) []portMapping {
	out := make([]portMapping, 0, len(ports))
	for _, p := range ports {
		out = append(out, portMapping{
			HostPort:      p.HostPort,
			ContainerPort: p.ContainerPort,
			Protocol:      protocol(p),
			HostIP:        p.HostIP,
		})
	}
	return out
}

// isNetNS reports whether path is a pinned namespace (an nsfs file).
func isNetNS(path string) bool {
	if path == "" {
		return false
	}
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false
	}
	return st.Type == unix.NSFS_MAGIC
}
