package runner

import (
	"strings"
	"sync"
	"testing"
)

// TestLineWriter: whatever the chunks, lines come out whole and
// prefixed, one Write per batch, and Close ends a last partial line.
func TestLineWriter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		prefix string
		chunks []string
		writes []string
	}{
		{"one line", "[pod/p/a] ", []string{"hello\n"}, []string{"[pod/p/a] hello\n"}},
		{"split line", "[pod/p/a] ", []string{"hel", "lo\nwor", "ld\n"}, []string{"[pod/p/a] hello\n", "[pod/p/a] world\n"}},
		{"two lines at once", "> ", []string{"a\nb\n"}, []string{"> a\n> b\n"}},
		{"partial last line", "> ", []string{"a\nb"}, []string{"> a\n", "> b\n"}},
		{"no prefix", "", []string{"x", "y\n"}, []string{"xy\n"}},
		{"empty line", "> ", []string{"\n"}, []string{"> \n"}},
		{"nothing", "> ", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			lw := &lineWriter{mu: new(sync.Mutex), w: &rec, prefix: []byte(tc.prefix)}
			for _, c := range tc.chunks {
				if n, err := lw.Write([]byte(c)); err != nil || n != len(c) {
					t.Fatalf("Write(%q) = %d, %v", c, n, err)
				}
			}
			if err := lw.Close(); err != nil {
				t.Fatal(err)
			}
			if strings.Join(rec.writes, "|") != strings.Join(tc.writes, "|") {
				t.Errorf("writes %q, want %q", rec.writes, tc.writes)
			}
		})
	}
}

// TestLineWriterShared: two writers sharing a lock never mix their bytes
// within a line, however they are scheduled.
func TestLineWriterShared(t *testing.T) {
	var (
		rec recorder
		mu  sync.Mutex
		wg  sync.WaitGroup
	)
	for _, name := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lw := &lineWriter{mu: &mu, w: &rec, prefix: []byte("[" + name + "] ")}
			for range 500 {
				lw.Write([]byte(name + name))
				lw.Write([]byte(name + "\n"))
			}
		}()
	}
	wg.Wait()
	out := strings.Join(rec.writes, "")
	if n := strings.Count(out, "[a] aaa\n") + strings.Count(out, "[b] bbb\n"); n != 1000 || len(out) != 1000*len("[a] aaa\n") {
		t.Errorf("%d whole lines of 1000 in %d bytes", n, len(out))
	}
}

// recorder keeps each Write; it needs no lock of its own, since
// lineWriter writes under its mutex.
type recorder struct{ writes []string }

func (r *recorder) Write(p []byte) (int, error) {
	r.writes = append(r.writes, string(p))
	return len(p), nil
}
