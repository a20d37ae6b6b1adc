package runtime

import (
	"os"
	"strconv"
	"syscall"
)

// CreateOpts are the options of Create.
type CreateOpts struct {
	// PidFile is where the runtime writes the container's init pid.
	PidFile string
	// NoPivot uses MS_MOVE instead of pivot_root (needed when the rootfs
	// is on a ramdisk). runc and crun both have it.
	NoPivot bool
	// Stdio is the container's standard streams.
	Stdio Stdio
	// ExtraFiles are inherited by the container's init as fds 3 and up
	// (--preserve-fds).
	ExtraFiles []*os.File
	// ConsoleSocket is a unix socket to which the runtime sends the
	// master of the pseudo-terminal it makes for a container whose spec
	// sets process.terminal. Stdio is then not the container's.
	ConsoleSocket string
}

func (o CreateOpts) args(id, bundle string) []string {
	a := []string{"create", "--bundle", bundle}
	if o.PidFile != "" {
		a = append(a, "--pid-file", o.PidFile)
	}
	if o.NoPivot {
		a = append(a, "--no-pivot")
	}
	if o.ConsoleSocket != "" {
		a = append(a, "--console-socket", o.ConsoleSocket)
	}
	if n := len(o.ExtraFiles); n > 0 {
		a = append(a, "--preserve-fds", strconv.Itoa(n))
	}
	return append(a, id)
}

type startOpts struct{}

func (startOpts) args(id string) []string { return []string{"start", id} }

type killOpts struct{ All bool }

// args gives the signal as a number, which runc and crun both accept.
func (o killOpts) args(id string, sig syscall.Signal) []string {
	a := []string{"kill"}
	if o.All {
		a = append(a, "--all")
	}
	return append(a, id, strconv.Itoa(int(sig)))
}

type deleteOpts struct{ Force bool }

func (o deleteOpts) args(id string) []string {
	a := []string{"delete"}
	if o.Force {
		a = append(a, "--force")
	}
	return append(a, id)
}

type stateOpts struct{}

func (stateOpts) args(id string) []string { return []string{"state", id} }

type listOpts struct{}

func (listOpts) args() []string { return []string{"list", "--format", "json"} }

type psOpts struct{}

func (psOpts) args(id string) []string { return []string{"ps", "--format", "json", id} }

// ExecOpts are the options of Exec.
type ExecOpts struct {
	Args []string // the command and its arguments; required
	// Tty gives the process a terminal, which the runtime relays to its
	// own standard streams (set them to the caller's terminal).
	Tty  bool
	Env  []string // KEY=value, added to the container's environment
	Cwd  string   // working directory; empty: the container's
	User string   // uid[:gid]; empty: the container's
	// PidFile is where the runtime writes the process's pid.
	PidFile string
	IO      IO
}

func (o ExecOpts) args(id string) []string {
	a := []string{"exec"}
	if o.Tty {
		a = append(a, "--tty")
	}
	if o.Cwd != "" {
		a = append(a, "--cwd", o.Cwd)
	}
	for _, e := range o.Env {
		a = append(a, "--env", e)
	}
	if o.User != "" {
		a = append(a, "--user", o.User)
	}
	if o.PidFile != "" {
		a = append(a, "--pid-file", o.PidFile)
	}
	a = append(a, id)
	return append(a, o.Args...)
}
