package runner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// A pod's cgroups: removed at teardown, with whatever still runs in them.

// removeCgroups removes the pod's cgroup parent (translate puts containers
// under /podrun/<uid>/), in every hierarchy. The runtime removed the
// containers' own cgroups when it deleted them.
func removeCgroups(uid string) error {
	if uid == "" {
		return nil
	}
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/podrun/" + uid)
	if d := "/sys/fs/cgroup/podrun/" + uid; exists(d) {
		dirs = append(dirs, d)
	}
	var errs []error
	for _, d := range dirs {
		if err := removeCgroup(d); err != nil {
			errs = append(errs, fmt.Errorf("removing cgroup %s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}

// removeCgroup removes the cgroup directory d and its children. Every
// process still in them is the pod's (a container the runtime never
// finished creating, say) and is killed first. A cgroup whose last task
// has just exited can stay busy for a moment (cgroup v1 above all), so
// EBUSY is retried with back-off for about a second, as runc retries its
// own removals.
func removeCgroup(d string) error {
	delay := 10 * time.Millisecond
	for {
		children, _ := filepath.Glob(d + "/*/")
		for _, dir := range append(children, d) {
			killProcs(dir)
		}
		for _, c := range children {
			_ = unix.Rmdir(c)
		}
		err := unix.Rmdir(d)
		if err == nil || err == unix.ENOENT {
			return nil
		}
		if err != unix.EBUSY || delay > 640*time.Millisecond {
			return err
		}
		time.Sleep(delay)
		delay *= 2
	}
}

// killProcs sends SIGKILL to every process in the cgroup dir.
func killProcs(dir string) {
	data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return
	}
	for f := range strings.FieldsSeq(string(data)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
	}
}
