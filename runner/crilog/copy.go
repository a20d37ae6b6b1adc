package crilog

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// CopyOptions select and decorate what Copy writes, as kubectl logs'
// flags do.
type CopyOptions struct {
	// Stream keeps only Stdout or only Stderr; "" keeps both.
	Stream string
	// Timestamps starts each line with its time (RFC 3339, nanoseconds)
	// and a space.
	Timestamps bool
	// TailLines, when not nil, keeps only that many last lines.
	TailLines *int64
	// Since drops lines written before it.
	Since time.Time
}

// Copy writes to dst the container output that the CRI log src holds:
// contents joined across P chunks, full lines ended with a newline. It
// skips malformed lines and, after copying everything else, returns an
// error matching ErrMalformed that counts them and gives the first.
func Copy(dst io.Writer, src io.Reader, opts CopyOptions) error {
	c := copier{opts: opts, dst: dst, pending: map[string]*pending{}}
	if opts.TailLines != nil {
		c.tail = &ring{max: int(max(*opts.TailLines, 0))}
	}
	r := NewReader(src)
	var malformed int
	var first error
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if errors.Is(err, ErrMalformed) {
			if malformed++; first == nil {
				first = err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("reading log: %w", err)
		}
		if err := c.entry(e); err != nil {
			return err
		}
	}
	if err := c.finish(); err != nil {
		return err
	}
	if malformed > 0 {
		return fmt.Errorf("skipping %d malformed lines, the first: %w", malformed, first)
	}
	return nil
}

// pending is a stream's line whose P chunks have come but not its F.
type pending struct {
	time    time.Time
	content []byte
}

type copier struct {
	opts    CopyOptions
	dst     io.Writer
	pending map[string]*pending
	order   []string // streams with pending lines, first come first
	tail    *ring
}

func (c *copier) entry(e Entry) error {
	if c.opts.Stream != "" && e.Stream != c.opts.Stream {
		return nil
	}
	p := c.pending[e.Stream]
	if p == nil {
		p = &pending{time: e.Time}
		c.pending[e.Stream] = p
		c.order = append(c.order, e.Stream)
	}
	p.content = append(p.content, e.Content...)
	if e.Partial {
		return nil
	}
	delete(c.pending, e.Stream)
	c.order = remove(c.order, e.Stream)
	return c.line(p.time, append(p.content, '\n'))
}

// finish writes the lines left without an F, as they are, and the tail.
func (c *copier) finish() error {
	for _, s := range c.order {
		p := c.pending[s]
		if err := c.line(p.time, p.content); err != nil {
			return err
		}
	}
	if c.tail == nil {
		return nil
	}
	for _, l := range c.tail.lines() {
		if _, err := c.dst.Write(l); err != nil {
			return fmt.Errorf("writing log: %w", err)
		}
	}
	return nil
}

// line writes, or keeps for the tail, one line of output.
func (c *copier) line(t time.Time, content []byte) error {
	if t.Before(c.opts.Since) {
		return nil
	}
	if c.opts.Timestamps {
		stamped := t.UTC().AppendFormat(nil, time.RFC3339Nano)
		content = append(append(stamped, ' '), content...)
	}
	if c.tail != nil {
		c.tail.add(content)
		return nil
	}
	if _, err := c.dst.Write(content); err != nil {
		return fmt.Errorf("writing log: %w", err)
	}
	return nil
}

func remove(list []string, s string) []string {
	for i, x := range list {
		if x == s {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}

// ring keeps the last max lines added.
type ring struct {
	max  int
	buf  [][]byte
	next int
}

func (r *ring) add(line []byte) {
	if r.max == 0 {
		return
	}
	if len(r.buf) < r.max {
		r.buf = append(r.buf, line)
		return
	}
	r.buf[r.next] = line
	r.next = (r.next + 1) % r.max
}

func (r *ring) lines() [][]byte {
	return append(r.buf[r.next:len(r.buf):len(r.buf)], r.buf[:r.next]...)
}
