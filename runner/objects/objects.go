// Package objects keeps the ConfigMaps and Secrets that podrun has
// applied, so that pods applied now or later can read them, as the API
// server keeps them for a kubelet.
//
// Each object is one JSON file, <dir>/<kind>/<namespace>/<name>.json,
// written atomically (temp file, fsync, rename). The store lives under
// --run-root (tmpfs on most machines), so Secrets never reach a disk that
// survives a reboot; ConfigMaps live beside them, with the pods that read
// them. Secret files are readable by their owner only.
//
// Package objects prints nothing.
package objects

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podrun/podrun/runner/state"
)

// ErrNotFound is returned by Get for an object that is not stored.
var ErrNotFound = errors.New("not found")

// Store holds the ConfigMaps and Secrets of every namespace.
type Store struct {
	ConfigMaps Bucket[corev1.ConfigMap]
	Secrets    Bucket[corev1.Secret]
}

// Open returns the store under dir; nothing is created until a Put.
func Open(dir string) *Store {
	return &Store{
		ConfigMaps: Bucket[corev1.ConfigMap]{dir: filepath.Join(dir, "configmaps"), kind: "configmap", mode: 0o644},
		Secrets:    Bucket[corev1.Secret]{dir: filepath.Join(dir, "secrets"), kind: "secret", mode: 0o600},
	}
}

// Bucket holds the objects of one kind.
type Bucket[T any] struct {
	dir  string
	kind string // as the kubelet names it in messages: "configmap"
	mode fs.FileMode
}

// Action says what Put did, in kubectl's words.
type Action string

const (
	Created    Action = "created"
	Configured Action = "configured"
	Unchanged  Action = "unchanged"
)

func (b Bucket[T]) path(namespace, name string) (string, error) {
	if err := b.check(namespace, name); err != nil {
		return "", err
	}
	return filepath.Join(b.dir, namespace, name+".json"), nil
}

// check refuses a namespace or name that is not one path element, before
// any path is made of it.
func (b Bucket[T]) check(parts ...string) error {
	for _, part := range parts {
		if part == "" || part == "." || part == ".." || strings.ContainsAny(part, "/\x00") {
			return fmt.Errorf("storing a %s: invalid namespace or name %q", b.kind, part)
		}
	}
	return nil
}

// Put stores obj under its namespace and name, replacing what was there.
func (b Bucket[T]) Put(obj *T) (Action, error) {
	meta, ok := any(obj).(metav1.Object)
	if !ok {
		return "", fmt.Errorf("storing a %s: %T has no metadata", b.kind, obj)
	}
	p, err := b.path(meta.GetNamespace(), meta.GetName())
	if err != nil {
		return "", err
	}
	data, err := json.Marshal(obj)
	if err != nil {
		return "", fmt.Errorf("encoding %s %s/%s: %w", b.kind, meta.GetNamespace(), meta.GetName(), err)
	}
	old, err := os.ReadFile(p)
	switch {
	case err == nil && string(old) == string(data):
		return Unchanged, nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("reading %s %s/%s: %w", b.kind, meta.GetNamespace(), meta.GetName(), err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", fmt.Errorf("storing %s %s/%s: %w", b.kind, meta.GetNamespace(), meta.GetName(), err)
	}
	if err := state.WriteFile(p, data, b.mode); err != nil {
		return "", fmt.Errorf("storing %s %s/%s: %w", b.kind, meta.GetNamespace(), meta.GetName(), err)
	}
	if old != nil {
		return Configured, nil
	}
	return Created, nil
}

// Get reads one object; ErrNotFound, in the kubelet's words (`configmap
// "x" not found`), when it is not stored.
func (b Bucket[T]) Get(namespace, name string) (*T, error) {
	p, err := b.path(namespace, name)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s %q %w", b.kind, name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s %s/%s: %w", b.kind, namespace, name, err)
	}
	obj := new(T)
	if err := json.Unmarshal(data, obj); err != nil {
		return nil, fmt.Errorf("decoding %s %s/%s from %s: %w", b.kind, namespace, name, p, err)
	}
	return obj, nil
}

// Delete removes one object; deleting what is not there succeeds.
func (b Bucket[T]) Delete(namespace, name string) error {
	p, err := b.path(namespace, name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("deleting %s %s/%s: %w", b.kind, namespace, name, err)
	}
	return nil
}

// List returns the objects of a namespace by name, sorted.
func (b Bucket[T]) List(namespace string) (map[string]*T, []string, error) {
	if err := b.check(namespace); err != nil {
		return nil, nil, err
	}
	entries, err := os.ReadDir(filepath.Join(b.dir, namespace))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]*T{}, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("listing %ss of namespace %s: %w", b.kind, namespace, err)
	}
	objs := map[string]*T{}
	var names []string
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.HasPrefix(name, ".") {
			continue // temp files of a write in progress
		}
		obj, err := b.Get(namespace, name)
		if err != nil {
			return nil, nil, err
		}
		objs[name] = obj
		names = append(names, name)
	}
	sort.Strings(names)
	return objs, names, nil
}
