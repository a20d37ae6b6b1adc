package state

import "errors"

var (
	// ErrProcessGone means a recorded process has exited, or its pid now
	// belongs to another process.
	ErrProcessGone = errors.New("process is gone")
	// ErrNoState means a pod directory has no state file: the pod does not
	// exist, or its creation was interrupted before the first write.
	ErrNoState = errors.New("pod has no state file")
	// ErrExists is returned by PodDir.Create when the pod already has a
	// state file.
	ErrExists = errors.New("pod already exists")
)
