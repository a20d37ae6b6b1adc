package runner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/podrun/podrun/runner/netns"
	"github.com/podrun/podrun/runner/state"
)

// dialTimeout bounds one connection to a pod's port.
const dialTimeout = 10 * time.Second

// DialPod connects to TCP port on the loopback of pod namespace/name from
// inside the pod's network namespace, as the kubelet's port-forward does,
// so that a server listening on the pod's 127.0.0.1 only is reached. A
// hostNetwork pod is dialed on the host's loopback. The pod must have
// started and its monitor still run.
func (r *Runner) DialPod(ctx context.Context, namespace, name string, port int32) (net.Conn, error) {
	k, err := state.PodKey(namespace, name)
	if err != nil {
		return nil, err
	}
	st, err := r.pod(k).dir.Read()
	if errors.Is(err, state.ErrNoState) {
		return nil, fmt.Errorf("pod %s: %w", k, ErrPodNotFound)
	}
	if err != nil {
		return nil, err
	}
	if !st.Monitor.Alive() || st.Stage == state.StagePending {
		return nil, fmt.Errorf("pod %s is not running: start it with podrun apply", k)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port)))
	conn, err := dialIn(ctx, st.NetNS, addr)
	if err != nil {
		return nil, fmt.Errorf("connecting to port %d of pod %s: %w", port, k, err)
	}
	return conn, nil
}

// dialIn dials addr from inside the network namespace bind-mounted at
// netns ("" for the host's), as netns.Do makes sockets there.
func dialIn(ctx context.Context, nsPath, addr string) (conn net.Conn, err error) {
	err = netns.Do(nsPath, func() error {
		conn, err = (&net.Dialer{Timeout: dialTimeout}).DialContext(ctx, "tcp", addr)
		return err
	})
	return conn, err
}
