package crilog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// clock returns times one nanosecond apart from a fixed start.
func clock() func() time.Time {
	t := time.Date(2016, 10, 6, 0, 17, 9, 669794202, time.UTC)
	return func() time.Time {
		t = t.Add(time.Nanosecond)
		return t
	}
}

// write runs writes through a Writer with lines of at most max bytes and
// returns the log, with the timestamps cut off.
func write(t *testing.T, max int, stream string, writes ...string) string {
	t.Helper()
	var buf bytes.Buffer
	l := NewLog(&buf, clock())
	l.maxLine = max
	w := l.Writer(stream)
	for _, s := range writes {
		if n, err := io.WriteString(w, s); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if _, rest, ok := strings.Cut(line, " "); ok {
			out.WriteString(rest)
		}
	}
	return out.String()
}

func TestWriter(t *testing.T) {
	tests := []struct {
		name   string
		max    int
		writes []string
		want   string
	}{
		{"one line", 16, []string{"hello\n"}, "stdout F hello\n"},
		{"two lines in one write", 16, []string{"a\nb\n"}, "stdout F a\nstdout F b\n"},
		{"line across writes", 16, []string{"hel", "lo", "\nwor", "ld\n"}, "stdout F hello\nstdout F world\n"},
		{"empty lines", 16, []string{"\n\n"}, "stdout F \nstdout F \n"},
		{"unterminated at close", 16, []string{"a\nrest"}, "stdout F a\nstdout P rest\n"},
		{"nothing", 16, nil, ""},
		{"carriage return kept", 16, []string{"a\r\n"}, "stdout F a\r\n"},
		{"exactly max", 4, []string{"abcd\n"}, "stdout F abcd\n"},
		{"max plus one", 4, []string{"abcde\n"}, "stdout P abcd\nstdout F e\n"},
		{"twice max", 4, []string{"abcdefgh\n"}, "stdout P abcd\nstdout F efgh\n"},
		{"long without newline yet", 4, []string{"abcdefghij", "k\n"}, "stdout P abcd\nstdout P efgh\nstdout F ijk\n"},
		{"long unterminated", 4, []string{"abcdef"}, "stdout P abcd\nstdout P ef\n"},
		{"max held until newline", 4, []string{"abcd", "\n"}, "stdout F abcd\n"},
	}
	for _, tt := range tests {
		if got := write(t, tt.max, Stdout, tt.writes...); got != tt.want {
			t.Errorf("%s: wrote\n%q\nwant\n%q", tt.name, got, tt.want)
		}
	}
}

func TestWriterFormat(t *testing.T) {
	var buf bytes.Buffer
	now := func() time.Time { return time.Date(2016, 10, 6, 2, 17, 9, 669794202, time.FixedZone("CEST", 2*3600)) }
	w := NewWriter(&buf, Stderr, now)
	fmt.Fprintf(w, "hello\n")
	w.Close()
	if got, want := buf.String(), "2016-10-06T00:17:09.669794202Z stderr F hello\n"; got != want {
		t.Errorf("wrote %q, want %q", got, want)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Errorf("Write after Close succeeded")
	}
}

// TestWritersShareLog checks that stdout and stderr writing at once into
// one Log never mix within a line, even with each byte its own Write.
func TestWritersShareLog(t *testing.T) {
	var buf bytes.Buffer
	l := NewLog(&buf, nil)
	line := strings.Repeat("x", 100) + "\n"
	var wg sync.WaitGroup
	for _, s := range []string{Stdout, Stderr} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := l.Writer(s)
			defer w.Close()
			for range 200 {
				for i := range len(line) {
					w.Write([]byte{line[i]})
				}
			}
		}()
	}
	wg.Wait()
	r := NewReader(&buf)
	n := 0
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil || e.Partial || string(e.Content) != line[:100] {
			t.Fatalf("entry %d = %+v, %v", n, e, err)
		}
		n++
	}
	if n != 400 {
		t.Errorf("read %d lines, want 400", n)
	}
}

func TestParseLine(t *testing.T) {
	ts := time.Date(2016, 10, 6, 0, 17, 9, 669794202, time.UTC)
	tests := []struct {
		line string
		want Entry
		err  bool
	}{
		{"2016-10-06T00:17:09.669794202Z stdout F hello world", Entry{ts, Stdout, false, []byte("hello world")}, false},
		{"2016-10-06T00:17:09.669794202Z stderr P part", Entry{ts, Stderr, true, []byte("part")}, false},
		{"2016-10-06T00:17:09.669794202Z stdout F ", Entry{ts, Stdout, false, []byte{}}, false},
		{"2016-10-06T00:17:09.669794202Z stdout P:x:y  two spaces", Entry{ts, Stdout, true, []byte(" two spaces")}, false},
		{"2016-10-06T02:17:09.669794202+02:00 stdout F tz", Entry{ts.In(time.FixedZone("", 7200)), Stdout, false, []byte("tz")}, false},
		{"2016-10-06T00:17:09.669794202Z stdout F", Entry{}, true}, // no space after the tag
		{"2016-10-06T00:17:09.669794202Z stdin F x", Entry{}, true},
		{"yesterday stdout F x", Entry{}, true},
		{"2016-10-06T00:17:09.669794202Z", Entry{}, true},
		{"", Entry{}, true},
	}
	for _, tt := range tests {
		got, err := ParseLine([]byte(tt.line))
		if (err != nil) != tt.err {
			t.Errorf("ParseLine(%q) error %v, want error %v", tt.line, err, tt.err)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseLine(%q) error %v does not match ErrMalformed", tt.line, err)
			}
			continue
		}
		if !got.Time.Equal(tt.want.Time) || got.Stream != tt.want.Stream || got.Partial != tt.want.Partial || !bytes.Equal(got.Content, tt.want.Content) {
			t.Errorf("ParseLine(%q) = %+v, want %+v", tt.line, got, tt.want)
		}
	}
}

const sample = `2016-10-06T00:00:01Z stdout F one
2016-10-06T00:00:02Z stderr P err-
2016-10-06T00:00:03Z stdout P tw
2016-10-06T00:00:04Z stderr F or
2016-10-06T00:00:05Z stdout F o
2016-10-06T00:00:06Z stdout F three
2016-10-06T00:00:07Z stderr P tail without F`

func int64p(n int64) *int64 { return &n }

func TestCopy(t *testing.T) {
	tests := []struct {
		name string
		opts CopyOptions
		want string
	}{
		{"all", CopyOptions{}, "one\nerr-or\ntwo\nthree\ntail without F"},
		{"stdout", CopyOptions{Stream: Stdout}, "one\ntwo\nthree\n"},
		{"stderr", CopyOptions{Stream: Stderr}, "err-or\ntail without F"},
		{"timestamps", CopyOptions{Stream: Stdout, Timestamps: true},
			"2016-10-06T00:00:01Z one\n2016-10-06T00:00:03Z two\n2016-10-06T00:00:06Z three\n"},
		{"tail 2", CopyOptions{TailLines: int64p(2)}, "three\ntail without F"},
		{"tail 0", CopyOptions{TailLines: int64p(0)}, ""},
		{"tail more than all", CopyOptions{Stream: Stdout, TailLines: int64p(10)}, "one\ntwo\nthree\n"},
		{"since", CopyOptions{Since: time.Date(2016, 10, 6, 0, 0, 3, 0, time.UTC)}, "two\nthree\ntail without F"},
	}
	for _, tt := range tests {
		var out strings.Builder
		if err := Copy(&out, strings.NewReader(sample), tt.opts); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, out.String()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestCopyMalformed(t *testing.T) {
	log := "garbage\n2016-10-06T00:00:01Z stdout F ok\n2016-10-06T00:00:02Z stdin F no\n\n" +
		"2016-10-06T00:00:03Z stdout F " + strings.Repeat("x", maxRead) + "\n2016-10-06T00:00:04Z stdout F still ok\n"
	var out strings.Builder
	err := Copy(&out, strings.NewReader(log), CopyOptions{})
	if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "skipping 4 malformed lines") || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("Copy error = %v; want 4 malformed lines, the first on line 1", err)
	}
	if got, want := out.String(), "ok\nstill ok\n"; got != want {
		t.Errorf("Copy wrote %q, want %q", got, want)
	}
}

// TestRoundTrip checks that what a Writer writes, Copy gives back.
func TestRoundTrip(t *testing.T) {
	inputs := []string{"", "a", "a\n", "\n\n\nx", strings.Repeat("long ", 10000) + "\nend", strings.Repeat("y", MaxLine) + "\n"}
	for _, in := range inputs {
		var log bytes.Buffer
		w := NewWriter(&log, Stdout, nil)
		io.WriteString(w, in)
		w.Close()
		var out strings.Builder
		if err := Copy(&out, &log, CopyOptions{}); err != nil {
			t.Fatal(err)
		}
		if out.String() != in {
			t.Errorf("round trip of %d bytes gave %d bytes", len(in), out.Len())
		}
	}
}

func FuzzCopy(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("2016-10-06T00:00:01Z stdout P x\n2016-10-06T00:00:01Z stdout P:y \n"))
	f.Add([]byte("\n\n \x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opts := range []CopyOptions{{}, {Stream: Stderr, Timestamps: true, TailLines: int64p(1)}} {
			err := Copy(io.Discard, bytes.NewReader(data), opts)
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Errorf("Copy error %v does not match ErrMalformed", err)
			}
		}
		ParseLine(data)
	})
}

// FuzzRoundTrip writes arbitrary output through short-lined writers for
// both streams and checks Copy gives each stream back exactly.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("hello\nworld"), []byte("err\n"), uint8(3))
	f.Add([]byte(""), []byte("\n\r\n"), uint8(1))
	f.Fuzz(func(t *testing.T, stdout, stderr []byte, max uint8) {
		var log bytes.Buffer
		l := NewLog(&log, nil)
		l.maxLine = int(max%8) + 1
		wo, we := l.Writer(Stdout), l.Writer(Stderr)
		for i := 0; i < len(stdout) || i < len(stderr); i += 3 { // interleave in small writes
			if i < len(stdout) {
				wo.Write(stdout[i:min(i+3, len(stdout))])
			}
			if i < len(stderr) {
				we.Write(stderr[i:min(i+3, len(stderr))])
			}
		}
		wo.Close()
		we.Close()
		for stream, want := range map[string][]byte{Stdout: stdout, Stderr: stderr} {
			var out bytes.Buffer
			if err := Copy(&out, bytes.NewReader(log.Bytes()), CopyOptions{Stream: stream}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Fatalf("%s: round trip gave %q, want %q", stream, out.Bytes(), want)
			}
		}
	})
}
