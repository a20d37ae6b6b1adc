// Package runtime drives an OCI runtime (runc, crun) as a command-line
// program, the way containerd's go-runc does. It never imports libcontainer.
package runtime

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"syscall"
)

// Cmder makes the commands the CLI runs; tests inject one that records.
type Cmder func(ctx context.Context, name string, args ...string) *exec.Cmd

// CLI is one OCI runtime binary with its global flags.
type CLI struct {
	Binary string // "runc", "crun" or a path
	Root   string // the runtime's --root: podrun's own, under the run root
	Cmder  Cmder  // nil: exec.CommandContext
}

// IO is the standard streams handed to a container's process.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// CreateOpts are the options of Create.
type CreateOpts struct {
	PidFile string
	IO      IO
	// ExtraFiles are inherited by the container's init, as fds 3 and up.
	ExtraFiles []*osFile
}

type osFile = interface{ Fd() uintptr }

// State is what the runtime's "state" verb reports.
type State struct {
	ID     string `json:"id"`
	Pid    int    `json:"pid"`
	Status string `json:"status"` // "created", "running", "stopped", "paused"
	Bundle string `json:"bundle"`
}

// Error is a runtime invocation that failed: argv, exit status and stderr.
type Error struct {
	Args     []string
	ExitCode int
	Stderr   string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%v: exit status %d: %s", e.Args, e.ExitCode, e.Stderr)
}

func (r *CLI) Create(ctx context.Context, id, bundle string, opts CreateOpts) error {
	return fmt.Errorf("not implemented")
}
func (r *CLI) Start(ctx context.Context, id string) error { return fmt.Errorf("not implemented") }
func (r *CLI) Kill(ctx context.Context, id string, sig syscall.Signal, all bool) error {
	return fmt.Errorf("not implemented")
}
func (r *CLI) Delete(ctx context.Context, id string, force bool) error {
	return fmt.Errorf("not implemented")
}
func (r *CLI) State(ctx context.Context, id string) (*State, error) {
	return nil, fmt.Errorf("not implemented")
}
func (r *CLI) List(ctx context.Context) ([]State, error) { return nil, fmt.Errorf("not implemented") }
