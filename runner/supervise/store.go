package supervise

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/podrun/podrun/runner/flock"
	"github.com/podrun/podrun/runner/state"
)

// File names inside a workload's directory.
const (
	ObjectFile = "object.json"    // the desired object as applied
	RecordFile = "state.json"     // Record: supervisor, status, events
	LogFile    = "supervisor.log" // the supervisor's stdout and stderr
	lockFile   = "lock"
	ownedDir   = "owned" // objects the workload owns: owned/<kind>_<name>.json
)

// Key names one workload: its kind, as a lower-case resource name
// ("deployment", "job"), its namespace and its name.
type Key struct {
	Kind string
	key  state.Key
}

var kindPattern = regexp.MustCompile(`^[a-z][a-z0-9]{0,62}$`)

// NewKey checks kind, namespace and name and returns their Key. The kind
// is one lower-case word; namespace and name are checked as the API
// server checks them, so the key names a path inside the store.
func NewKey(kind, namespace, name string) (Key, error) {
	if !kindPattern.MatchString(kind) {
		return Key{}, fmt.Errorf("invalid workload kind %q: want a lower-case word such as \"deployment\"", kind)
	}
	k, err := state.NewKey(kind, namespace, name)
	if err != nil {
		return Key{}, err
	}
	return Key{Kind: kind, key: k}, nil
}

// Namespace is the workload's namespace.
func (k Key) Namespace() string { return k.key.Namespace() }

// Name is the workload's name.
func (k Key) Name() string { return k.key.Name() }

// String is "<kind>/<namespace>/<name>".
func (k Key) String() string { return k.Kind + "/" + k.key.String() }

// Store is the directory holding every workload: <Dir>/<kind>/<namespace>_<name>/.
type Store struct {
	Dir string
}

// Dir is one workload's directory.
type Dir struct {
	Key
	Path  string
	store string
}

// Workload returns the directory of workload k; nothing is created.
func (s Store) Workload(k Key) *Dir {
	return &Dir{Key: k, Path: filepath.Join(s.Dir, k.Kind, k.key.File()), store: s.Dir}
}

// List returns the key of every workload directory, kind by kind, in name
// order. A missing store is empty; entries that name no workload are
// skipped.
func (s Store) List() ([]Key, error) {
	kinds, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing workloads: %w", err)
	}
	var keys []Key
	for _, kd := range kinds {
		if !kd.IsDir() {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(s.Dir, kd.Name()))
		if err != nil {
			continue
		}
		for _, e := range entries {
			ns, name, ok := strings.Cut(e.Name(), "_")
			if !e.IsDir() || !ok {
				continue
			}
			if k, err := NewKey(kd.Name(), ns, name); err == nil {
				keys = append(keys, k)
			}
		}
	}
	return keys, nil
}

// Record is what a workload's directory says of its supervisor and of the
// workload's status. It is written under the workload's lock, atomically.
type Record struct {
	// Supervisor is the supervisor process, zero when none was started.
	Supervisor state.Process `json:"supervisor,omitzero"`
	// Args is the supervisor's command line after the binary, as the
	// last apply chose it (its roots, network and pull options), so that
	// a supervisor restarted by another command starts pods the same way.
	Args []string `json:"args,omitempty"`
	// Starts counts the supervisors started for the workload: more than
	// one means one was lost and restarted.
	Starts int `json:"starts,omitempty"`
	// Deleting is when delete began: no supervisor is started again.
	Deleting time.Time `json:"deleting,omitzero"`
	// Status is the workload's status as its controller last recorded it.
	Status json.RawMessage `json:"status,omitempty"`
	// Synced is when the controller last finished a step.
	Synced time.Time `json:"synced,omitzero"`
	// Events are what a controller would post about the workload.
	Events []state.Event `json:"events,omitempty"`
}

// MaxEvents bounds the events a workload keeps; the oldest go first.
const MaxEvents = 100

// AddEvent records an event at now, counting one that repeats the last.
func (r *Record) AddEvent(now time.Time, typ, reason, message string) {
	if n := len(r.Events); n > 0 {
		e := &r.Events[n-1]
		if e.Type == typ && e.Reason == reason && e.Message == message {
			e.Count++
			e.LastTime = now
			return
		}
	}
	r.Events = append(r.Events, state.Event{Type: typ, Reason: reason, Message: message, Count: 1, FirstTime: now, LastTime: now})
	if n := len(r.Events) - MaxEvents; n > 0 {
		r.Events = append(r.Events[:0], r.Events[n:]...)
	}
}

// Create makes the workload's directory, for a first apply.
func (d *Dir) Create() error {
	if err := os.MkdirAll(d.Path, 0o700); err != nil {
		return fmt.Errorf("creating workload %s: %w", d.Key, err)
	}
	return nil
}

// Lock takes the workload's lock, waiting until ctx is done. A workload
// without a directory is ErrNotFound: only Create makes one. Hold the lock
// while acting on the workload, never while waiting for something else.
func (d *Dir) Lock(ctx context.Context) (*flock.Lock, error) {
	if _, err := os.Stat(d.Path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("workload %s: %w", d.Key, ErrNotFound)
	}
	l, err := flock.Exclusive(ctx, filepath.Join(d.Path, lockFile))
	if errors.Is(err, fs.ErrNotExist) { // removed while we waited
		return nil, fmt.Errorf("workload %s: %w", d.Key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("locking workload %s: %w", d.Key, err)
	}
	return l, nil
}

// ReadObject reads the object as applied, as JSON. No lock is needed:
// writes are atomic. A workload without one is ErrNotFound.
func (d *Dir) ReadObject() ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(d.Path, ObjectFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("workload %s: %w", d.Key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading workload %s: %w", d.Key, err)
	}
	return data, nil
}

// WriteObject writes the object as applied, atomically. The caller holds
// the lock.
func (d *Dir) WriteObject(data []byte) error {
	if err := state.WriteFile(filepath.Join(d.Path, ObjectFile), data, 0o600); err != nil {
		return fmt.Errorf("writing workload %s: %w", d.Key, err)
	}
	return nil
}

// Read reads the workload's record; a directory without one has the zero
// Record. No lock is needed.
func (d *Dir) Read() (*Record, error) {
	var rec Record
	data, err := os.ReadFile(filepath.Join(d.Path, RecordFile))
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(d.Path); errors.Is(serr, fs.ErrNotExist) {
			return nil, fmt.Errorf("workload %s: %w", d.Key, ErrNotFound)
		}
		return &rec, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading workload %s: %w", d.Key, err)
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("decoding workload %s: %w", d.Key, err)
	}
	return &rec, nil
}

// Write writes the record atomically. The caller holds the lock.
func (d *Dir) Write(rec *Record) error {
	if err := state.WriteJSON(filepath.Join(d.Path, RecordFile), rec); err != nil {
		return fmt.Errorf("writing workload %s: %w", d.Key, err)
	}
	return nil
}

// Update locks the workload, reads its record, calls fn on it and writes
// it back if fn succeeds.
func (d *Dir) Update(ctx context.Context, fn func(*Record) error) (*Record, error) {
	l, err := d.Lock(ctx)
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	rec, err := d.Read()
	if err != nil {
		return nil, err
	}
	if err := fn(rec); err != nil {
		return nil, err
	}
	return rec, d.Write(rec)
}

// Remove removes the workload's directory and all in it; a missing one is
// not an error. The record goes first, then the object, so that an
// interrupted removal leaves a directory that reads as not found. It
// works beneath the store (os.Root). The caller holds the lock.
func (d *Dir) Remove() error {
	root, err := os.OpenRoot(d.store)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("removing workload %s: %w", d.Key, err)
	}
	defer root.Close()
	rel := filepath.Join(d.Kind, d.key.File())
	for _, f := range []string{ObjectFile, RecordFile} {
		if err := root.Remove(filepath.Join(rel, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing workload %s: %w", d.Key, err)
		}
	}
	if err := root.RemoveAll(rel); err != nil {
		return fmt.Errorf("removing workload %s: %w", d.Key, err)
	}
	return nil
}
