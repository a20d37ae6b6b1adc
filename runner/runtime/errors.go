package runtime

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotExist matches an *Error whose runtime said that the container does
// not exist.
var ErrNotExist = errors.New("container does not exist")

// ErrNoRoot is returned when a CLI has no Root: podrun never runs a runtime
// on its default root, which other tools share.
var ErrNoRoot = errors.New("runtime root is not set")

// Error is a runtime invocation that failed: argv, exit status, stderr and
// the runtime's last logged error.
type Error struct {
	Args     []string // the whole argv, binary first
	ExitCode int      // -1 when the runtime did not exit normally
	Stderr   string   // captured stderr, when the verb does not hand it on
	Message  string   // the last error-level message of the runtime's log
	Err      error    // the underlying error (an *exec.ExitError, a context error)
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "running %s", strings.Join(e.Args, " "))
	if e.ExitCode >= 0 {
		fmt.Fprintf(&b, ": exit status %d", e.ExitCode)
	} else if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if msg := e.detail(); msg != "" {
		fmt.Fprintf(&b, ": %s", msg)
	}
	return b.String()
}

// detail is the most readable account of the failure the runtime gave.
func (e *Error) detail() string {
	if e.Message != "" {
		return e.Message
	}
	return strings.TrimSpace(e.Stderr)
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is ErrNotExist and the runtime said the
// container does not exist (runc: "container does not exist"; others:
// "container not found"). A failed create never matches: there "does not
// exist" would be about the bundle, not the container.
func (e *Error) Is(target error) bool {
	if target != ErrNotExist || e.verb() == "create" {
		return false
	}
	msg := strings.ToLower(e.Message + "\n" + e.Stderr)
	return strings.Contains(msg, "does not exist") || strings.Contains(msg, "container not found")
}

// verb is the runtime verb of Args, after the global flags.
func (e *Error) verb() string {
	for i := 1; i < len(e.Args); i++ {
		a := e.Args[i]
		if !strings.HasPrefix(a, "-") {
			return a
		}
		if !strings.Contains(a, "=") && globalFlagTakesValue[a] {
			i++
		}
	}
	return ""
}

var globalFlagTakesValue = map[string]bool{"--root": true, "--log": true, "--log-format": true}

// IgnoreNotExist returns nil when err says the container does not exist,
// and err otherwise: deleting or killing what is gone is success.
func IgnoreNotExist(err error) error {
	if errors.Is(err, ErrNotExist) {
		return nil
	}
	return err
}
