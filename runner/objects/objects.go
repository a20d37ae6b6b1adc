// Package objects keeps the objects that podrun has applied besides pods
// and claims: the ConfigMaps and Secrets that pods applied now or later
// read, as the API server keeps them for a kubelet, and the kinds podrun
// keeps without running them (ServiceAccounts, RBAC, custom resources,
// ...), which `get` lists and admission reads.
//
// Each object is one JSON file, <dir>/<resource>/<namespace>/<name>.json,
// where <resource> is the plural with its group ("configmaps",
// "roles.rbac.authorization.k8s.io"); cluster-scoped objects are in
// <dir>/<resource>/_cluster/, which no namespace can be named (a
// namespace is a DNS label). Files are written atomically (temp file,
// fsync, rename). The store lives under
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
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/podrun/podrun/runner/state"
)

// ErrNotFound is returned by Get for an object that is not stored.
var ErrNotFound = errors.New("not found")

// Store holds the stored objects of every namespace. Its typed buckets
// are those podrun reads; Resource opens any kind's.
type Store struct {
	dir        string
	ConfigMaps Bucket[corev1.ConfigMap]
	Secrets    Bucket[corev1.Secret]
	// ServiceAccounts, LimitRanges and ResourceQuotas are read when pods
	// are admitted.
	ServiceAccounts Bucket[corev1.ServiceAccount]
	LimitRanges     Bucket[corev1.LimitRange]
	ResourceQuotas  Bucket[corev1.ResourceQuota]
	// Definitions serve the custom resources of later applies.
	Definitions Bucket[apiextv1.CustomResourceDefinition]
	// Services, with the Endpoints and EndpointSlices computed for them
	// from the pods they select, are read by the service proxy and the
	// pods' DNS resolvers.
	Services       Bucket[corev1.Service]
	Endpoints      Bucket[corev1.Endpoints]
	EndpointSlices Bucket[discoveryv1.EndpointSlice]
}

// Open returns the store under dir; nothing is created until a Put.
func Open(dir string) *Store {
	return &Store{
		dir:             dir,
		ConfigMaps:      Bucket[corev1.ConfigMap]{dir: filepath.Join(dir, "configmaps"), kind: "configmap", mode: 0o644},
		Secrets:         Bucket[corev1.Secret]{dir: filepath.Join(dir, "secrets"), kind: "secret", mode: 0o600},
		ServiceAccounts: Bucket[corev1.ServiceAccount]{dir: filepath.Join(dir, "serviceaccounts"), kind: "serviceaccount", mode: 0o644},
		LimitRanges:     Bucket[corev1.LimitRange]{dir: filepath.Join(dir, "limitranges"), kind: "limitrange", mode: 0o644},
		ResourceQuotas:  Bucket[corev1.ResourceQuota]{dir: filepath.Join(dir, "resourcequotas"), kind: "resourcequota", mode: 0o644},
		Definitions: Bucket[apiextv1.CustomResourceDefinition]{dir: filepath.Join(dir, "customresourcedefinitions.apiextensions.k8s.io"),
			kind: "customresourcedefinition", mode: 0o644, cluster: true},
		Services:       Bucket[corev1.Service]{dir: filepath.Join(dir, "services"), kind: "service", mode: 0o644},
		Endpoints:      Bucket[corev1.Endpoints]{dir: filepath.Join(dir, "endpoints"), kind: "endpoints", mode: 0o644},
		EndpointSlices: Bucket[discoveryv1.EndpointSlice]{dir: filepath.Join(dir, "endpointslices.discovery.k8s.io"), kind: "endpointslice", mode: 0o644},
	}
}

// Resource is the bucket of any kind, its objects as unstructured ones:
// resource is its plural and group ("roles.rbac.authorization.k8s.io"),
// kind its name in messages ("role"). A bucket holds the objects of one
// scope: a namespaced kind's are in namespaces, a cluster-scoped kind's
// in none.
func (s *Store) Resource(resource, kind string, namespaced bool) Bucket[unstructured.Unstructured] {
	mode := fs.FileMode(0o644)
	if resource == "secrets" {
		mode = 0o600
	}
	return Bucket[unstructured.Unstructured]{dir: filepath.Join(s.dir, resource), kind: kind, mode: mode, cluster: !namespaced}
}

// DropResource deletes every stored object of a resource, as the API
// server does with the custom resources of a definition it deletes.
func (s *Store) DropResource(resource string) error {
	if err := (Bucket[unstructured.Unstructured]{kind: "resource"}).check(resource); err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(s.dir, resource)); err != nil {
		return fmt.Errorf("deleting the stored %s: %w", resource, err)
	}
	return nil
}

// Bucket holds the objects of one kind.
type Bucket[T any] struct {
	dir  string
	kind string // as the kubelet names it in messages: "configmap"
	mode fs.FileMode
	// cluster says the kind is cluster-scoped: its objects have no
	// namespace and live in clusterDir.
	cluster bool
}

// clusterDir holds the objects of a cluster-scoped kind: it is no DNS
// label, so no namespace has its name.
const clusterDir = "_cluster"

// Action says what Put did, in kubectl's words.
type Action string

const (
	Created    Action = "created"
	Configured Action = "configured"
	Unchanged  Action = "unchanged"
)

func (b Bucket[T]) path(namespace, name string) (string, error) {
	dir, err := b.nsDir(namespace)
	if err != nil {
		return "", err
	}
	if err := b.check(name); err != nil {
		return "", err
	}
	return filepath.Join(dir, name+".json"), nil
}

// nsDir is the directory of a namespace's objects; that of a
// cluster-scoped kind's takes the namespace "".
func (b Bucket[T]) nsDir(namespace string) (string, error) {
	if b.cluster {
		if namespace != "" {
			return "", fmt.Errorf("storing a %s: it is cluster-scoped, and has no namespace (got %q)", b.kind, namespace)
		}
		return filepath.Join(b.dir, clusterDir), nil
	}
	if err := b.check(namespace); err != nil {
		return "", err
	}
	return filepath.Join(b.dir, namespace), nil
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
// It sets obj's creationTimestamp, as the API server does: now for a new
// object, that of the object it replaces otherwise.
func (b Bucket[T]) Put(obj *T) (Action, error) {
	meta, ok := any(obj).(metav1.Object)
	if !ok {
		return "", fmt.Errorf("storing a %s: %T has no metadata", b.kind, obj)
	}
	p, err := b.path(meta.GetNamespace(), meta.GetName())
	if err != nil {
		return "", err
	}
	old, err := os.ReadFile(p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("reading %s %s/%s: %w", b.kind, meta.GetNamespace(), meta.GetName(), err)
	}
	meta.SetCreationTimestamp(created(old))
	data, err := json.Marshal(obj)
	if err != nil {
		return "", fmt.Errorf("encoding %s %s/%s: %w", b.kind, meta.GetNamespace(), meta.GetName(), err)
	}
	if old != nil && string(old) == string(data) {
		return Unchanged, nil
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

// created is the creationTimestamp of the stored object old, or now when
// there is none.
func created(old []byte) metav1.Time {
	var m struct {
		Metadata struct {
			CreationTimestamp metav1.Time `json:"creationTimestamp"`
		} `json:"metadata"`
	}
	if old != nil && json.Unmarshal(old, &m) == nil && !m.Metadata.CreationTimestamp.IsZero() {
		return m.Metadata.CreationTimestamp
	}
	return metav1.NewTime(time.Now().Truncate(time.Second))
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

// List returns the objects of a namespace by name, sorted; those of a
// cluster-scoped kind are in the namespace "".
func (b Bucket[T]) List(namespace string) (map[string]*T, []string, error) {
	dir, err := b.nsDir(namespace)
	if err != nil {
		return nil, nil, err
	}
	entries, err := os.ReadDir(dir)
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

// Items returns the objects of a namespace sorted by name: those of a
// cluster-scoped kind with the namespace "".
func (b Bucket[T]) Items(namespace string) ([]*T, error) {
	objs, names, err := b.List(namespace)
	if err != nil {
		return nil, err
	}
	items := make([]*T, len(names))
	for i, n := range names {
		items[i] = objs[n]
	}
	return items, nil
}

// All returns the objects of every namespace, sorted by namespace then
// name.
func (b Bucket[T]) All() ([]*T, error) {
	if b.cluster {
		return b.Items("")
	}
	entries, err := os.ReadDir(b.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %ss: %w", b.kind, err)
	}
	var all []*T
	for _, e := range entries {
		if !e.IsDir() || e.Name() == clusterDir {
			continue
		}
		items, err := b.Items(e.Name())
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
	}
	return all, nil
}

// Dir is the directory holding the bucket's objects, one directory per
// namespace: a reader that caches them watches its modification times.
func (b Bucket[T]) Dir() string { return b.dir }
