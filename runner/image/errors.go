package image

import (
	"context"
	"errors"
	"net"
	"syscall"
)

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

// Unreachable reports whether err, from Pull, says the registry could not
// be reached at all (its name did not resolve, the connection was refused
// or timed out, no route to it), as opposed to an answer from it (no such
// image, no access) or a pull cancelled.
func Unreachable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	if errors.As(err, &dnsErr) || errors.As(err, &opErr) {
		return true
	}
	for _, errno := range []syscall.Errno{syscall.ECONNREFUSED, syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ETIMEDOUT} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var netErr net.Error // *url.Error among them
	return errors.As(err, &netErr) && netErr.Timeout()
}
