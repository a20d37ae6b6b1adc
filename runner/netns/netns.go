// Package netns runs code inside a pod's network namespace, for the few
// things that must be made there: a probe's or port-forward's connection,
// the cluster DNS sockets. A socket keeps the namespace it was made in,
// whichever thread uses it afterwards, so only its making needs the
// namespace.
//
// Package netns prints nothing.
package netns

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Do runs fn on an OS thread of its own that has entered the network
// namespace bind-mounted at path, and returns fn's error; with an empty
// path fn runs here, in this thread's namespace. The thread returns to
// its own namespace afterwards; one that cannot is never unlocked, so it
// ends with its goroutine instead of running other code in the pod's
// namespace.
func Do(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		restored, err := in(path, fn)
		if restored {
			runtime.UnlockOSThread()
		}
		done <- err
	}()
	return <-done
}

// in runs fn on the current, locked thread inside the namespace at path.
// restored reports whether the thread is back in its own namespace.
func in(path string, fn func() error) (restored bool, err error) {
	self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		return true, fmt.Errorf("opening this thread's network namespace: %w", err)
	}
	defer self.Close()
	target, err := os.Open(path)
	if err != nil {
		return true, fmt.Errorf("opening the pod's network namespace: %w", err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return true, fmt.Errorf("entering the pod's network namespace: %w", err)
	}
	err = fn()
	if serr := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); serr != nil {
		return false, fmt.Errorf("leaving the pod's network namespace: %w", serr)
	}
	return true, err
}
