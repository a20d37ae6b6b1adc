package volume

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podrun/podrun/runner/state"
)

// Store keeps the named volumes that back PersistentVolumeClaims, under
// the data root, so that they outlive pods and reboots:
//
//	<Dir>/<namespace>_<claim>/claim.json   the claim as applied; absent once released
//	<Dir>/<namespace>_<claim>/_data/       the volume's contents (0777)
//
// A claim is bound to the volume of the same namespace and name. Deleting
// the claim releases the volume and keeps its data, as a PersistentVolume
// with the Retain policy does; only Remove deletes data.
type Store struct {
	Dir string
}

// Named is one named volume.
type Named struct {
	Namespace string
	Name      string
	Path      string                        // the data directory
	Claim     *corev1.PersistentVolumeClaim // nil once released
	Created   time.Time
}

// Bound reports whether a claim holds the volume.
func (n *Named) Bound() bool { return n.Claim != nil }

// ProtectionFinalizer keeps a deleted claim while a pod uses it, as the
// API server's kubernetes.io/pvc-protection finalizer does.
const ProtectionFinalizer = "kubernetes.io/pvc-protection"

// Terminating reports whether the claim was deleted while a pod used it:
// it is released once no pod does.
func (n *Named) Terminating() bool { return n.Claim != nil && n.Claim.DeletionTimestamp != nil }

// Status is the claim's state as kubectl shows it: Bound, Terminating, or
// Released once the claim is gone.
func (n *Named) Status() string {
	switch {
	case n.Terminating():
		return "Terminating"
	case n.Bound():
		return "Bound"
	}
	return "Released"
}

// claimKey checks a claim's namespace and name as the API server does:
// the only names whose volume directory stays in the store.
func claimKey(namespace, name string) (state.Key, error) {
	return state.NewKey("persistentvolumeclaim", namespace, name)
}

func (s *Store) dir(k state.Key) string { return filepath.Join(s.Dir, k.File()) }

// Bind records claim and makes its volume, or binds the claim to the
// volume already there, data and all. It reports whether the volume is new.
func (s *Store) Bind(claim *corev1.PersistentVolumeClaim) (bool, error) {
	k, err := claimKey(claim.Namespace, claim.Name)
	if err != nil {
		return false, err
	}
	dir := s.dir(k)
	data := filepath.Join(dir, "_data")
	_, err = os.Stat(data)
	created := errors.Is(err, fs.ErrNotExist)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("creating volume %s/%s: %w", claim.Namespace, claim.Name, err)
	}
	if created {
		if err := os.Mkdir(data, 0o777); err != nil && !errors.Is(err, fs.ErrExist) {
			return false, fmt.Errorf("creating volume %s/%s: %w", claim.Namespace, claim.Name, err)
		}
		if err := os.Chmod(data, 0o777); err != nil {
			return false, err
		}
	}
	if old, err := s.read(k.File()); err == nil && old.Terminating() {
		// An apply does not undo a deletion: the claim stays Terminating.
		claim = claim.DeepCopy()
		claim.DeletionTimestamp, claim.Finalizers = old.Claim.DeletionTimestamp, old.Claim.Finalizers
	}
	if err := s.writeClaim(dir, claim); err != nil {
		return false, err
	}
	return created, nil
}

func (s *Store) writeClaim(dir string, claim *corev1.PersistentVolumeClaim) error {
	b, err := json.Marshal(claim)
	if err != nil {
		return err
	}
	if err := state.WriteFile(filepath.Join(dir, "claim.json"), b, 0o600); err != nil {
		return fmt.Errorf("recording claim %s/%s: %w", claim.Namespace, claim.Name, err)
	}
	return nil
}

// MarkTerminating records the claim namespace/name deleted at now while
// pods still use it: it stays bound, Terminating, until Release. A claim
// that is not there is left alone.
func (s *Store) MarkTerminating(namespace, name string, now time.Time) error {
	k, err := claimKey(namespace, name)
	if err != nil {
		return err
	}
	n, err := s.read(k.File())
	if err != nil || !n.Bound() || n.Terminating() {
		return nil
	}
	c := n.Claim
	c.DeletionTimestamp = &metav1.Time{Time: now}
	if !slices.Contains(c.Finalizers, ProtectionFinalizer) {
		c.Finalizers = append(c.Finalizers, ProtectionFinalizer)
	}
	return s.writeClaim(s.dir(k), c)
}

// Release forgets the claim namespace/name and keeps its data. Releasing
// a claim that is not there succeeds.
func (s *Store) Release(namespace, name string) error {
	k, err := claimKey(namespace, name)
	if err != nil {
		return err
	}
	err = os.Remove(filepath.Join(s.dir(k), "claim.json"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("releasing claim %s/%s: %w", namespace, name, err)
	}
	return nil
}

// Binding is the volume Bind would bind claim to, at the path Bind
// would use, and nothing is made or recorded: what render names. A claim
// deleted while in use stays Terminating, as Bind keeps it.
func (s *Store) Binding(claim *corev1.PersistentVolumeClaim) (*Named, error) {
	k, err := claimKey(claim.Namespace, claim.Name)
	if err != nil {
		return nil, err
	}
	n := &Named{Namespace: claim.Namespace, Name: claim.Name, Path: filepath.Join(s.dir(k), "_data"), Claim: claim}
	if old, err := s.read(k.File()); err == nil && old.Terminating() {
		n.Claim = old.Claim
	}
	return n, nil
}

// Get returns the volume bound to claim namespace/name; an error matching
// ErrNotFound when no such claim was applied.
func (s *Store) Get(namespace, name string) (*Named, error) {
	n, err := s.Claimed(namespace, name)
	if err != nil {
		return nil, err
	}
	if !n.Bound() {
		return nil, fmt.Errorf("persistentvolumeclaim %q: %w", name, ErrNotFound)
	}
	return n, nil
}

// Claimed returns the volume of claim name in namespace, bound or released.
func (s *Store) Claimed(namespace, name string) (*Named, error) {
	k, err := claimKey(namespace, name)
	if err != nil {
		return nil, err
	}
	return s.read(k.File())
}

func (s *Store) read(base string) (*Named, error) {
	dir := filepath.Join(s.Dir, base)
	ns, name, ok := strings.Cut(base, "_")
	info, err := os.Stat(filepath.Join(dir, "_data"))
	if !ok || err != nil {
		return nil, fmt.Errorf("volume %s: %w", strings.Replace(base, "_", "/", 1), ErrNotFound)
	}
	n := &Named{Namespace: ns, Name: name, Path: filepath.Join(dir, "_data"), Created: info.ModTime()}
	b, err := os.ReadFile(filepath.Join(dir, "claim.json"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return n, nil
	case err != nil:
		return nil, err
	}
	var c corev1.PersistentVolumeClaim
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("reading claim of volume %s/%s: %w", ns, name, err)
	}
	n.Claim = &c
	return n, nil
}

// List returns every named volume, sorted by namespace and name.
func (s *Store) List() ([]*Named, error) {
	entries, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing volumes: %w", err)
	}
	var out []*Named
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if n, err := s.read(e.Name()); err == nil {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// Remove deletes the volume namespace/name and its data. The caller
// checks that no pod uses it. Removing a volume that is gone succeeds.
// It works beneath Dir (os.Root), so nothing outside the store can go.
func (s *Store) Remove(namespace, name string) error {
	k, err := claimKey(namespace, name)
	if err != nil {
		return err
	}
	root, err := os.OpenRoot(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("removing volume %s: %w", k, err)
	}
	defer root.Close()
	// Rename first, so that a crash half-way leaves no half-volume that a
	// claim could bind to.
	trash := ".trash-" + k.File()
	if err := root.Rename(k.File(), trash); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing volume %s: %w", k, err)
	}
	if err := root.RemoveAll(trash); err != nil {
		return fmt.Errorf("removing volume %s: %w", k, err)
	}
	return nil
}
