package monitor

import (
	"bytes"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// The monitor is a child subreaper: every container's init becomes its
// child when the runtime's create command exits, and so does any process
// of a container whose parent outside it dies: an exec probe's or `podrun
// exec`'s process when its `runc exec` is killed on a timeout. Those
// orphans are nobody else's to reap, and a zombie left in a container's
// pid namespace keeps the namespace's init from finishing its exit after
// SIGKILL, so the container could not be stopped. reapOrphans reaps them;
// the inits it leaves to their own waits (created), which record their
// exit codes.

// created are the pids of the container inits this monitor made.
type created struct {
	mu   sync.Mutex
	pids map[int]bool
}

func (c *created) add(pid int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pids == nil {
		c.pids = map[int]bool{}
	}
	c.pids[pid] = true
}

func (c *created) remove(pid int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pids, pid)
}

func (c *created) has(pid int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pids[pid]
}

// reapOrphans reaps, each time a child changes state, the zombie children
// that are no init of this monitor's and live in a pid namespace nested in
// its own (the runtime and other commands it runs itself live in its own,
// and their os/exec waits reap them), until stop is closed.
func (m *monitor) reapOrphans(stop <-chan struct{}) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGCHLD)
	defer signal.Stop(sigs)
	for {
		select {
		case <-stop:
			return
		case <-sigs:
			for _, pid := range zombieChildren() {
				if !m.created.has(pid) && nestedPidNS(pid) {
					var ws unix.WaitStatus
					_, _ = unix.Wait4(pid, &ws, unix.WNOHANG, nil)
				}
			}
		}
	}
}

// zombieChildren are this process's children that have exited and are
// not reaped yet, from every thread's children list.
func zombieChildren() []int {
	lists, _ := filepath.Glob("/proc/self/task/*/children")
	var out []int
	for _, l := range lists {
		data, err := os.ReadFile(l)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(data)) {
			pid, err := strconv.Atoi(f)
			if err == nil && processState(pid) == 'Z' {
				out = append(out, pid)
			}
		}
	}
	return out
}

// processState is the state letter of /proc/PID/stat, 0 if unreadable.
func processState(pid int) byte {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// pid (comm) S ...: the command may hold spaces and parentheses.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return 0
	}
	return data[i+2]
}

// nestedPidNS says whether pid lives in a pid namespace below this
// process's: its NSpid line names more than one pid.
func nestedPidNS(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "NSpid:"); ok {
			return len(strings.Fields(rest)) > 1
		}
	}
	return false
}
