package runner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

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
// netns ("" for the host's): on a thread of its own that enters it,
// creates the socket there and comes back. A thread that cannot come back
// is never unlocked, so it ends with its goroutine and serves no other.
func dialIn(ctx context.Context, netns, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: dialTimeout}
	if netns == "" {
		return d.DialContext(ctx, "tcp", addr)
	}
	target, err := os.Open(netns)
	if err != nil {
		return nil, fmt.Errorf("opening the pod's network namespace: %w", err)
	}
	defer target.Close()
	type result struct {
		conn net.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		home, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{err: fmt.Errorf("opening this thread's network namespace: %w", err)}
			return
		}
		defer home.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- result{err: fmt.Errorf("entering the pod's network namespace: %w", err)}
			return
		}
		conn, err := d.DialContext(ctx, "tcp", addr)
		if serr := unix.Setns(int(home.Fd()), unix.CLONE_NEWNET); serr != nil {
			if conn != nil {
				conn.Close()
			}
			done <- result{err: fmt.Errorf("leaving the pod's network namespace: %w", serr)}
			return // the thread stays locked, and exits with this goroutine
		}
		runtime.UnlockOSThread()
		done <- result{conn, err}
	}()
	res := <-done
	return res.conn, res.err
}
