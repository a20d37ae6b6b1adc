// Package network gives pods their network: a pinned network namespace
// and a CNI attachment through libcni and the standard plugins.
//
// Calls follow the CNI spec to the letter: the ADD result is kept and
// handed to CHECK and DEL, DEL is best effort and idempotent (a missing
// namespace is success), and calls on one machine are serialised.
package network

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/podrun/podrun/translate"
)

// Config says which CNI network to use and where things are.
type Config struct {
	Name       string   // network (conflist) name; "podrun" is written on first use
	ConfDir    string   // where conflists live, default /etc/cni/net.d
	PluginDirs []string // default /usr/lib/cni, /opt/cni/bin
	CacheDir   string   // libcni's cache, under the run root
	LockFile   string   // serialises CNI calls, under the run root
}

// Network is a loaded CNI network.
type Network struct {
	cfg Config
}

// Open loads the network named by cfg, writing the default "podrun"
// conflist (bridge podrun0, host-local IPAM, portmap, firewall, loopback)
// if that is the one asked for and it does not exist. A missing plugin
// binary is an error naming it and how to install it.
func Open(cfg Config) (*Network, error) {
	return nil, fmt.Errorf("network.Open: not implemented")
}

// Attachment is the outcome of Attach, kept in the pod's state and handed
// back to Detach.
type Attachment struct {
	IP      string          // the pod's IPv4 address
	Gateway string
	Result  json.RawMessage // the CNI ADD result, verbatim
}

// Attach runs CNI ADD for the pod with id (the pod UID) in the namespace
// pinned at netns, with hostPort mappings ports. A hostPort already in use
// on the host is an error that says so; on any error nothing is left.
func (n *Network) Attach(ctx context.Context, id, netns string, ports []translate.Port) (*Attachment, error) {
	return nil, fmt.Errorf("network.Attach: not implemented")
}

// Detach runs CNI DEL. It is idempotent: detaching what is gone succeeds.
func (n *Network) Detach(ctx context.Context, id, netns string, ports []translate.Port, att *Attachment) error {
	return fmt.Errorf("network.Detach: not implemented")
}

// NewNS creates a network namespace and pins it at path (a bind mount of
// its nsfs file).
func NewNS(path string) error {
	return fmt.Errorf("network.NewNS: not implemented")
}

// RemoveNS unmounts and removes the namespace pinned at path. A missing
// one is success.
func RemoveNS(path string) error {
	return fmt.Errorf("network.RemoveNS: not implemented")
}
