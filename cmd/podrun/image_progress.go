package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/runner/image"
)

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// progressView draws pulls as docker pull does: one line per layer,
// grouped by image, redrawn in place at most ten times a second.
type progressView struct {
	mu     sync.Mutex
	w      io.Writer
	images []string
	layers map[string][]string // image -> layer keys, in order
	rows   map[string]*row
	drawn  int // lines drawn last time
	last   time.Time
	now    func() time.Time // the clock, which tests replace
}

type row struct {
	p     image.Progress
	start time.Time
}

// newProgress returns a progress callback drawing on w, and a function
// that draws the last state; both nil when w is not a terminal.
func newProgress(w io.Writer) (report func(image.Progress), done func()) {
	if !isTerminal(w) {
		return nil, func() {}
	}
	v := newProgressView(w, time.Now)
	return v.report, v.finish
}

// newProgressView draws on w whatever w is, reading the time from now.
func newProgressView(w io.Writer, now func() time.Time) *progressView {
	return &progressView{w: w, layers: map[string][]string{}, rows: map[string]*row{}, now: now}
}

func (v *progressView) report(p image.Progress) {
	v.mu.Lock()
	defer v.mu.Unlock()
	key := p.Image + " " + p.Layer.String()
	r, ok := v.rows[key]
	if !ok {
		if _, seen := v.layers[p.Image]; !seen {
			v.images = append(v.images, p.Image)
		}
		v.layers[p.Image] = append(v.layers[p.Image], key)
		r = &row{}
		v.rows[key] = r
	}
	if p.Status == image.StatusDownloading && r.p.Status != image.StatusDownloading {
		r.start = v.now()
	}
	r.p = p
	if v.now().Sub(v.last) >= 100*time.Millisecond || p.Status == image.StatusComplete {
		v.draw()
	}
}

func (v *progressView) finish() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.draw()
}

func (v *progressView) draw() {
	var b strings.Builder
	if v.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", v.drawn)
	}
	n := 0
	for _, img := range v.images {
		fmt.Fprintf(&b, "\x1b[2K%s:\n", img)
		n++
		for _, key := range v.layers[img] {
			fmt.Fprintf(&b, "\x1b[2K%s\n", v.rows[key].line(v.now()))
			n++
		}
	}
	v.drawn = n
	v.last = v.now()
	io.WriteString(v.w, b.String())
}

// line is one layer's line: "a3ed95caeb02: Downloading [====>   ] 1.2MB/3.4MB 5.0MB/s".
func (r *row) line(now time.Time) string {
	id := r.p.Layer.Hex
	if len(id) > 12 {
		id = id[:12]
	}
	if r.p.Status != image.StatusDownloading || r.p.Total <= 0 {
		return id + ": " + r.p.Status
	}
	const width = 30
	fill := min(int(r.p.Current*width/r.p.Total), width)
	bar := strings.Repeat("=", fill)
	if fill < width {
		bar += ">" + strings.Repeat(" ", width-fill-1)
	}
	rate := ""
	if s := now.Sub(r.start).Seconds(); s > 0.2 {
		rate = " " + humanSize(int64(float64(r.p.Current)/s)) + "/s"
	}
	return fmt.Sprintf("%s: Downloading [%s] %s/%s%s", id, bar, humanSize(r.p.Current), humanSize(r.p.Total), rate)
}
