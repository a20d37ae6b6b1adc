package state

import "slices"

// Stage is how far a pod has come: apply records each stage once its step
// is done, delete records StageStopping as it begins. A pod's record is
// first written at StageCreated, so every record apply wrote has a stage.
type Stage string

// The stages, in the order a pod goes through them.
const (
	StageCreated  Stage = "created"  // recorded, with its sandbox plan; nothing made
	StagePending  Stage = "pending"  // not scheduled: this node cannot take it yet; nothing made
	StageWaiting  Stage = "waiting"  // waits for a claim, ConfigMap or Secret; nothing made
	StageNetwork  Stage = "network"  // network namespace pinned and CNI attached
	StageBundles  Stage = "bundles"  // root file systems, pod files, mounts and bundles made
	StageMonitor  Stage = "monitor"  // monitor started, creating the containers
	StageRunning  Stage = "running"  // the monitor reported every container started
	StageStopping Stage = "stopping" // delete has begun stopping the pod
)

var stages = []Stage{StageCreated, StagePending, StageWaiting, StageNetwork, StageBundles, StageMonitor, StageRunning, StageStopping}

// Before reports whether s comes before t. The empty stage of an old
// record comes before none and after none.
func (s Stage) Before(t Stage) bool {
	i, j := slices.Index(stages, s), slices.Index(stages, t)
	return i >= 0 && j >= 0 && i < j
}
