// Package pause is the infra container's process. The podrun binary is
// bind-mounted into an empty root file system as /pause; when it starts
// under that name it runs Run and nothing else of podrun.
//
// Run holds the pod's namespaces open, reaps orphans when it is PID 1 (a
// pod that shares its process namespace), and exits 0 on SIGINT or SIGTERM.
package pause

import (
	"os"
	"os/signal"

	"golang.org/x/sys/unix"
)

// Name is the path, inside the infra container, that makes the podrun
// binary act as the pause process.
const Name = "/pause"

// Run never returns: it exits the process when told to stop.
func Run() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGCHLD)
	for sig := range sigs {
		if sig == unix.SIGCHLD {
			reap()
			continue
		}
		os.Exit(0)
	}
}

// reap collects every exited child, as an init process must.
func reap() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
