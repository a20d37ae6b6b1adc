package network

import (
	"errors"

	"github.com/podrun/podrun/translate"
)

var (
	// ErrUnknownNetwork is returned by Open when no conflist has the name.
	ErrUnknownNetwork = errors.New("unknown CNI network")
	// ErrPluginMissing is returned by Open when a plugin binary is absent.
	ErrPluginMissing = errors.New("CNI plugin missing")
	// ErrPortInUse is returned by Attach when a hostPort is already taken.
	ErrPortInUse = errors.New("hostPort in use")
)

// PortError is a problem with one of the pod's hostPorts, Port, so that
// the caller can say which of its fields asked for it.
type PortError struct {
	Port translate.Port
	Err  error
}

func (e *PortError) Error() string { return e.Err.Error() }
func (e *PortError) Unwrap() error { return e.Err }
