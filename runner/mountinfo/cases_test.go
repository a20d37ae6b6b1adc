package mountinfo

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/internal/testenv"
)

func TestWithinPaths(t *testing.T) {
	tests := []struct {
		path, dir string
		want      bool
	}{
		{"/run/podrun/pods/a", "/run/podrun/pods/a", true},
		{"/run/podrun/pods/a/rootfs", "/run/podrun/pods/a", true},
		{"/run/podrun/pods/a/rootfs/proc", "/run/podrun/pods/a/", true},
		{"/run/podrun/pods/a/..b", "/run/podrun/pods/a", true}, // a name starting with "..", not a parent
		{"/run/podrun/pods/ab", "/run/podrun/pods/a", false},   // a sibling sharing a prefix
		{"/run/podrun/pods", "/run/podrun/pods/a", false},
		{"/run/podrun/pods/a/../b", "/run/podrun/pods/a", false},
		{"/", "/run/podrun/pods/a", false},
		{"/anything", "/", true},
		{"relative/a", "/run/podrun", false},
	}
	for _, tt := range tests {
		if got := Within(tt.path, tt.dir); got != tt.want {
			t.Errorf("Within(%q, %q) = %v, want %v", tt.path, tt.dir, got, tt.want)
		}
	}
}

func TestUnescapeCases(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/run/podrun/pods/a", "/run/podrun/pods/a"},
		{`/mnt/with\040space`, "/mnt/with space"},
		{`/mnt/a\040b\040c`, "/mnt/a b c"},
		{`/mnt/tab\011here`, "/mnt/tab\there"},
		{`/mnt/new\012line`, "/mnt/new\nline"},
		{`/mnt/back\134slash`, `/mnt/back\slash`},
		{`/mnt/end\040`, "/mnt/end "},
		{`\040start`, " start"},
		{`/mnt/short\04`, `/mnt/short\04`}, // too short to be an escape
		{`/mnt/trailing\`, `/mnt/trailing\`},
		{`/mnt/not\xyzoctal`, `/mnt/not\xyzoctal`},
		{`a\4x1b`, `a\4x1b`}, // not three octal digits
		{`a\ 40b`, `a\ 40b`},
	}
	for _, tt := range tests {
		if got := Unescape(tt.in); got != tt.want {
			t.Errorf("Unescape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMountsUnderNothing(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	points, err := Under(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(points) != 0 {
		t.Errorf("Under(a fresh directory) = %q, want nothing", points)
	}
}

func TestMountsUnder(t *testing.T) {
	testenv.RequireRoot(t)
	base := t.TempDir()
	dir := filepath.Join(base, "pod")
	mount := func(target string) {
		t.Helper()
		if err := os.MkdirAll(target, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := unix.Mount("tmpfs", target, "tmpfs", 0, "size=1m"); err != nil {
			t.Fatalf("mounting a tmpfs on %s: %v", target, err)
		}
		t.Cleanup(func() { _ = unix.Unmount(target, unix.MNT_DETACH) })
	}
	a := filepath.Join(dir, "a")
	ab := filepath.Join(a, "b") // made inside a's tmpfs
	spaced := filepath.Join(dir, "with space")
	mount(a)
	mount(ab)
	mount(spaced)
	mount(filepath.Join(base, "pod-sibling")) // shares dir's prefix but is not under it

	points, err := Under(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{spaced, ab, a}; !slices.Equal(points, want) {
		t.Errorf("Under(%s) = %q, want %q (deepest first)", dir, points, want)
	}
	points, err = Under(a)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{ab, a}; !slices.Equal(points, want) {
		t.Errorf("Under(%s) = %q, want %q", a, points, want)
	}
}
