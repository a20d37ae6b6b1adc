package volume

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestCheckSubPathIn: the dry run of BindSubPath comes to its verdict
// (a subPath through a link out of the volume escapes; a missing one is
// fine, BindSubPath would make it) and makes nothing.
func TestCheckSubPathIn(t *testing.T) {
	root := t.TempDir()
	if err := os.Symlink("/", filepath.Join(root, "out")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		sub    string
		escape bool
	}{
		{"in", false}, {"in/new/deeper", false}, {"new", false},
		{"out", true}, {"out/etc", true}, {"out/new", true},
	} {
		err := CheckSubPathIn(root, tt.sub)
		if got := errors.Is(err, ErrEscape); got != tt.escape {
			t.Errorf("CheckSubPathIn(%q) = %v, want escape %v", tt.sub, err, tt.escape)
		}
		if !tt.escape && err != nil {
			t.Errorf("CheckSubPathIn(%q) = %v", tt.sub, err)
		}
	}
	if err := CheckSubPathIn(root, "../x"); err == nil {
		t.Error("CheckSubPathIn(../x) passed")
	}
	for _, made := range []string{"in/new", "new"} {
		if _, err := os.Lstat(filepath.Join(root, made)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the dry run made %s: %v", made, err)
		}
	}
	// BindSubPath agrees on the escape, before it mounts anything.
	if err := BindSubPath(root, "out/etc", filepath.Join(t.TempDir(), "target")); !errors.Is(err, ErrEscape) {
		t.Errorf("BindSubPath(out/etc) = %v, want %v", err, ErrEscape)
	}
}
