package monitor

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/podrun/podrun/runner/crilog"
)

// Log rotation, as the kubelet's containerLogMaxSize and
// containerLogMaxFiles: a run's log that grows past MaxLogSize is renamed
// <restarts>.log.<n> and a new one begun; at most MaxLogFiles files are
// kept per run.
const (
	MaxLogSize  = 10 << 20
	MaxLogFiles = 5
)

// logPipes carries one container's stdout and stderr into its CRI log:
// two pipes, or for a container with a terminal the terminal's master,
// logged as stdout.
type logPipes struct {
	path       string
	file       *rotatingFile
	log        *crilog.Log
	outW, errW *os.File
	tty        bool
	master     *os.File // a tty container's terminal, once the runtime sent it
	copies     sync.WaitGroup
}

// openLog creates the log file of a container's run (<restarts>.log, as
// the kubelet names them) and the pipes whose write ends the container
// inherits; a container with a terminal gets no pipes (attachTerminal).
func (m *monitor) openLog(name string, restarts int) (*logPipes, error) {
	dir := m.cfg.Layout.Logs(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, fmt.Sprintf("%d.log", restarts))
	file, err := openRotating(path, MaxLogSize, MaxLogFiles)
	if err != nil {
		return nil, fmt.Errorf("opening the log of container %q: %w", name, err)
	}
	// One line at a time in the shared file.
	l := &logPipes{path: path, file: file, log: crilog.NewLog(file, time.Now), tty: m.wantsTTY(name)}
	if l.tty {
		return l, nil
	}
	for _, stream := range []string{"stdout", "stderr"} {
		r, w, err := os.Pipe()
		if err != nil {
			l.abandon()
			return nil, err
		}
		if stream == "stdout" {
			l.outW = w
		} else {
			l.errW = w
		}
		l.copy(stream, r)
	}
	return l, nil
}

// copy copies r into the log as stream until r ends, then closes r.
func (l *logPipes) copy(stream string, r io.ReadCloser) {
	l.copies.Add(1)
	go func() {
		defer l.copies.Done()
		defer r.Close()
		cw := l.log.Writer(stream)
		_, _ = io.Copy(cw, r)
		_ = cw.Close()
	}()
}

// attachTerminal logs what a tty container writes to its terminal, as
// stdout (the kubelet's runtimes log a terminal so), until the container
// and every process holding the terminal have exited. The master stays
// open until then.
func (l *logPipes) attachTerminal(master *os.File) {
	l.master = master
	l.copy("stdout", terminalReader(master))
}

// closeWriters closes this process's copies of the write ends, once the
// container holds its own.
func (l *logPipes) closeWriters() {
	for _, w := range []**os.File{&l.outW, &l.errW} {
		if *w != nil {
			_ = (*w).Close()
			*w = nil
		}
	}
}

// wait waits until both streams are drained, then closes the file.
func (l *logPipes) wait() {
	l.copies.Wait()
	_ = l.file.Close()
}

// abandon gives up on a container that never started.
func (l *logPipes) abandon() {
	l.closeWriters()
	if l.master != nil {
		_ = l.master.Close() // the container's init still holds the terminal
	}
	l.wait()
}

// rotatingFile is an append-only file that, before a write would take it
// past max bytes, is renamed to path.<n> and begun again; the oldest
// renamed files beyond files-1 are removed. Writes are whole CRI lines,
// so no line is split across files.
type rotatingFile struct {
	mu    sync.Mutex
	path  string
	max   int64
	files int
	f     *os.File
	size  int64
	n     int // the number of the next renamed file
}

func openRotating(path string, max int64, files int) (*rotatingFile, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &rotatingFile{path: path, max: max, files: files, f: f, size: fi.Size(), n: len(rotated(path)) + 1}, nil
}

func (r *rotatingFile) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.size > 0 && r.size+int64(len(p)) > r.max {
		if err := r.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := r.f.Write(p)
	r.size += int64(n)
	return n, err
}

func (r *rotatingFile) rotate() error {
	if err := r.f.Close(); err != nil {
		return err
	}
	if err := os.Rename(r.path, fmt.Sprintf("%s.%d", r.path, r.n)); err != nil {
		return err
	}
	r.n++
	old := rotated(r.path)
	for len(old) > r.files-1 {
		_ = os.Remove(old[0])
		old = old[1:]
	}
	f, err := os.OpenFile(r.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	r.f, r.size = f, 0
	return nil
}

func (r *rotatingFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.f.Close()
}

// rotated lists the renamed files of path, oldest first.
func rotated(path string) []string {
	names, _ := filepath.Glob(path + ".*")
	sort.Slice(names, func(i, j int) bool { return suffix(names[i]) < suffix(names[j]) })
	return names
}

func suffix(name string) int {
	var n int
	_, _ = fmt.Sscanf(filepath.Ext(name), ".%d", &n)
	return n
}
