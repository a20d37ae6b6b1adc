package translate

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Errors that callers may match with errors.Is. Every error Pod returns
// also names the container and the field path it is about.
var (
	// ErrNotSupported marks a field podrun does not translate yet.
	ErrNotSupported = errors.New("not supported yet")
	// ErrNoCommand: neither the container nor its image says what to run.
	ErrNoCommand = errors.New("no command specified")
	// ErrUnknownUser: a user name is not in the container's /etc/passwd.
	ErrUnknownUser = errors.New("no such user")
	// ErrUnknownGroup: a group name is not in the container's /etc/group.
	ErrUnknownGroup = errors.New("no such group")
	// ErrUnknownCapability: a capability no runtime knows.
	ErrUnknownCapability = errors.New("unknown capability")
	// ErrMissingImage: Input.Images has no config for a container.
	ErrMissingImage = errors.New("no image config")
	// ErrControlCharacter: a value bound for a generated file (/etc/hosts,
	// /etc/hostname, /etc/resolv.conf) or the pod's hostname holds a
	// control character, such as a newline that would add a line.
	ErrControlCharacter = errors.New("has a control character")
	// ErrAppArmor: a container asks for an AppArmor profile on a machine
	// where AppArmor is not enabled.
	ErrAppArmor = errors.New("AppArmor is not enabled on this machine")
)

// FieldError is a problem with one field of the pod: Field is its path
// as field.Path prints it (spec.containers[0].image), by which the runner
// finds the field's line in the manifest. Its text is "FIELD: ERR".
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// fieldErrorf returns a FieldError about the field at p.
func fieldErrorf(p *field.Path, format string, args ...any) error {
	return &FieldError{Field: p.String(), Err: fmt.Errorf(format, args...)}
}
