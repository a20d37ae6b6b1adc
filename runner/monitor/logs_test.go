package monitor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRotatingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	f, err := openRotating(path, 10, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"aaaa\n", "bbbb\n", "cccc\n", "dddd\n", "eeee\n", "ffff\n", "gggg\n", "hhhh\n"} {
		if _, err := f.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	read := func(p string) string {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	// Two lines fit in 10 bytes; three files are kept: the current and
	// the two newest renamed.
	if got := read(path); got != "gggg\nhhhh\n" {
		t.Errorf("current file %q", got)
	}
	old := rotated(path)
	if len(old) != 2 || read(old[0]) != "cccc\ndddd\n" || read(old[1]) != "eeee\nffff\n" {
		t.Errorf("rotated files %v", old)
	}
	for _, o := range old {
		if !strings.HasPrefix(filepath.Base(o), "0.log.") {
			t.Errorf("rotated file named %s", o)
		}
	}
}
