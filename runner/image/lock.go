package image

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
)

// The store has three kinds of lock, all flock(2):
//
//   - lock, the store lock: every writer (Load, Pull, Remove) holds it
//     shared for as long as it uses tmp; Prune and the cleaning of tmp hold
//     it exclusive, so they never remove what a live writer is making.
//   - index.lock, held exclusive for each read-modify-write of images.json.
//   - locks/HEX, one per layer diffID, held while a writer fetches and
//     unpacks that layer, so that two pulls of one image do the work once.

// flock opens path, creating it, and takes the lock how, retrying EINTR.
func flock(path string, how int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	if err := flockFile(f, how); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return f, nil
}

func flockFile(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// share takes the store lock shared, for a writer. When no other writer
// is at work it first cleans tmp of what writers killed half-way left.
func (s *Store) share() (unlock func(), err error) {
	path := filepath.Join(s.Dir, "lock")
	f, err := flock(path, unix.LOCK_EX|unix.LOCK_NB)
	if err == nil {
		if err := s.cleanTmp(); err != nil {
			f.Close()
			return nil, err
		}
		if err := flockFile(f, unix.LOCK_SH); err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		return func() { f.Close() }, nil
	}
	if !errors.Is(err, unix.EWOULDBLOCK) {
		return nil, fmt.Errorf("locking the image store: %w", err)
	}
	f, err = flock(path, unix.LOCK_SH)
	if err != nil {
		return nil, fmt.Errorf("locking the image store: %w", err)
	}
	return func() { f.Close() }, nil
}

// exclusive takes the store lock exclusive, waiting for every writer.
func (s *Store) exclusive() (unlock func(), err error) {
	f, err := flock(filepath.Join(s.Dir, "lock"), unix.LOCK_EX)
	if err != nil {
		return nil, fmt.Errorf("locking the image store: %w", err)
	}
	return func() { f.Close() }, nil
}

// updateIndex applies fn to images.json under the index lock. The caller
// holds the store lock (shared at least): writeIndex uses tmp.
func (s *Store) updateIndex(fn func(*index) error) error {
	f, err := flock(filepath.Join(s.Dir, "index.lock"), unix.LOCK_EX)
	if err != nil {
		return fmt.Errorf("locking the image index: %w", err)
	}
	defer f.Close()
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
	f, err := flock(filepath.Join(s.Dir, "locks", diffID.Algorithm+"-"+diffID.Hex), unix.LOCK_EX)
	if err != nil {
		return nil, fmt.Errorf("locking layer %s: %w", diffID, err)
	}
	return func() { f.Close() }, nil
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
