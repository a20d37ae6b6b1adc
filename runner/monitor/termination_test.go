package monitor

import (
	"os"
	"path/filepath"
	"testing"
)

// TestEmptyTerminationLog: a restart empties the file in place (the bind
// mount follows the inode, the mode stays writable by any user); a
// missing file is no error.
func TestEmptyTerminationLog(t *testing.T) {
	tests := []struct {
		name   string
		before *string // nil: no file
	}{
		{"message of the last run", ptrTo("run 1")},
		{"already empty", ptrTo("")},
		{"no file", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c")
			var before os.FileInfo
			if tt.before != nil {
				if err := os.WriteFile(path, []byte(*tt.before), 0o666); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, 0o666); err != nil {
					t.Fatal(err)
				}
				before, _ = os.Stat(path)
			}
			if err := emptyTerminationLog(path); err != nil {
				t.Fatalf("emptyTerminationLog: %v", err)
			}
			after, err := os.Stat(path)
			if tt.before == nil {
				if !os.IsNotExist(err) {
					t.Errorf("a missing file was created: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if after.Size() != 0 || after.Mode().Perm() != 0o666 || !os.SameFile(before, after) {
				t.Errorf("after: size %d, mode %v, same file %v; want 0, -rw-rw-rw-, true", after.Size(), after.Mode().Perm(), os.SameFile(before, after))
			}
		})
	}
}

func ptrTo[T any](v T) *T { return &v }
