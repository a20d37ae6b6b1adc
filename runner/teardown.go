package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/runner/mountinfo"
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

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
