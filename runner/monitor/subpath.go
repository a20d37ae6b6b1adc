package monitor

import (
	"fmt"
	"time"

	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/runner/volume"
)

// rebindSubPaths resolves the container's subPaths again before a
// restart, as the kubelet does before each container start: pinned by
// descriptor beneath the volume, so a symlink an earlier run left in the
// volume is refused, not followed.
func (c *ctr) rebindSubPaths() error {
	rec := c.m.record(c.name)
	if rec == nil {
		return nil
	}
	for _, sp := range rec.SubPaths {
		if err := volume.RebindSubPath(sp.Source, sp.Path, sp.Staging); err != nil {
			return fmt.Errorf("failed to prepare subPath for volumeMount %q of container %q: %w", sp.Volume, c.name, err)
		}
	}
	return nil
}

// configFailed records the container waiting with
// CreateContainerConfigError, as the kubelet does when it cannot make a
// container's configuration; the supervisor tries again after the
// back-off.
func (c *ctr) configFailed(err error) {
	c.m.cfg.Log.Error("preparing container", "container", c.name, "error", err)
	c.configErr = true
	now := time.Now()
	c.m.update(func(s *state.Pod) {
		if r := s.Container(c.name); r != nil {
			if r.State == state.Terminated { // the run before, kept as the last state
				r.LastState = &state.Exit{ExitCode: r.ExitCode, Signal: r.Signal, Reason: r.Reason, Message: r.Message, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt}
			}
			r.State, r.Reason, r.Message = state.Waiting, reasonConfigError, err.Error()
			r.Pid, r.Ready, r.Started = state.Process{}, false, false
			s.AddEvent(now, "Warning", "Failed", c.object(), "Error: "+err.Error())
		}
	})
}
