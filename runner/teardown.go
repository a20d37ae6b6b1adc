package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/runner/mountinfo"
	"github.com/podrun/podrun/runner/network"
	"github.com/podrun/podrun/runner/runtime"
	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/translate"
)

// teardown removes every trace of pod h, in the reverse order
// of creation: monitor, containers, network, mounts, cgroups, files. It
// works from what is on disk and in the kernel, not only from the state
// file, so it also finishes pods whose creation was cut short. Each step is
// idempotent; teardown of a pod that is gone succeeds. The caller holds
// the pod's lock.
func (r *Runner) teardown(ctx context.Context, h podHandle) error {
	k, l, dir := h.key, h.layout, h.dir
	st, err := dir.Read()
	if err != nil && !errors.Is(err, state.ErrNoState) {
		r.cfg.Log.Warn("pod state unreadable; tearing down from what is on disk", "pod", k.Name(), "error", err)
	}
	if st == nil {
		st = &state.Pod{Namespace: k.Namespace(), Name: k.Name()}
	}
	var errs []error
	if st.Monitor.Pid > 0 {
		// The monitor's whole group: a runtime create it had under way
		// would otherwise go on and make a container after the listing
		// below.
		if err := st.Monitor.SignalGroup(unix.SIGKILL); err != nil && !errors.Is(err, state.ErrProcessGone) {
			errs = append(errs, fmt.Errorf("stopping the pod monitor: %w", err))
		}
	}
	errs = append(errs, r.deleteContainers(ctx, l))
	errs = append(errs, r.detachNetwork(ctx, st, l))
	errs = append(errs, unmountUnder(l.Dir))
	errs = append(errs, removeCgroups(st.UID))
	errs = append(errs, removePodDir(dir))
	return errors.Join(errs...)
}

// deleteContainers force-deletes every runtime container whose bundle lies
// in the pod's directory, whether or not the state file knows of it.
func (r *Runner) deleteContainers(ctx context.Context, l translate.Layout) error {
	list, err := r.listContainers(ctx)
	if err != nil {
		return fmt.Errorf("listing the runtime's containers: %w", err)
	}
	var errs []error
	for _, c := range list {
		if !mountinfo.Within(c.Bundle, l.Dir) {
			continue
		}
		if err := r.runtime.Delete(ctx, c.ID, true); err != nil && !errors.Is(err, runtime.ErrNotExist) {
			errs = append(errs, fmt.Errorf("deleting container %s: %w", c.ID, err))
		}
	}
	return errors.Join(errs...)
}

// listContainers lists the runtime's containers, trying again when the
// listing fails: runc list fails if a container it is reading is deleted
// meanwhile, as another pod's monitor does when it restarts a container.
func (r *Runner) listContainers(ctx context.Context) ([]runtime.State, error) {
	var err error
	for range 10 {
		var list []runtime.State
		if list, err = r.runtime.List(ctx); err == nil {
			return list, nil
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil, err
}

// detachNetwork runs CNI DEL for the pod and removes its network namespace.
func (r *Runner) detachNetwork(ctx context.Context, st *state.Pod, l translate.Layout) error {
	netns := l.Namespace("net")
	if st.Network != "" && st.UID != "" {
		cfg := r.cfg.Network
		cfg.Name = st.Network
		net, err := network.Open(cfg)
		if err != nil {
			return fmt.Errorf("opening network %q to detach the pod: %w", st.Network, err)
		}
		att := &network.Attachment{IP: st.PodIP, Result: st.CNIResult}
		if err := net.Detach(ctx, st.UID, netns, recordedPorts(st), att); err != nil {
			return fmt.Errorf("detaching the pod from network %q: %w", st.Network, err)
		}
	}
	if err := network.RemoveNS(netns); err != nil {
		return fmt.Errorf("removing the network namespace: %w", err)
	}
	return nil
}

// unmountUnder unmounts every mount point below dir, deepest first.
func unmountUnder(dir string) error {
	points, err := mountinfo.Under(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range points {
		if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && err != unix.EINVAL && err != unix.ENOENT {
			errs = append(errs, fmt.Errorf("unmounting %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

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

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// mountPodMount makes one of the plan's pod-level mounts.
func mountPodMount(m translate.Mount) error {
	if err := os.MkdirAll(m.Target, 0o755); err != nil {
		return err
	}
	src := m.Source
	if src == "" {
		src = m.Type
	}
	flags, data := mountOptions(m.Options)
	if err := unix.Mount(src, m.Target, m.Type, flags, data); err != nil {
		return fmt.Errorf("mounting %s on %s: %w", m.Type, m.Target, err)
	}
	return nil
}

// mountOptions splits fstab-style options into flags and data.
func mountOptions(opts []string) (uintptr, string) {
	known := map[string]uintptr{
		"nosuid": unix.MS_NOSUID, "nodev": unix.MS_NODEV, "noexec": unix.MS_NOEXEC,
		"ro": unix.MS_RDONLY, "relatime": unix.MS_RELATIME, "strictatime": unix.MS_STRICTATIME,
	}
	var flags uintptr
	var data []string
	for _, o := range opts {
		if f, ok := known[o]; ok {
			flags |= f
		} else {
			data = append(data, o)
		}
	}
	return flags, strings.Join(data, ",")
}
