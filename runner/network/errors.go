package network

import "errors"

var (
	// ErrUnknownNetwork is returned by Open when no conflist has the name.
	ErrUnknownNetwork = errors.New("unknown CNI network")
	// ErrPluginMissing is returned by Open when a plugin binary is absent.
	ErrPluginMissing = errors.New("CNI plugin missing")
	// ErrPortInUse is returned by Attach when a hostPort is already taken.
	ErrPortInUse = errors.New("hostPort in use")
)
