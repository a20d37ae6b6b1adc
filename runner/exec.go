package runner

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/podrun/podrun/runner/runtime"
	"github.com/podrun/podrun/runner/state"
)

// ExecOptions tune Exec.
type ExecOptions struct {
	Container string // default: the pod's first app container
	Args      []string
	Tty       bool
	Stdin     io.Reader
	Stdout    io.Writer
	Stderr    io.Writer
}

// Exec runs a command in a running container of pod namespace/name, as
// the container's user, with its environment and working directory, and
// returns its exit code.
func (r *Runner) Exec(ctx context.Context, namespace, name string, opts ExecOptions) (int, error) {
	k, err := podKey(namespace, name, opts.Container)
	if err != nil {
		return -1, err
	}
	st, err := r.pod(k).dir.Read()
	if errors.Is(err, state.ErrNoState) {
		return -1, fmt.Errorf("pod %s: %w", k, ErrPodNotFound)
	}
	if err != nil {
		return -1, err
	}
	if err := unassigned(st); err != nil {
		return -1, err
	}
	c, err := execContainer(st, opts.Container)
	if err != nil {
		return -1, err
	}
	if c.State != state.Running || !c.Pid.Alive() {
		return -1, fmt.Errorf("cannot exec in container %q of pod %s: it is not running", c.Name, name)
	}
	return r.runtime.Exec(ctx, c.ID, runtime.ExecOpts{
		Args: opts.Args,
		Tty:  opts.Tty,
		IO:   runtime.IO{Stdin: opts.Stdin, Stdout: opts.Stdout, Stderr: opts.Stderr},
	})
}

// podKey checks pod namespace/name and, if one is named, a container
// of it, as the API server would, and returns the pod's Key.
func podKey(namespace, name, container string) (state.Key, error) {
	k, err := state.PodKey(namespace, name)
	if err != nil {
		return state.Key{}, err
	}
	if container != "" {
		if err := state.CheckContainerName(container); err != nil {
			return state.Key{}, err
		}
	}
	return k, nil
}

// execContainer picks the named container, or the first app container.
func execContainer(st *state.Pod, name string) (state.Container, error) {
	if name != "" {
		if c := st.Container(name); c != nil {
			return *c, nil
		}
		return state.Container{}, fmt.Errorf("container %s is not valid for pod %s", name, st.Name)
	}
	for _, c := range st.Containers {
		if !c.Init {
			return c, nil
		}
	}
	return state.Container{}, fmt.Errorf("pod %s has no container", st.Name)
}
