package monitor

import (
	"context"
	"fmt"
	"net"
	"os"
	goruntime "runtime"

	"golang.org/x/sys/unix"
)

// dialer dials from the network namespace pinned at nsPath, so that probes
// and hooks reach the pod as its own containers do, with no tool in the
// image. An empty nsPath (hostNetwork pods) dials from the host.
//
// The socket is made by a goroutine locked to a thread that has entered
// the pod's namespace; once made, a socket keeps its namespace whichever
// thread uses it. A thread that cannot be brought back to the host's
// namespace is never unlocked, so it dies with its goroutine instead of
// running other code in the pod's namespace.
func dialer(nsPath string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if nsPath == "" {
		return (&net.Dialer{}).DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		type result struct {
			conn net.Conn
			err  error
		}
		done := make(chan result, 1)
		go func() {
			goruntime.LockOSThread()
			conn, err, restored := dialIn(ctx, nsPath, network, addr)
			if restored {
				goruntime.UnlockOSThread()
			}
			done <- result{conn, err}
		}()
		r := <-done
		return r.conn, r.err
	}
}

// dialIn dials addr from the namespace at nsPath on the current (locked)
// thread. restored reports whether the thread is back in its own namespace.
func dialIn(ctx context.Context, nsPath, network, addr string) (conn net.Conn, err error, restored bool) {
	self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		return nil, fmt.Errorf("opening this thread's network namespace: %w", err), true
	}
	defer self.Close()
	target, err := os.Open(nsPath)
	if err != nil {
		return nil, fmt.Errorf("opening the pod's network namespace: %w", err), true
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return nil, fmt.Errorf("entering the pod's network namespace: %w", err), true
	}
	conn, err = (&net.Dialer{}).DialContext(ctx, network, addr)
	restored = unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil
	return conn, err, restored
}
