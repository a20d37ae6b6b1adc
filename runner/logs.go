package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

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
	// Lifetime, with Follow and AllContainers, follows the pod's life
	// rather than its containers' current runs: every run of every
	// container, oldest kept first, waiting for those not begun yet (a
	// container after its init containers, a restart, a pod waiting for
	// a ConfigMap), until the pod has finished (Succeeded, Failed, or its
	// monitor lost) and every log has been read, or the pod is gone, or
	// ctx ends. It is what `podrun up` shows.
	Lifetime bool
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
	st, err := r.pod(k).dir.Read()
	if errors.Is(err, state.ErrNoState) {
		return fmt.Errorf("pod %s: %w", k, ErrPodNotFound)
	}
	if err != nil {
		return err
	}
	if err := unassigned(st); err != nil {
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
// every container has stopped or ctx ends; with opts.Lifetime, through
// all their runs (followRuns).
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
			if opts.Lifetime {
				errs[i] = r.followRuns(ctx, k, c.Name, opts, w, &mu)
			} else {
				errs[i] = r.prefixedLog(ctx, k, c, opts, w, &mu)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// prefixedLog is prefixedRun for the container's current or previous run.
func (r *Runner) prefixedLog(ctx context.Context, k state.Key, c state.Container, opts LogOptions, w io.Writer, mu *sync.Mutex) error {
	path, err := r.logPath(k, c, opts.Previous)
	if err != nil {
		return err
	}
	return r.prefixedRun(ctx, k, c.Name, path, opts, w, mu)
}

// prefixedRun is copyRun through a lineWriter when lines need a prefix or
// share w with other containers (mu not nil); else straight.
func (r *Runner) prefixedRun(ctx context.Context, k state.Key, container, path string, opts LogOptions, w io.Writer, mu *sync.Mutex) error {
	if !opts.Prefix && mu == nil {
		return r.copyRun(ctx, k, container, path, opts, w)
	}
	if mu == nil {
		mu = new(sync.Mutex)
	}
	lw := &lineWriter{mu: mu, w: w}
	if opts.Prefix {
		lw.prefix = []byte(fmt.Sprintf("[pod/%s/%s] ", k.Name(), container))
	}
	return errors.Join(r.copyRun(ctx, k, container, path, opts, lw), lw.Close())
}

// copyRun copies the log of one run of a container, the file at path;
// with opts.Follow, until that run has ended.
func (r *Runner) copyRun(ctx context.Context, k state.Key, container, path string, opts LogOptions, w io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("reading the log of container %q: %w", container, err)
	}
	defer f.Close()
	var src io.Reader = f
	if opts.Follow && !opts.Previous {
		src = &follower{ctx: ctx, f: f, running: func() bool { return r.running(k, container, path) }}
	}
	copts := crilog.CopyOptions{Timestamps: opts.Timestamps, TailLines: opts.Tail}
	if opts.Since > 0 {
		copts.Since = time.Now().Add(-opts.Since)
	}
	return crilog.Copy(w, src, copts)
}

// followPeriod is how often a follower looks for more: lines, a new run,
// the end of the pod.
const followPeriod = 200 * time.Millisecond

// followRuns follows every run of a container, oldest kept first, each
// to its end, and waits for the next, until the pod's life is over and
// the last run has been read, or ctx ends.
func (r *Runner) followRuns(ctx context.Context, k state.Key, container string, opts LogOptions, w io.Writer, mu *sync.Mutex) error {
	next := 0
	for {
		// Asked before looking for runs: once it is over, no run begins.
		over := r.lifeOver(ctx, k)
		if path, n := r.runFrom(k, container, next); path != "" {
			err := r.prefixedRun(ctx, k, container, path, opts, w, mu)
			if err != nil && !errors.Is(err, fs.ErrNotExist) { // a log removed with its pod
				return err
			}
			next = n + 1
			continue
		}
		if over {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(followPeriod):
		}
	}
}

// runFrom finds the log of the container's earliest run numbered from
// next on, if it has begun; n is its number.
func (r *Runner) runFrom(k state.Key, container string, next int) (path string, n int) {
	runs, _ := filepath.Glob(filepath.Join(r.pod(k).layout.Logs(container), "*.log"))
	for _, run := range runs {
		if m := logNumber(run); m >= next && (path == "" || m < n) {
			path, n = run, m
		}
	}
	return path, n
}

// lifeOver reports whether no container of pod k will run again: the pod
// has finished, its monitor is lost, or it is gone.
func (r *Runner) lifeOver(ctx context.Context, k state.Key) bool {
	st, err := r.pod(k).dir.Read()
	if errors.Is(err, state.ErrNoState) {
		return r.gone(ctx, k)
	}
	if err != nil {
		return false
	}
	pod, err := podStatus(st)
	if err != nil {
		return false
	}
	switch pod.Status.Phase {
	case corev1.PodSucceeded, corev1.PodFailed, corev1.PodUnknown:
		return true
	}
	return false
}

// gone reports whether pod k is gone. A pod that apply starts afresh (one
// that waited for a ConfigMap, say) is missing from disk for a moment,
// under its lock: asked again under the lock, it is there.
func (r *Runner) gone(ctx context.Context, k state.Key) bool {
	unlock, err := r.pod(k).lock(ctx)
	if err != nil {
		return false
	}
	defer unlock()
	_, err = r.pod(k).dir.Read()
	return errors.Is(err, state.ErrNoState)
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
	dir := r.pod(k).layout.Logs(c.Name)
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
// path may still write to it: its monitor lives and has not recorded the
// run's end. A run's log is made before the run is recorded as started,
// and the monitor writes a run's last lines before it records the exit;
// a restarted container writes a new file.
func (r *Runner) running(k state.Key, container, path string) bool {
	st, err := r.pod(k).dir.Read()
	if err != nil || !st.Monitor.Alive() {
		return false
	}
	c := st.Container(container)
	switch {
	case c == nil:
		return false
	case c.LogPath == path:
		return c.State == state.Running
	case c.LogPath != "" && logNumber(c.LogPath) > logNumber(path):
		return false // a later run has begun
	default: // not recorded as started yet, unless it failed to start
		return c.State != state.Terminated || c.RestartCount < logNumber(path)
	}
}

// follower reads a growing file until the container stops, or ctx ends,
// and the file has been read to its end, like tail -f.
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
			return fl.f.Read(p) // what is there, to the end
		case <-time.After(followPeriod):
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
