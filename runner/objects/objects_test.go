package objects

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestStore(t *testing.T) {
	dir := t.TempDir()
	s := Open(dir)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "team"}, Data: map[string]string{"a": "1"}}
	for _, want := range []Action{Created, Unchanged} {
		if got, err := s.ConfigMaps.Put(cm); err != nil || got != want {
			t.Fatalf("Put = %s, %v; want %s", got, err, want)
		}
	}
	cm.Data["a"] = "2"
	if got, err := s.ConfigMaps.Put(cm); err != nil || got != Configured {
		t.Fatalf("Put of a change = %s, %v", got, err)
	}
	got, err := s.ConfigMaps.Get("team", "cfg")
	if err != nil || got.Data["a"] != "2" {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	// A pod sees only its own namespace.
	if _, err := s.ConfigMaps.Get("default", "cfg"); !errors.Is(err, ErrNotFound) || err.Error() != `configmap "cfg" not found` {
		t.Errorf("Get from another namespace: %v", err)
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "team"}, Data: map[string][]byte{"k": []byte("v")}}
	if _, err := s.Secrets.Put(sec); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, "secrets", "team", "s.json"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("secret file: %v, %v", info, err)
	}
	objs, names, err := s.Secrets.List("team")
	if err != nil || len(names) != 1 || string(objs["s"].Data["k"]) != "v" {
		t.Errorf("List = %v %v %v", objs, names, err)
	}
	for range 2 {
		if err := s.ConfigMaps.Delete("team", "cfg"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ConfigMaps.Get("team", "cfg"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after Delete: %v", err)
	}
	if _, _, err := s.ConfigMaps.List("nowhere"); err != nil {
		t.Errorf("List of an empty namespace: %v", err)
	}
	if _, err := s.ConfigMaps.Put(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "..", Namespace: "x"}}); err == nil {
		t.Error("Put accepted the name ..")
	}
}

// TestNamesStayInTheStore: no namespace or name reaches outside the
// bucket, for a read, a write or a listing.
func TestNamesStayInTheStore(t *testing.T) {
	dir := t.TempDir()
	s := Open(filepath.Join(dir, "store"))
	if err := os.MkdirAll(filepath.Join(dir, "outside"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", ".", "..", "../outside", "a/b", "a\x00b"} {
		if _, _, err := s.ConfigMaps.List(bad); err == nil {
			t.Errorf("List(%q) succeeded", bad)
		}
		if _, err := s.ConfigMaps.Get(bad, "x"); err == nil {
			t.Errorf("Get(%q, x) succeeded", bad)
		}
		if _, err := s.Secrets.Get("default", bad); err == nil {
			t.Errorf("Get(default, %q) succeeded", bad)
		}
	}
}
