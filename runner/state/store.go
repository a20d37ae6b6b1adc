package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/podrun/podrun/runner/flock"
)

// File names inside a pod directory.
const (
	stateFile = "state.json"
	lockFile  = "lock"
)

// Store is the directory holding one directory per pod.
type Store struct {
	Dir string
}

// PodDir is one pod's directory, <Store.Dir>/<namespace>_<name>.
type PodDir struct {
	Key
	Dir   string
	store string // Store.Dir: Remove works beneath it
}

// Pod returns the directory of the pod k names; nothing is created.
func (s Store) Pod(k Key) *PodDir {
	return &PodDir{Key: k, Dir: filepath.Join(s.Dir, k.File()), store: s.Dir}
}

// check refuses a PodDir that Store.Pod did not make from a Key.
func (d *PodDir) check() error {
	if d.Key == (Key{}) || d.store == "" {
		return fmt.Errorf("pod directory %q: not made by Store.Pod", d.Dir)
	}
	return nil
}

// Lock creates the pod's directory if needed and takes its lock, waiting
// until ctx is done. Hold it across every change to the pod.
func (d *PodDir) Lock(ctx context.Context) (*flock.Lock, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	for {
		if err := os.MkdirAll(d.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("locking pod %s: %w", d, err)
		}
		l, err := flock.Exclusive(ctx, filepath.Join(d.Dir, lockFile))
		if errors.Is(err, fs.ErrNotExist) {
			continue // the holder removed the pod while we waited
		}
		if err != nil {
			return nil, fmt.Errorf("locking pod %s: %w", d, err)
		}
		return l, nil
	}
}

// Read reads the pod's record. It needs no lock: writes are atomic. A pod
// without a state file is ErrNoState.
func (d *PodDir) Read() (*Pod, error) {
	data, err := os.ReadFile(filepath.Join(d.Dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading pod %s: %w", d, ErrNoState)
	}
	if err != nil {
		return nil, fmt.Errorf("reading pod %s: %w", d, err)
	}
	var p Pod
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("decoding pod %s: %w", d, err)
	}
	if p.Version > Version {
		return nil, fmt.Errorf("reading pod %s: record version %d is newer than this podrun's %d", d, p.Version, Version)
	}
	return &p, nil
}

// Write writes the pod's record atomically. The caller holds the lock.
func (d *PodDir) Write(p *Pod) error {
	if err := d.check(); err != nil {
		return err
	}
	if p.Namespace != d.Namespace() || p.Name != d.Name() {
		return fmt.Errorf("writing pod %s: the record is of pod %s/%s", d, p.Namespace, p.Name)
	}
	p.Version = Version
	if err := os.MkdirAll(d.Dir, 0o700); err != nil {
		return fmt.Errorf("writing pod %s: %w", d, err)
	}
	if err := WriteJSON(filepath.Join(d.Dir, stateFile), p); err != nil {
		return fmt.Errorf("writing pod %s: %w", d, err)
	}
	return nil
}

// Create writes the record of a new pod, failing with ErrExists when the
// pod has one.
func (d *PodDir) Create(ctx context.Context, p *Pod) error {
	l, err := d.Lock(ctx)
	if err != nil {
		return err
	}
	defer l.Unlock()
	if _, err := os.Stat(filepath.Join(d.Dir, stateFile)); err == nil {
		return fmt.Errorf("creating pod %s: %w", d, ErrExists)
	}
	return d.Write(p)
}

// Update locks the pod, reads its record, calls fn on it and writes it
// back if fn succeeds; it returns the record as written. A pod without a
// record is ErrNoState and fn is not called.
func (d *PodDir) Update(ctx context.Context, fn func(*Pod) error) (*Pod, error) {
	l, err := d.Lock(ctx)
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	p, err := d.Read()
	if errors.Is(err, ErrNoState) {
		d.removeIfOnlyLock()
	}
	if err != nil {
		return nil, err
	}
	if err := fn(p); err != nil {
		return nil, fmt.Errorf("updating pod %s: %w", d, err)
	}
	if err := d.Write(p); err != nil {
		return nil, err
	}
	return p, nil
}

// removeIfOnlyLock removes the directory that Lock made for a pod that
// does not exist. The caller holds the lock.
func (d *PodDir) removeIfOnlyLock() {
	entries, err := os.ReadDir(d.Dir)
	if err != nil || len(entries) != 1 || entries[0].Name() != lockFile {
		return
	}
	os.Remove(filepath.Join(d.Dir, lockFile))
	os.Remove(d.Dir)
}

// Remove removes the pod's directory and all in it; a missing one is not
// an error. It works beneath the store's directory (os.Root), so nothing
// outside it can go. The caller holds the lock and must have undone
// everything the directory refers to (mounts under it first of all).
func (d *PodDir) Remove() error {
	if err := d.check(); err != nil {
		return err
	}
	root, err := os.OpenRoot(d.store)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("removing pod %s: %w", d, err)
	}
	defer root.Close()
	// The state file goes first, so that an interrupted removal leaves a
	// directory that List reports as ErrNoState.
	if err := root.Remove(filepath.Join(d.File(), stateFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing pod %s: %w", d, err)
	}
	if err := root.RemoveAll(d.File()); err != nil {
		return fmt.Errorf("removing pod %s: %w", d, err)
	}
	return nil
}

// Entry is one pod directory found by List: its record, or why there is
// none (Err matches ErrNoState for a directory without a state file).
type Entry struct {
	*PodDir
	Pod *Pod
	Err error
}

// List returns every pod directory in the store, in name order, with its
// record or the error reading it. A store that does not exist is empty.
// Files and directories that are not pod directories are skipped.
func (s Store) List() ([]Entry, error) {
	dirents, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing pods: %w", err)
	}
	var entries []Entry
	for _, de := range dirents {
		namespace, name, ok := strings.Cut(de.Name(), "_")
		if !de.IsDir() || !ok {
			continue
		}
		k, err := PodKey(namespace, name)
		if err != nil {
			continue
		}
		d := s.Pod(k)
		p, err := d.Read()
		entries = append(entries, Entry{PodDir: d, Pod: p, Err: err})
	}
	return entries, nil
}
