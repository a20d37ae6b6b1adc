package monitor

import "github.com/podrun/podrun/runner/state"

// reasonConfigError is the waiting reason the runner records for a
// container whose configuration cannot be made: a missing ConfigMap,
// Secret or key, runAsNonRoot refused, an invalid subPath.
const reasonConfigError = "CreateContainerConfigError"

// configBlocked reports whether a container waits with
// CreateContainerConfigError. The monitor never starts it, as the kubelet
// never creates it; the pod's other containers run, and an init
// container so blocked keeps the app containers from starting.
func configBlocked(rec *state.Container) bool {
	return rec != nil && rec.State == state.Waiting && rec.Reason == reasonConfigError
}
