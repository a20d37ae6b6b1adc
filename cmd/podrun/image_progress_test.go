package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/podrun/podrun/runner/image"
)

// TestProgressView feeds the renderer a pull, step by step, on a fake
// clock, and checks what each step draws: nothing, or every line again.
func TestProgressView(t *testing.T) {
	const img = "127.0.0.1:5000/podrun/busybox:v1"
	a := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("a", 64)}
	b := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("b", 64)}
	prog := func(layer v1.Hash, status string, cur, total int64) image.Progress {
		return image.Progress{Image: img, Layer: layer, Status: status, Current: cur, Total: total}
	}
	steps := []struct {
		name    string
		advance time.Duration // before the step
		p       *image.Progress
		want    []string // the lines drawn, after the cursor-up; nil: nothing drawn
		up      int      // lines the cursor goes up first
	}{
		{"the first report draws", 0, ptr(prog(a, image.StatusWaiting, 0, 0)),
			[]string{img + ":", "aaaaaaaaaaaa: Waiting"}, 0},
		{"within 100ms nothing is drawn", 50 * time.Millisecond, ptr(prog(b, image.StatusWaiting, 0, 0)), nil, 0},
		{"a download begins", time.Second, ptr(prog(a, image.StatusDownloading, 0, 2_000_000)),
			[]string{img + ":", "aaaaaaaaaaaa: Downloading [>                             ] 0 B/2.0 MB", "bbbbbbbbbbbb: Waiting"}, 2},
		{"half way, with its rate", 2 * time.Second, ptr(prog(a, image.StatusDownloading, 1_000_000, 2_000_000)),
			[]string{img + ":", "aaaaaaaaaaaa: Downloading [===============>              ] 1.0 MB/2.0 MB 500.0 kB/s", "bbbbbbbbbbbb: Waiting"}, 3},
		{"completion draws at once", time.Millisecond, ptr(prog(a, image.StatusComplete, 2_000_000, 2_000_000)),
			[]string{img + ":", "aaaaaaaaaaaa: Pull complete", "bbbbbbbbbbbb: Waiting"}, 3},
		{"an existing layer waits for the next draw", time.Millisecond, ptr(prog(b, image.StatusExists, 0, 0)), nil, 0},
		{"finish draws the last state", 0, nil,
			[]string{img + ":", "aaaaaaaaaaaa: Pull complete", "bbbbbbbbbbbb: Already exists"}, 3},
	}
	var out bytes.Buffer
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	v := newProgressView(&out, func() time.Time { return clock })
	for _, s := range steps {
		clock = clock.Add(s.advance)
		out.Reset()
		if s.p != nil {
			v.report(*s.p)
		} else {
			v.finish()
		}
		got := out.String()
		if s.want == nil {
			if got != "" {
				t.Errorf("%s: drew %q, want nothing", s.name, got)
			}
			continue
		}
		want := ""
		if s.up > 0 {
			want = "\x1b[" + string(rune('0'+s.up)) + "A"
		}
		for _, line := range s.want {
			want += "\x1b[2K" + line + "\n"
		}
		if got != want {
			t.Errorf("%s:\n got %q\nwant %q", s.name, got, want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestNewProgressNotTerminal: progress is drawn on terminals only.
func TestNewProgressNotTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for name, w := range map[string]io.Writer{"a file": f, "a buffer": &bytes.Buffer{}} {
		if report, _ := newProgress(w); report != nil {
			t.Errorf("%s: a progress callback, want none", name)
		}
	}
}
