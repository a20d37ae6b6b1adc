package monitor

import (
	"syscall"

	"github.com/podrun/podrun/kube/kubelet"
	"github.com/podrun/podrun/runner/runtime"
)

// stopSignal is the signal that stops the container, by kubelet.StopSignal.
func (c *ctr) stopSignal() syscall.Signal {
	var image string
	if img, err := c.m.cfg.Image(c.image); err == nil {
		image = img.StopSignal
	}
	sig, err := runtime.ParseSignal(kubelet.StopSignal(&c.spec, image))
	if err != nil {
		c.m.cfg.Log.Warn("stopping with SIGTERM", "container", c.name, "error", err)
		return syscall.SIGTERM
	}
	return sig
}
