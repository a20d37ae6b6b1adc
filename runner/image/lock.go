package image

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/podrun/podrun/runner/flock"
)

// The store has three kinds of lock, all flock(2):
//
//   - lock, the store lock: every writer (Load, Pull, Remove) holds it
//     shared for as long as it uses tmp; Prune and the cleaning of tmp hold
//     it exclusive, so they never remove what a live writer is making.
//   - index.lock, held exclusive for each read-modify-write of images.json.
//   - locks/HEX, one per layer diffID, held while a writer fetches and
//     unpacks that layer, so that two pulls of one image do the work once.

// share takes the store lock shared, for a writer. When no other writer
// is at work it first cleans tmp of what writers killed half-way left.
func (s *Store) share() (unlock func(), err error) {
	path := filepath.Join(s.Dir, "lock")
	l, err := flock.TryExclusive(path)
	if err == nil {
		if err := s.cleanTmp(); err != nil {
			l.Unlock()
			return nil, err
		}
		if err := l.Share(); err != nil {
			l.Unlock()
			return nil, err
		}
		return func() { l.Unlock() }, nil
	}
	if !errors.Is(err, flock.ErrLocked) {
		return nil, fmt.Errorf("locking the image store: %w", err)
	}
	return lock(path, flock.Shared, "the image store")
}

// exclusive takes the store lock exclusive, waiting for every writer.
func (s *Store) exclusive() (unlock func(), err error) {
	return lock(filepath.Join(s.Dir, "lock"), flock.Exclusive, "the image store")
}

// updateIndex applies fn to images.json under the index lock. The caller
// holds the store lock (shared at least): writeIndex uses tmp.
func (s *Store) updateIndex(fn func(*index) error) error {
	unlock, err := lock(filepath.Join(s.Dir, "index.lock"), flock.Exclusive, "the image index")
	if err != nil {
		return err
	}
	defer unlock()
	idx, err := s.readIndex()
	if err != nil {
		return err
	}
	if err := fn(idx); err != nil {
		return err
	}
	return s.writeIndex(idx)
}

// lockLayer serialises the writers of one layer, across processes.
func (s *Store) lockLayer(diffID v1.Hash) (unlock func(), err error) {
	if err := checkHash(diffID); err != nil {
		return nil, err
	}
	return lock(filepath.Join(s.Dir, "locks", diffID.Algorithm+"-"+diffID.Hex), flock.Exclusive, "layer "+diffID.String())
}

// lock takes the lock at path with take, waiting in the kernel; what names
// the lock in an error.
func lock(path string, take func(context.Context, string) (*flock.Lock, error), what string) (unlock func(), err error) {
	l, err := take(context.Background(), path)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", what, err)
	}
	return func() { l.Unlock() }, nil
}

// checkHash refuses a digest that is not a well-formed sha256 before any
// path is built from it. v1.NewHash checks the form of what it parses;
// this also catches zero values and other algorithms.
func checkHash(h v1.Hash) error {
	if h.Algorithm != "sha256" {
		return fmt.Errorf("digest %q: only sha256 is supported", h.String())
	}
	if _, err := v1.NewHash(h.String()); err != nil {
		return fmt.Errorf("digest %q is malformed: %w", h.String(), err)
	}
	return nil
}
