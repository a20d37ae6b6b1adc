package state

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// key is PodKey for names a test knows to be valid.
func key(t testing.TB, namespace, name string) Key {
	t.Helper()
	k, err := PodKey(namespace, name)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestPodKey(t *testing.T) {
	tests := []struct {
		namespace, name string
		err             string // part of the error; "" for none
	}{
		{"default", "web", ""},
		{"default", "web.example-1", ""},
		{"a", "0", ""},
		{"default", strings.Repeat("a", 253), ""},
		{strings.Repeat("n", 63), "web", ""},
		{"default", "", `invalid pod name ""`},
		{"default", ".", `invalid pod name "."`},
		{"default", "..", `invalid pod name ".."`},
		{"default", "../../x", `invalid pod name "../../x": a lowercase RFC 1123 subdomain must consist of`},
		{"default", "/etc", `invalid pod name "/etc"`},
		{"default", "a/b", `invalid pod name "a/b"`},
		{"default", "a_b", `invalid pod name "a_b"`},
		{"default", "Web", `invalid pod name "Web"`},
		{"default", "web\x00", `invalid pod name "web\x00"`},
		{"default", "web\n", `invalid pod name "web\n"`},
		{"default", "-web", `invalid pod name "-web"`},
		{"default", strings.Repeat("a", 254), "must be no more than 253 characters"},
		{"", "web", `invalid namespace ""`},
		{"..", "web", `invalid namespace ".."`},
		{"../..", "web", `invalid namespace "../..": a lowercase RFC 1123 label must consist of`},
		{"a.b", "web", `invalid namespace "a.b"`},
		{"a_b", "web", `invalid namespace "a_b"`},
		{"Default", "web", `invalid namespace "Default"`},
		{strings.Repeat("n", 64), "web", "must be no more than 63 characters"},
	}
	for _, tt := range tests {
		k, err := PodKey(tt.namespace, tt.name)
		if tt.err == "" {
			if err != nil {
				t.Errorf("PodKey(%q, %q): %v", tt.namespace, tt.name, err)
			} else if k.File() != tt.namespace+"_"+tt.name || filepath.Base(k.File()) != k.File() {
				t.Errorf("PodKey(%q, %q).File() = %q", tt.namespace, tt.name, k.File())
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("PodKey(%q, %q) = %v, %v; want an error with %q", tt.namespace, tt.name, k, err, tt.err)
		}
		if k != (Key{}) {
			t.Errorf("PodKey(%q, %q) returned key %v with its error", tt.namespace, tt.name, k)
		}
	}
}

func TestCheckContainerName(t *testing.T) {
	for name, ok := range map[string]bool{
		"web": true, "a-1": true, strings.Repeat("c", 63): true,
		"": false, "..": false, "../..": false, "a.b": false, "Web": false, "a/b": false, strings.Repeat("c", 64): false,
	} {
		err := CheckContainerName(name)
		if (err == nil) != ok {
			t.Errorf("CheckContainerName(%q) = %v", name, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "invalid container name ") {
			t.Errorf("CheckContainerName(%q) = %v; want it to say what is invalid", name, err)
		}
	}
}

// TestPodDirStaysInStore checks that every path a PodDir makes, and
// everything Remove removes, lies in the store, whatever the Key.
func TestPodDirStaysInStore(t *testing.T) {
	parent := t.TempDir()
	s := Store{Dir: filepath.Join(parent, "pods")}
	canary := filepath.Join(parent, "canary")
	os.MkdirAll(canary, 0o700)
	os.WriteFile(filepath.Join(canary, stateFile), []byte("garbage"), 0o600)

	for _, d := range []*PodDir{s.Pod(Key{}), s.Pod(key(t, "default", "web"))} {
		if filepath.Dir(d.Dir) != s.Dir {
			t.Errorf("pod %v: directory %s is not in the store", d.Key, d.Dir)
		}
	}
	// A PodDir not made by Store.Pod is refused, not followed.
	for _, d := range []*PodDir{{Dir: canary}, {Dir: canary, store: s.Dir}, s.Pod(Key{})} {
		if err := d.Remove(); err == nil {
			t.Errorf("Remove of PodDir %+v succeeded", d)
		}
		if _, err := d.Lock(context.Background()); err == nil {
			t.Errorf("Lock of PodDir %+v succeeded", d)
		}
	}
	// Remove goes by the key, beneath the store, not by Dir.
	d := s.Pod(key(t, "default", "web"))
	d.Dir = canary
	if err := d.Remove(); err != nil {
		t.Errorf("removing a pod that is not there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(canary, stateFile)); err != nil {
		t.Errorf("the canary beside the store is gone: %v", err)
	}
}
