package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/podrun/podrun/runner/crilog"
	"github.com/podrun/podrun/runner/state"
)

// LogOptions tune Logs.
type LogOptions struct {
	Container string // required when the pod has more than one container
	Follow    bool   // keep printing until the container stops
	Previous  bool   // the log of the previous run of the container
	// AllContainers prints every container's log, init containers first;
	// with Follow, every container's at once, line by line as they come.
	AllContainers bool
	Tail          *int64        // only the last lines
	Since         time.Duration // only lines newer than this
	Timestamps    bool          // each line starts with its RFC 3339 time
	// Prefix starts each line with [pod/<pod>/<container>] and a space,
	// as kubectl logs --prefix.
	Prefix bool
}

// ErrContainerRequired is returned by Logs for a pod of several containers
// when none is named; the message lists them, as kubectl does.
var ErrContainerRequired = errors.New("a container name must be specified")

// Logs copies a container's log, as written, to w.
func (r *Runner) Logs(ctx context.Context, namespace, name string, opts LogOptions, w io.Writer) error {
	k, err := podKey(namespace, name, opts.Container)
	if err != nil {
		return err
	}
	st, err := r.pods.Pod(k).Read()
	if errors.Is(err, state.ErrNoState) {
		return fmt.Errorf("pod %s: %w", k, ErrPodNotFound)
	}
	if err != nil {
		return err
	}
	if !opts.AllContainers {
		c, err := pickContainer(st, opts.Container)
		if err != nil {
			return err
		}
		return r.prefixedLog(ctx, k, c, opts, w, nil)
	}
	if opts.Follow && !opts.Previous {
		return r.followAll(ctx, k, st.Containers, opts, w)
	}
	var errs []error
	for _, c := range st.Containers {
		if err := r.prefixedLog(ctx, k, c, opts, w, nil); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// followAll follows every container's log at once, as kubectl logs -f
// --all-containers: lines are written as they come, each whole, until
// every container has stopped or ctx ends.
func (r *Runner) followAll(ctx context.Context, k state.Key, containers []state.Container, opts LogOptions, w io.Writer) error {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs = make([]error, len(containers))
	)
	for i, c := range containers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = r.prefixedLog(ctx, k, c, opts, w, &mu)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// prefixedLog is containerLog through a lineWriter when lines need a
// prefix or share w with other containers (mu not nil); else straight.
func (r *Runner) prefixedLog(ctx context.Context, k state.Key, c state.Container, opts LogOptions, w io.Writer, mu *sync.Mutex) error {
	if !opts.Prefix && mu == nil {
		return r.containerLog(ctx, k, c, opts, w)
	}
	if mu == nil {
		mu = new(sync.Mutex)
	}
	lw := &lineWriter{mu: mu, w: w}
	if opts.Prefix {
		lw.prefix = []byte(fmt.Sprintf("[pod/%s/%s] ", k.Name(), c.Name))
	}
	return errors.Join(r.containerLog(ctx, k, c, opts, lw), lw.Close())
}

// containerLog copies the log of one container's current or previous run.
func (r *Runner) containerLog(ctx context.Context, k state.Key, c state.Container, opts LogOptions, w io.Writer) error {
	path, err := r.logPath(k, c, opts.Previous)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("reading the log of container %q: %w", c.Name, err)
	}
	defer f.Close()
	var src io.Reader = f
	if opts.Follow && !opts.Previous {
		src = &follower{ctx: ctx, f: f, running: func() bool { return r.running(k, c.Name, path) }}
	}
	copts := crilog.CopyOptions{Timestamps: opts.Timestamps, TailLines: opts.Tail}
	if opts.Since > 0 {
		copts.Since = time.Now().Add(-opts.Since)
	}
	return crilog.Copy(w, src, copts)
}

func pickContainer(st *state.Pod, name string) (state.Container, error) {
	var names []string
	for _, c := range st.Containers {
		if c.Name == name || (name == "" && len(st.Containers) == 1) {
			return c, nil
		}
		names = append(names, c.Name)
	}
	if name == "" {
		return state.Container{}, fmt.Errorf("%w for pod %s, choose one of: [%s]", ErrContainerRequired, st.Name, strings.Join(names, " "))
	}
	return state.Container{}, fmt.Errorf("container %s is not valid for pod %s, choose one of: [%s]", name, st.Name, strings.Join(names, " "))
}

// logPath finds the log of the current run or, with previous, the one before.
func (r *Runner) logPath(k state.Key, c state.Container, previous bool) (string, error) {
	dir := r.layout(k).Logs(c.Name)
	runs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	sort.Slice(runs, func(i, j int) bool { return logNumber(runs[i]) < logNumber(runs[j]) })
	switch {
	case previous && len(runs) < 2:
		return "", fmt.Errorf("previous terminated container %q in pod %q not found", c.Name, k.Name())
	case previous:
		return runs[len(runs)-2], nil
	case len(runs) == 0:
		return "", fmt.Errorf("container %q in pod %q is waiting to start: %s", c.Name, k.Name(), c.Reason)
	default:
		return runs[len(runs)-1], nil
	}
}

func logNumber(path string) int {
	n, _ := strconv.Atoi(strings.TrimSuffix(filepath.Base(path), ".log"))
	return n
}

// running reports whether the run of container that writes the log at
// path still runs: a restarted container writes a new file.
func (r *Runner) running(k state.Key, container, path string) bool {
	st, err := r.pods.Pod(k).Read()
	if err != nil {
		return false
	}
	c := st.Container(container)
	return c != nil && c.State == state.Running && c.Pid.Alive() && c.LogPath == path
}

// follower reads a growing file until the container stops and the file
// has been read to its end, like tail -f.
type follower struct {
	ctx     context.Context
	f       *os.File
	running func() bool
}

func (fl *follower) Read(p []byte) (int, error) {
	for {
		n, err := fl.f.Read(p)
		if n > 0 || (err != nil && err != io.EOF) {
			return n, err
		}
		if !fl.running() {
			// One more read: the last lines may have landed meanwhile.
			return fl.f.Read(p)
		}
		select {
		case <-fl.ctx.Done():
			return 0, io.EOF
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// lineWriter writes whole lines, each with a prefix, to a writer it may
// share with others: one Write under mu per batch of lines, so lines of
// different containers never mix. Close ends a last line left without
// its newline.
type lineWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix []byte
	buf    []byte // the start of a line not yet ended
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	end := bytes.LastIndexByte(l.buf, '\n') + 1
	if end == 0 {
		return len(p), nil
	}
	err := l.emit(l.buf[:end])
	l.buf = l.buf[:copy(l.buf, l.buf[end:])]
	return len(p), err
}

func (l *lineWriter) Close() error {
	if len(l.buf) == 0 {
		return nil
	}
	err := l.emit(append(l.buf, '\n'))
	l.buf = l.buf[:0]
	return err
}

// emit writes lines, each ended with a newline, prefixed.
func (l *lineWriter) emit(lines []byte) error {
	out := make([]byte, 0, len(lines)+len(l.prefix)*bytes.Count(lines, []byte{'\n'}))
	for line := range bytes.Lines(lines) {
		out = append(append(out, l.prefix...), line...)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.w.Write(out); err != nil {
		return fmt.Errorf("writing log: %w", err)
	}
	return nil
}
