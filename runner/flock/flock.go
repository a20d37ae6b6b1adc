// Package flock is podrun's one file-lock helper: flock(2) on a lock file
// (or a directory), exclusive or shared, waited for under a context or
// tried at once. The kernel releases a lock when its file is closed or its
// holder dies, so a killed podrun never leaves a lock held, and no lock
// file needs cleaning up to be free.
//
// Locks are per open file: two Exclusive calls contend even within one
// process. A lock file may be removed by its holder (a pod's directory is,
// at delete): once a waiter holds the lock it checks that the path still
// names the file it locked, and starts again if not.
package flock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// ErrLocked is returned by TryExclusive when another holder has the lock.
var ErrLocked = errors.New("locked by another process")

// Lock is a flock held on an open file.
type Lock struct {
	f    *os.File
	path string
}

// Exclusive takes the exclusive lock on path, creating the file if it is
// missing, and waits for it until ctx is done. A context that can never be
// done waits in the kernel; any other is polled with back-off.
func Exclusive(ctx context.Context, path string) (*Lock, error) {
	return take(ctx, path, unix.LOCK_EX)
}

// Shared takes a shared lock on path, as Exclusive takes an exclusive one.
func Shared(ctx context.Context, path string) (*Lock, error) {
	return take(ctx, path, unix.LOCK_SH)
}

// TryExclusive takes the exclusive lock on path at once, or fails with
// ErrLocked.
func TryExclusive(path string) (*Lock, error) {
	return try(path, unix.LOCK_EX|unix.LOCK_NB)
}

func take(ctx context.Context, path string, how int) (*Lock, error) {
	if ctx.Done() == nil {
		return try(path, how)
	}
	delay := time.Millisecond
	for {
		l, err := try(path, how|unix.LOCK_NB)
		if !errors.Is(err, ErrLocked) {
			return l, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("locking %s: %w", path, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 50*time.Millisecond)
	}
}

// try opens path and flocks it how, again while the file it locked is no
// longer the one path names.
func try(path string, how int) (*Lock, error) {
	for {
		f, err := open(path)
		if err != nil {
			return nil, fmt.Errorf("opening lock %s: %w", path, err)
		}
		err = flock(f, how)
		if errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, ErrLocked)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		same, err := samePath(f, path)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		if same {
			return &Lock{f: f, path: path}, nil
		}
		f.Close() // the file we locked was removed or replaced meanwhile
	}
}

// open opens a lock file, creating it, or a directory to lock.
func open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if errors.Is(err, unix.EISDIR) {
		return os.OpenFile(path, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	}
	return f, err
}

func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// samePath reports whether path still names the open file f.
func samePath(f *os.File, path string) (bool, error) {
	var open, named unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &open); err != nil {
		return false, err
	}
	if err := unix.Stat(path, &named); errors.Is(err, unix.ENOENT) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return open.Dev == named.Dev && open.Ino == named.Ino, nil
}

// Path is the lock file's path.
func (l *Lock) Path() string { return l.path }

// Share turns a held exclusive lock into a shared one, waiting in the
// kernel if needed (flock(2) converts; it is not atomic).
func (l *Lock) Share() error {
	if err := flock(l.f, unix.LOCK_SH); err != nil {
		return fmt.Errorf("sharing lock %s: %w", l.path, err)
	}
	return nil
}

// Unlock releases the lock. Unlocking twice is harmless.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the only fd releases the flock
	l.f = nil
	if err != nil {
		return fmt.Errorf("unlocking %s: %w", l.path, err)
	}
	return nil
}
