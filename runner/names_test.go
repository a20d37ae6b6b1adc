package runner

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestEntryPointsRefuseBadNames calls every entry point that takes a
// namespace and a name with names that climb out of their directory, and
// checks that each refuses them, as the API server would, and that the
// canary beside the roots is untouched.
func TestEntryPointsRefuseBadNames(t *testing.T) {
	parent := t.TempDir()
	r, err := New(Config{Root: filepath.Join(parent, "root"), RunRoot: filepath.Join(parent, "run")})
	if err != nil {
		t.Fatal(err)
	}
	canary := filepath.Join(parent, "canary")
	for _, d := range []string{canary, filepath.Join(canary, "_data")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{"state.json": "garbage", "claim.json": "{}", "keep": "keep me"}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(canary, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	ctx := context.Background()
	var names []string
	for depth := 1; depth <= 5; depth++ {
		names = append(names, strings.Repeat("../", depth)+"canary", strings.Repeat("../", depth)+"..")
	}
	names = append(names, "", ".", "..", "/", canary, "Canary", "a_b", "web\x00", strings.Repeat("a", 254))
	type call struct {
		what string
		fn   func(namespace, name string) error
	}
	calls := []call{
		{"Delete", func(ns, n string) error { return r.Delete(ctx, ns, n, DeleteOptions{}) }},
		{"Get", func(ns, n string) error { _, err := r.Get(ctx, ns, n); return err }},
		{"Events", func(ns, n string) error { _, err := r.Events(ctx, ns, n); return err }},
		{"Logs", func(ns, n string) error { return r.Logs(ctx, ns, n, LogOptions{}, io.Discard) }},
		{"Exec", func(ns, n string) error {
			_, err := r.Exec(ctx, ns, n, ExecOptions{Args: []string{"true"}})
			return err
		}},
		{"Monitor", func(ns, n string) error { return r.Monitor(ctx, ns, n, MonitorOptions{}) }},
		{"RemoveVolume", func(ns, n string) error { return r.RemoveVolume(ns, n) }},
		{"DeleteClaim", func(ns, n string) error { return r.DeleteClaim(ns, n, false) }},
		{"DeleteClaim purging", func(ns, n string) error { return r.DeleteClaim(ns, n, true) }},
		{"Claims().Remove", func(ns, n string) error { return r.Claims().Remove(ns, n) }},
		{"Claims().Release", func(ns, n string) error { return r.Claims().Release(ns, n) }},
		{"Claims().Get", func(ns, n string) error { _, err := r.Claims().Get(ns, n); return err }},
	}
	for _, c := range calls {
		for _, name := range names {
			err := c.fn("default", name)
			if err == nil || !strings.HasPrefix(err.Error(), "invalid ") || !strings.Contains(err.Error(), "name") {
				t.Errorf("%s(default, %q) = %v; want an invalid name", c.what, name, err)
			}
			err = c.fn(name, "canary")
			if err == nil || !strings.HasPrefix(err.Error(), "invalid namespace") {
				t.Errorf("%s(%q, canary) = %v; want an invalid namespace", c.what, name, err)
			}
		}
	}
	for _, opts := range []LogOptions{{Container: "../.."}, {Container: "a.b"}} {
		if err := r.Logs(ctx, "default", "web", opts, io.Discard); err == nil || !strings.HasPrefix(err.Error(), "invalid container name") {
			t.Errorf("Logs with container %q = %v; want an invalid container name", opts.Container, err)
		}
	}
	if _, err := r.Exec(ctx, "default", "web", ExecOptions{Container: "../.."}); err == nil || !strings.HasPrefix(err.Error(), "invalid container name") {
		t.Errorf("Exec with container ../.. = %v; want an invalid container name", err)
	}

	for name, data := range files {
		if got, err := os.ReadFile(filepath.Join(canary, name)); err != nil || string(got) != data {
			t.Errorf("canary file %s: %q, %v; want %q", name, got, err, data)
		}
	}
	entries, _ := os.ReadDir(parent)
	for _, e := range entries {
		if !slices.Contains([]string{"canary", "root", "run"}, e.Name()) {
			t.Errorf("%s was made beside the roots", e.Name())
		}
	}
}
