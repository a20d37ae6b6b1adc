package image

import "errors"

var (
	// ErrNotFound is returned by Get and Remove for an image the store
	// does not hold.
	ErrNotFound = errors.New("image not found")
	// ErrNoName is returned by Load for an image without a full reference.
	ErrNoName = errors.New("image has no name")
	// ErrUnsafeLayer is returned by Load for a layer entry it refuses to
	// unpack (path traversal, link escapes, odd whiteouts, bad device
	// numbers, layers past the limits).
	ErrUnsafeLayer = errors.New("unsafe layer")
	// ErrTooLarge is returned for a manifest or config past the Limits.
	ErrTooLarge = errors.New("image metadata too large")
	// ErrUnknownFormat is returned by Load for a file that is neither a
	// docker-archive nor an OCI archive, nor a directory holding an OCI
	// layout.
	ErrUnknownFormat = errors.New("unknown image archive format")
)
