package runtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Cmder makes the commands the CLI runs; tests inject one that records.
type Cmder func(ctx context.Context, name string, args ...string) *exec.Cmd

// CLI is one OCI runtime binary with its global flags.
type CLI struct {
	Binary string // "runc", "crun" or a path
	Root   string // the runtime's --root: podrun's own, under the run root
	// Log is the runtime's --log file, appended to by every invocation and
	// kept. Empty: each invocation logs to a temporary file that is
	// removed when it returns. Invocations that share a Log at the same
	// time may see each other's messages in Error.Message.
	Log   string
	Cmder Cmder // nil: exec.CommandContext
}

// IO is the standard streams of a process that the runtime waits for
// (Exec). Any reader or writer will do.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Stdio is the standard streams of a detached container (Create). They are
// files, passed to the runtime and from it to the container as they are:
// see the package documentation for why nothing else will do. A nil field
// is /dev/null.
type Stdio struct {
	Stdin, Stdout, Stderr *os.File
}

// State is what the runtime's "state" and "list" verbs report.
type State struct {
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"` // "created", "running", "stopped", "paused"
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs,omitempty"`
	Created     time.Time         `json:"created,omitzero"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Statuses the runtime reports.
const (
	StatusCreated = "created"
	StatusRunning = "running"
	StatusStopped = "stopped"
	StatusPaused  = "paused"
)

// invocation is one run of the runtime, as built by CLI.command.
type invocation struct {
	cmd     *exec.Cmd
	logPath string
	offset  int64 // where this invocation's messages start in logPath
	cleanup func()
}

// command builds the runtime command for verb args, with the global flags.
func (r *CLI) command(ctx context.Context, args []string) (*invocation, error) {
	if r.Root == "" {
		return nil, ErrNoRoot
	}
	inv := &invocation{cleanup: func() {}}
	if r.Log != "" {
		inv.logPath = r.Log
		if fi, err := os.Stat(r.Log); err == nil {
			inv.offset = fi.Size()
		}
	} else {
		f, err := os.CreateTemp("", "podrun-runtime-*.log")
		if err != nil {
			return nil, fmt.Errorf("creating runtime log: %w", err)
		}
		f.Close()
		inv.logPath = f.Name()
		inv.cleanup = func() { os.Remove(f.Name()) }
	}
	argv := append(r.globalArgs(inv.logPath), args...)
	cmder := r.Cmder
	if cmder == nil {
		cmder = exec.CommandContext
	}
	inv.cmd = cmder(ctx, r.binary(), argv...)
	return inv, nil
}

func (r *CLI) binary() string {
	if r.Binary == "" {
		return "runc"
	}
	return r.Binary
}

// globalArgs are the flags that come before every verb.
func (r *CLI) globalArgs(logPath string) []string {
	return []string{"--root", r.Root, "--log", logPath, "--log-format", "json"}
}

// run runs inv and turns a failure into *Error. Unless the caller set
// them, stdout is returned and stderr is captured for the error.
func (inv *invocation) run() ([]byte, error) {
	defer inv.cleanup()
	var stdout, stderr bytes.Buffer
	if inv.cmd.Stdout == nil {
		inv.cmd.Stdout = &stdout
	}
	if inv.cmd.Stderr == nil {
		inv.cmd.Stderr = &stderr
	}
	err := inv.cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	return stdout.Bytes(), inv.failure(err, stderr.String())
}

// failure is the *Error for an invocation that ended with err.
func (inv *invocation) failure(err error, stderr string) *Error {
	e := &Error{Args: inv.cmd.Args, ExitCode: -1, Stderr: stderr, Err: err}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		e.ExitCode = exit.ExitCode()
	}
	e.Message = lastError(inv.logPath, inv.offset)
	return e
}

// lastError is the message of the last error-level entry of the runtime's
// JSON log from offset on; "" when there is none or the log is unreadable.
func lastError(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	return lastErrorIn(f)
}

func lastErrorIn(r io.Reader) string {
	var msg string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var entry struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if json.Unmarshal(sc.Bytes(), &entry) != nil {
			continue
		}
		if entry.Level == "error" || entry.Level == "fatal" || entry.Level == "panic" {
			msg = entry.Msg
		}
	}
	return msg
}

// do runs a verb whose stdio the runtime does not hand on.
func (r *CLI) do(ctx context.Context, args []string) ([]byte, error) {
	inv, err := r.command(ctx, args)
	if err != nil {
		return nil, err
	}
	return inv.run()
}

// Create creates container id from the bundle directory, its process
// waiting to be started, with opts.Stdio as its standard streams. It
// returns when the runtime exits; the container keeps the files.
func (r *CLI) Create(ctx context.Context, id, bundle string, opts CreateOpts) error {
	inv, err := r.command(ctx, opts.args(id, bundle))
	if err != nil {
		return err
	}
	// Only non-nil files are set: a nil interface is what makes os/exec
	// open /dev/null, and a file is what makes it hand the fd on as it is.
	if f := opts.Stdio.Stdin; f != nil {
		inv.cmd.Stdin = f
	}
	if f := opts.Stdio.Stdout; f != nil {
		inv.cmd.Stdout = f
	}
	if f := opts.Stdio.Stderr; f != nil {
		inv.cmd.Stderr = f
	}
	inv.cmd.ExtraFiles = opts.ExtraFiles
	defer inv.cleanup()
	if err := inv.cmd.Run(); err != nil {
		return fmt.Errorf("creating container %s: %w", id, inv.failure(err, ""))
	}
	return nil
}

// Start starts the process of created container id.
func (r *CLI) Start(ctx context.Context, id string) error {
	if _, err := r.do(ctx, startOpts{}.args(id)); err != nil {
		return fmt.Errorf("starting container %s: %w", id, err)
	}
	return nil
}

// Kill sends sig to the init process of container id, or with all to
// every process in it.
func (r *CLI) Kill(ctx context.Context, id string, sig syscall.Signal, all bool) error {
	if _, err := r.do(ctx, killOpts{All: all}.args(id, sig)); err != nil {
		return fmt.Errorf("signalling container %s with %v: %w", id, sig, err)
	}
	return nil
}

// Delete deletes container id; with force, a running one is killed first.
// A container that does not exist is an error matching ErrNotExist.
func (r *CLI) Delete(ctx context.Context, id string, force bool) error {
	if _, err := r.do(ctx, deleteOpts{Force: force}.args(id)); err != nil {
		return fmt.Errorf("deleting container %s: %w", id, err)
	}
	return nil
}

// State reports the state of container id.
func (r *CLI) State(ctx context.Context, id string) (*State, error) {
	out, err := r.do(ctx, stateOpts{}.args(id))
	if err != nil {
		return nil, fmt.Errorf("getting state of container %s: %w", id, err)
	}
	var s State
	if err := json.Unmarshal(out, &s); err != nil {
		return nil, fmt.Errorf("decoding state of container %s: %w", id, err)
	}
	return &s, nil
}

// List reports every container under the CLI's root. A root that does not
// exist yet holds no containers.
func (r *CLI) List(ctx context.Context) ([]State, error) {
	if r.Root != "" {
		if _, err := os.Stat(r.Root); errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
	}
	out, err := r.do(ctx, listOpts{}.args())
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	var list []State
	if err := json.Unmarshal(out, &list); err != nil { // runc prints null for none
		return nil, fmt.Errorf("decoding container list: %w", err)
	}
	return list, nil
}

// Ps reports the host pids of the processes in container id.
func (r *CLI) Ps(ctx context.Context, id string) ([]int, error) {
	out, err := r.do(ctx, psOpts{}.args(id))
	if err != nil {
		return nil, fmt.Errorf("listing processes of container %s: %w", id, err)
	}
	var pids []int
	if err := json.Unmarshal(out, &pids); err != nil {
		return nil, fmt.Errorf("decoding processes of container %s: %w", id, err)
	}
	return pids, nil
}

// Exec runs a process in running container id and waits for it. It
// returns the process's exit status (128+n when signal n killed it); err
// is the runtime failing to run the process, as told by an error in its
// log. A process that leaves children holding opts.IO's pipes keeps Exec
// waiting until they exit or ctx is done.
func (r *CLI) Exec(ctx context.Context, id string, opts ExecOpts) (int, error) {
	if len(opts.Args) == 0 {
		return -1, fmt.Errorf("executing in container %s: no command", id)
	}
	inv, err := r.command(ctx, opts.args(id))
	if err != nil {
		return -1, err
	}
	defer inv.cleanup()
	inv.cmd.Stdin = opts.IO.Stdin
	inv.cmd.Stdout = opts.IO.Stdout
	inv.cmd.Stderr = opts.IO.Stderr
	err = inv.cmd.Run()
	if err == nil {
		return 0, nil
	}
	e := inv.failure(err, "")
	if e.ExitCode < 0 || e.Message != "" || ctx.Err() != nil {
		return -1, fmt.Errorf("executing in container %s: %w", id, e)
	}
	return e.ExitCode, nil
}
