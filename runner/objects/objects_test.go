package objects

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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

// TestResourceScopes: a namespaced kind's objects are in namespaces, a
// cluster-scoped kind's in a directory no namespace can be named; the
// typed buckets read what the generic ones store.
func TestResourceScopes(t *testing.T) {
	dir := t.TempDir()
	s := Open(dir)
	sa := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ServiceAccount",
		"metadata": map[string]any{"name": "robot", "namespace": "team"}}}
	sas := s.Resource("serviceaccounts", "serviceaccount", true)
	if a, err := sas.Put(sa); err != nil || a != Created {
		t.Fatalf("Put = %s, %v", a, err)
	}
	typed, err := s.ServiceAccounts.Items("team")
	if err != nil || len(typed) != 1 || typed[0].Name != "robot" || typed[0].CreationTimestamp.IsZero() {
		t.Fatalf("ServiceAccounts.Items = %+v, %v", typed, err)
	}
	roles := s.Resource("clusterroles.rbac.authorization.k8s.io", "clusterrole", false)
	role := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
		"metadata": map[string]any{"name": "reader"}}}
	if _, err := roles.Put(role); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "clusterroles.rbac.authorization.k8s.io", "_cluster", "reader.json")); err != nil {
		t.Errorf("cluster-scoped file: %v", err)
	}
	role.SetNamespace("team")
	if _, err := roles.Put(role); err == nil || !strings.Contains(err.Error(), "cluster-scoped") {
		t.Errorf("Put of a cluster-scoped object with a namespace: %v", err)
	}
	if _, err := sas.Put(&unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ServiceAccount",
		"metadata": map[string]any{"name": "x"}}}); err == nil {
		t.Error("Put of a namespaced object without a namespace succeeded")
	}
	all, err := roles.All()
	if err != nil || len(all) != 1 || all[0].GetName() != "reader" {
		t.Errorf("All of a cluster-scoped kind = %v, %v", all, err)
	}
	if _, err := sas.Put(sa.DeepCopy()); err != nil { // robot again: unchanged
		t.Fatal(err)
	}
	other := sa.DeepCopy()
	other.SetNamespace("a")
	if _, err := sas.Put(other); err != nil {
		t.Fatal(err)
	}
	all, err = sas.All()
	if err != nil || len(all) != 2 || all[0].GetNamespace() != "a" || all[1].GetNamespace() != "team" {
		t.Errorf("All = %v, %v", all, err)
	}
	if err := s.DropResource("serviceaccounts"); err != nil {
		t.Fatal(err)
	}
	if all, err := sas.All(); err != nil || len(all) != 0 {
		t.Errorf("All after DropResource = %v, %v", all, err)
	}
	if err := s.DropResource(".."); err == nil {
		t.Error("DropResource(..) succeeded")
	}
}

// TestPutKeepsCreationTimestamp: a change keeps the time the object was
// created, so that an unchanged object is unchanged and AGE counts from
// the first apply.
func TestPutKeepsCreationTimestamp(t *testing.T) {
	s := Open(t.TempDir())
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "team"}, Data: map[string]string{"a": "1"}}
	if _, err := s.ConfigMaps.Put(cm); err != nil {
		t.Fatal(err)
	}
	first, err := s.ConfigMaps.Get("team", "cfg")
	if err != nil || first.CreationTimestamp.IsZero() {
		t.Fatalf("Get = %+v, %v", first, err)
	}
	again := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "team"}, Data: map[string]string{"a": "1"}}
	if a, err := s.ConfigMaps.Put(again); err != nil || a != Unchanged {
		t.Errorf("Put of the same object = %s, %v", a, err)
	}
	again.Data["a"] = "2"
	if a, err := s.ConfigMaps.Put(again); err != nil || a != Configured {
		t.Errorf("Put of a change = %s, %v", a, err)
	}
	if got, _ := s.ConfigMaps.Get("team", "cfg"); !got.CreationTimestamp.Equal(&first.CreationTimestamp) {
		t.Errorf("creationTimestamp %v, was %v", got.CreationTimestamp, first.CreationTimestamp)
	}
}
