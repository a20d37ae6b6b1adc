package monitor

import (
	"context"
	"net"

	"github.com/podrun/podrun/runner/netns"
)

// dialer dials from the network namespace pinned at nsPath (netns.Do), so
// that probes and hooks reach the pod as its own containers do, with no
// tool in the image. An empty nsPath (hostNetwork pods) dials from the
// host.
func dialer(nsPath string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (conn net.Conn, err error) {
		err = netns.Do(nsPath, func() error {
			conn, err = (&net.Dialer{}).DialContext(ctx, network, addr)
			return err
		})
		return conn, err
	}
}
