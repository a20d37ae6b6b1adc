package monitor

import (
	"os"
	"sync"
)

// stdinWriters hold open the write ends of the stdin pipes of containers
// with stdin: true, by container name, for as long as the monitor lives.
var stdinWriters sync.Map

// stdin is the standard input of container name: for a container with
// stdin (or stdinOnce) set, a pipe that stays open and empty, as the
// kubelet's runtime keeps it open for an attach that podrun does not
// offer yet; nil (/dev/null) otherwise, as on Kubernetes.
func (m *monitor) stdin(name string) *os.File {
	if !wantsStdin(m, name) {
		return nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		m.cfg.Log.Warn("making the stdin pipe; the container gets /dev/null", "container", name, "error", err)
		return nil
	}
	if old, ok := stdinWriters.Swap(name, w); ok {
		old.(*os.File).Close() // the previous run's
	}
	return r
}

func wantsStdin(m *monitor, name string) bool {
	for _, c := range append(append(m.pod.Spec.InitContainers[:0:0], m.pod.Spec.InitContainers...), m.pod.Spec.Containers...) {
		if c.Name == name {
			return c.Stdin
		}
	}
	return false
}
