package crilog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
)

// ErrMalformed matches the error of a line that is not in the CRI log
// format.
var ErrMalformed = errors.New("malformed CRI log line")

// maxRead bounds the length of a line the reader keeps; our lines are at
// most MaxLine plus a header.
const maxRead = 1 << 20

// Entry is one parsed log line.
type Entry struct {
	Time    time.Time
	Stream  string // Stdout or Stderr
	Partial bool   // tag P: the content continues in the stream's next entry
	Content []byte // without the line's newline
}

// ParseLine parses one log line, without its newline, as the kubelet
// does: a tag whose first part is not P is full. Content aliases line.
func ParseLine(line []byte) (Entry, error) {
	var e Entry
	ts, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return e, fmt.Errorf("%w: no timestamp", ErrMalformed)
	}
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return e, fmt.Errorf("%w: timestamp %q is not RFC 3339", ErrMalformed, ts)
	}
	stream, rest, ok := bytes.Cut(rest, []byte{' '})
	if !ok || (string(stream) != Stdout && string(stream) != Stderr) {
		return e, fmt.Errorf("%w: no stream", ErrMalformed)
	}
	tags, content, ok := bytes.Cut(rest, []byte{' '})
	if !ok {
		return e, fmt.Errorf("%w: no tag", ErrMalformed)
	}
	first, _, _ := bytes.Cut(tags, []byte{':'})
	return Entry{Time: t, Stream: string(stream), Partial: string(first) == TagPartial, Content: content}, nil
}

// Reader reads the entries of a CRI log.
type Reader struct {
	r    *bufio.Reader
	line int
	buf  []byte
}

// NewReader returns a Reader of the log r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10)}
}

// Next returns the next entry, io.EOF at the end of the log, or an error
// matching ErrMalformed for a line that is not one, after which reading
// can go on. The entry's Content is valid until the next call.
func (r *Reader) Next() (Entry, error) {
	line, err := r.readLine()
	if err != nil {
		return Entry{}, err
	}
	e, err := ParseLine(line)
	if err != nil {
		return Entry{}, fmt.Errorf("parsing line %d: %w", r.line, err)
	}
	return e, nil
}

// readLine returns the next line without its newline; a last line without
// one counts. Lines longer than maxRead are ErrMalformed.
func (r *Reader) readLine() ([]byte, error) {
	r.buf = r.buf[:0]
	tooLong := false
	for {
		chunk, err := r.r.ReadSlice('\n')
		if !tooLong {
			r.buf = append(r.buf, chunk...)
			if len(r.buf) > maxRead {
				tooLong, r.buf = true, r.buf[:0]
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && (len(r.buf) > 0 || tooLong) {
			err = nil // a last line without a newline
		}
		if err != nil {
			return nil, err
		}
		r.line++
		if tooLong {
			return nil, fmt.Errorf("reading line %d: longer than %d bytes: %w", r.line, maxRead, ErrMalformed)
		}
		return bytes.TrimSuffix(r.buf, []byte{'\n'}), nil
	}
}
