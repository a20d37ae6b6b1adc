package monitor

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// stopSignal is the signal that stops the container, by the kubelet's
// precedence: its lifecycle.stopSignal, else its image's StopSignal, else
// SIGTERM.
func (c *ctr) stopSignal() syscall.Signal {
	if l := c.spec.Lifecycle; l != nil && l.StopSignal != nil {
		if sig := unix.SignalNum(string(*l.StopSignal)); sig != 0 {
			return sig
		}
	}
	return c.m.stopSignal(c.image)
}
