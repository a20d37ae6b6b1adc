package crilog

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Streams.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

// Tags of a log line.
const (
	TagFull    = "F"
	TagPartial = "P"
)

// MaxLine is the longest content of one log line, containerd's default;
// longer lines are cut into P chunks.
const MaxLine = 16 * 1024

// Log is one log file that Writers for several streams share.
type Log struct {
	mu      sync.Mutex
	w       io.Writer
	now     func() time.Time
	line    []byte // reused, under mu
	maxLine int
}

// NewLog returns a Log writing to w, stamping lines with now (nil:
// time.Now).
func NewLog(w io.Writer, now func() time.Time) *Log {
	if now == nil {
		now = time.Now
	}
	return &Log{w: w, now: now, maxLine: MaxLine}
}

// Writer returns a writer of stream ("stdout" or "stderr") into l. Close
// it to flush a last line without a newline; Close does not close the
// Log's underlying writer. One Writer is for one goroutine at a time.
func (l *Log) Writer(stream string) io.WriteCloser {
	return &writer{log: l, stream: stream}
}

// NewWriter returns a writer of stream into w, for a file that holds one
// stream only or whose other writers never write at the same time; use
// NewLog(w, now).Writer for several streams into one file.
func NewWriter(w io.Writer, stream string, now func() time.Time) io.WriteCloser {
	return NewLog(w, now).Writer(stream)
}

// writeLine writes one log line as one Write.
func (l *Log) writeLine(stream, tag string, content []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.now().UTC().AppendFormat(l.line[:0], time.RFC3339Nano)
	b = append(b, ' ')
	b = append(b, stream...)
	b = append(b, ' ')
	b = append(b, tag...)
	b = append(b, ' ')
	b = append(b, content...)
	b = append(b, '\n')
	l.line = b
	_, err := l.w.Write(b)
	return err
}

type writer struct {
	log    *Log
	stream string
	buf    []byte // the start of a line, no newline in it
	closed bool
}

func (w *writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, os.ErrClosed
	}
	n := len(p)
	max := w.log.maxLine
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.buf = append(w.buf, p...)
			break
		}
		line := p[:i]
		if len(w.buf) > 0 {
			line = append(w.buf, line...)
		}
		if err := w.full(line); err != nil {
			return n, err
		}
		w.buf = w.buf[:0]
		p = p[i+1:]
	}
	// Without its newline a line can only wait so long: cut it.
	cut := 0
	for len(w.buf)-cut > max {
		if err := w.log.writeLine(w.stream, TagPartial, w.buf[cut:cut+max]); err != nil {
			return n, err
		}
		cut += max
	}
	if cut > 0 {
		w.buf = w.buf[:copy(w.buf, w.buf[cut:])]
	}
	return n, nil
}

// full writes a line that had its newline, in chunks if it is too long.
func (w *writer) full(line []byte) error {
	max := w.log.maxLine
	for len(line) > max {
		if err := w.log.writeLine(w.stream, TagPartial, line[:max]); err != nil {
			return err
		}
		line = line[max:]
	}
	return w.log.writeLine(w.stream, TagFull, line)
}

// Close writes what is left of an unterminated line, as P.
func (w *writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if len(w.buf) == 0 {
		return nil
	}
	err := w.log.writeLine(w.stream, TagPartial, w.buf)
	w.buf = nil
	if err != nil {
		return fmt.Errorf("flushing the last %s line: %w", w.stream, err)
	}
	return nil
}
