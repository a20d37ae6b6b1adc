package monitor

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/podrun/podrun/runner/crilog"
	"github.com/podrun/podrun/runner/state"
)

// logPipes carries one container's stdout and stderr into its CRI log.
type logPipes struct {
	path       string
	file       *os.File
	outW, errW *os.File
	copies     sync.WaitGroup
}

// openLog creates the container's log file (<restarts>.log, as the kubelet
// names them) and the pipes whose write ends the container inherits.
func (m *monitor) openLog(c state.Container) (*logPipes, error) {
	dir := m.cfg.Layout.Logs(c.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, fmt.Sprintf("%d.log", c.RestartCount))
	file, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("opening the log of container %q: %w", c.Name, err)
	}
	l := &logPipes{path: path, file: file}
	log := crilog.NewLog(file, time.Now) // one line at a time in the shared file
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
		l.copies.Add(1)
		go func() {
			defer l.copies.Done()
			defer r.Close()
			cw := log.Writer(stream)
			_, _ = io.Copy(cw, r)
			_ = cw.Close()
		}()
	}
	return l, nil
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
	l.wait()
}
