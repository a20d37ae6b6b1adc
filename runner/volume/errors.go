package volume

import "errors"

// Errors callers may match with errors.Is.
var (
	// ErrNotFound: a ConfigMap, Secret or PersistentVolumeClaim a pod
	// names does not exist.
	ErrNotFound = errors.New("not found")
	// ErrEscape: a path would resolve outside its volume.
	ErrEscape = errors.New("path escapes the volume")
	// ErrHostPathType: a hostPath is not of the type the manifest says.
	ErrHostPathType = errors.New("hostPath type check failed")
	// ErrUnsafeHostPath: a hostPath names / or podrun's own state.
	ErrUnsafeHostPath = errors.New("hostPath refused")
	// ErrInUse: a named volume is mounted by a pod.
	ErrInUse = errors.New("volume in use")
	// ErrNotSupported: a volume source podrun cannot provide.
	ErrNotSupported = errors.New("not supported")
)
