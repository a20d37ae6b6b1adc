package supervise

import "errors"

var (
	// ErrNotFound means a workload has no directory or no object.json:
	// it was never applied, or it has been deleted.
	ErrNotFound = errors.New("workload not found")
	// ErrNotOwned is returned by Env.CreatePods for a pod that carries no
	// ownerReference to the workload or to an object it owns: delete
	// would never find it.
	ErrNotOwned = errors.New("pod not owned by the workload")
	// ErrSuperseded ends a supervisor whose record names another process,
	// or whose workload is being deleted.
	ErrSuperseded = errors.New("the workload's record names another supervisor")
)
