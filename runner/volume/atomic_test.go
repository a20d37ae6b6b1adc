package volume

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readVolume(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWriteAtomicLayout(t *testing.T) {
	dir := t.TempDir()
	payload := map[string]File{
		"app.conf":      {Data: []byte("a=1\n"), Mode: 0o644},
		"certs/tls.pem": {Data: []byte("PEM"), Mode: 0o400},
	}
	if err := WriteAtomic(dir, payload, nil); err != nil {
		t.Fatal(err)
	}
	ts, err := os.Readlink(filepath.Join(dir, "..data"))
	if err != nil || !strings.HasPrefix(ts, "..20") {
		t.Fatalf("..data -> %q, %v", ts, err)
	}
	for name, want := range map[string]string{"app.conf": "..data/app.conf", "certs": "..data/certs"} {
		if got, _ := os.Readlink(filepath.Join(dir, name)); got != want {
			t.Errorf("%s -> %q, want %q", name, got, want)
		}
	}
	info, err := os.Stat(filepath.Join(dir, "certs/tls.pem"))
	if err != nil || info.Mode().Perm() != 0o400 {
		t.Errorf("tls.pem mode %v, %v", info.Mode(), err)
	}
	if got := readVolume(t, dir, "app.conf"); got != "a=1\n" {
		t.Errorf("app.conf = %q", got)
	}
}

func TestWriteAtomicUpdate(t *testing.T) {
	dir := t.TempDir()
	if err := WriteAtomic(dir, map[string]File{"a": {Data: []byte("1"), Mode: 0o644}, "b": {Data: []byte("x"), Mode: 0o644}}, nil); err != nil {
		t.Fatal(err)
	}
	first, _ := os.Readlink(filepath.Join(dir, "..data"))
	// Unchanged: nothing rewritten.
	if err := WriteAtomic(dir, map[string]File{"a": {Data: []byte("1"), Mode: 0o644}, "b": {Data: []byte("x"), Mode: 0o644}}, nil); err != nil {
		t.Fatal(err)
	}
	if same, _ := os.Readlink(filepath.Join(dir, "..data")); same != first {
		t.Errorf("unchanged payload rewritten: %s -> %s", first, same)
	}
	if err := WriteAtomic(dir, map[string]File{"a": {Data: []byte("2"), Mode: 0o600}}, nil); err != nil {
		t.Fatal(err)
	}
	if got := readVolume(t, dir, "a"); got != "2" {
		t.Errorf("a = %q", got)
	}
	if _, err := os.Lstat(filepath.Join(dir, "b")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale b left: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, first)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("old payload dir left: %v", err)
	}
}

func TestWriteAtomicRefusesBadPaths(t *testing.T) {
	for _, p := range []string{"/etc/passwd", "../x", "a/../../x", "..data", "..hidden", ""} {
		dir := t.TempDir()
		err := WriteAtomic(dir, map[string]File{p: {Data: []byte("x"), Mode: 0o644}}, nil)
		if !errors.Is(err, ErrEscape) {
			t.Errorf("path %q: err = %v, want ErrEscape", p, err)
		}
	}
}

// A volume tampered with between two writes (Podman's CVE-2025-9566):
// whatever the links point to, the writer touches nothing outside.
func TestWriteAtomicTampered(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(dir, outside string) error
	}{
		{"..data to outside", func(dir, outside string) error {
			os.Remove(filepath.Join(dir, "..data"))
			return os.Symlink(outside, filepath.Join(dir, "..data"))
		}},
		{"file to outside", func(dir, outside string) error {
			os.Remove(filepath.Join(dir, "a"))
			return os.Symlink(filepath.Join(outside, "victim"), filepath.Join(dir, "a"))
		}},
		{"payload dir file to outside", func(dir, outside string) error {
			ts, _ := os.Readlink(filepath.Join(dir, "..data"))
			os.Remove(filepath.Join(dir, ts, "a"))
			return os.Symlink(filepath.Join(outside, "victim"), filepath.Join(dir, ts, "a"))
		}},
		{"payload dir to outside", func(dir, outside string) error {
			ts, _ := os.Readlink(filepath.Join(dir, "..data"))
			os.RemoveAll(filepath.Join(dir, ts))
			return os.Symlink(outside, filepath.Join(dir, ts))
		}},
		{"..data_tmp to outside, ..data gone", func(dir, outside string) error {
			os.Remove(filepath.Join(dir, "..data"))
			return os.Symlink(outside, filepath.Join(dir, "..data_tmp"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, outside := t.TempDir(), t.TempDir()
			victim := filepath.Join(outside, "victim")
			if err := os.WriteFile(victim, []byte("host"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := WriteAtomic(dir, map[string]File{"a": {Data: []byte("1"), Mode: 0o644}}, nil); err != nil {
				t.Fatal(err)
			}
			if err := tt.tamper(dir, outside); err != nil {
				t.Fatal(err)
			}
			_ = WriteAtomic(dir, map[string]File{"a": {Data: []byte("2"), Mode: 0o644}, "victim": {Data: []byte("pwn"), Mode: 0o777}}, nil)
			if got, _ := os.ReadFile(victim); string(got) != "host" {
				t.Errorf("outside file changed: %q", got)
			}
			if info, _ := os.Stat(victim); info.Mode().Perm() != 0o600 {
				t.Errorf("outside file mode changed: %v", info.Mode())
			}
			entries, _ := os.ReadDir(outside)
			if len(entries) != 1 {
				t.Errorf("outside dir now holds %d entries", len(entries))
			}
			// And the volume is whole again.
			if got := readVolume(t, dir, "a"); got != "2" {
				t.Errorf("a = %q after rewrite", got)
			}
		})
	}
}
