package network

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/runner/mountinfo"
)

// NewNS creates a network namespace and pins it at path: the namespace's
// nsfs file is bind-mounted onto an empty file at path, the way
// `ip netns add` pins one under /run/netns. Nothing in it is brought up;
// loopback is the loopback plugin's job.
//
// The directory holding path is made a shared mount first (a bind mount
// of itself if it is not a mount point yet), as `ip netns` does for
// /run/netns: then the pin propagates to mount namespaces cloned later,
// and so does its unmount, and no copy keeps a dead pod's namespace
// alive. RemoveNS undoes that bind mount once the directory is empty.
func NewNS(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating netns directory %s: %w", dir, err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return err
	}
	defer unlock()
	if err := makeShared(dir); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return fmt.Errorf("creating netns pin %s: %w", path, err)
	}
	f.Close()
	if err := pinNewNS(path); err != nil {
		os.Remove(path)
		return fmt.Errorf("pinning new netns at %s: %w", path, err)
	}
	return nil
}

// pinNewNS unshares a new network namespace on a locked thread of its own,
// bind-mounts it onto path and returns the thread to the original
// namespace. If returning fails the thread stays locked, so the runtime
// ends it with the goroutine instead of reusing it in the wrong namespace.
func pinNewNS(path string) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open(threadNS())
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("opening current netns: %w", err)
			return
		}
		defer orig.Close()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("unsharing netns: %w", err)
			return
		}
		mountErr := unix.Mount(threadNS(), path, "", unix.MS_BIND, "")
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			// Leave the thread locked: it dies with this goroutine.
			if mountErr == nil {
				unix.Unmount(path, unix.MNT_DETACH)
			}
			errc <- fmt.Errorf("returning to the original netns: %w", err)
			return
		}
		runtime.UnlockOSThread()
		if mountErr != nil {
			mountErr = fmt.Errorf("bind-mounting netns: %w", mountErr)
		}
		errc <- mountErr
	}()
	return <-errc
}

// threadNS is the calling thread's netns file.
func threadNS() string {
	return fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid())
}

// makeShared makes dir a shared mount, binding it onto itself first if it
// is not a mount point.
func makeShared(dir string) error {
	err := unix.Mount("", dir, "", unix.MS_SHARED|unix.MS_REC, "")
	if err == nil {
		return nil
	}
	if !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("making %s a shared mount: %w", dir, err)
	}
	if err := unix.Mount(dir, dir, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind-mounting %s onto itself: %w", dir, err)
	}
	if err := unix.Mount("", dir, "", unix.MS_SHARED|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("making %s a shared mount: %w", dir, err)
	}
	return nil
}

// RemoveNS unmounts and removes the namespace pinned at path. A missing
// one is success. When the directory holding it is left empty and is a
// bind mount of itself made by NewNS, that mount is undone too.
func RemoveNS(path string) error {
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return err
	}
	defer unlock()
	err = unix.Unmount(path, unix.MNT_DETACH)
	if err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmounting netns %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing netns pin %s: %w", path, err)
	}
	return releaseDir(dir)
}

// releaseDir unmounts dir if it is empty and a bind mount of itself (the
// mount makeShared made). A mount of another file system there, a tmpfs
// say, is the administrator's and stays.
func releaseDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) > 0 {
		return nil
	}
	self, err := isSelfBind(dir)
	if err != nil || !self {
		return err
	}
	if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("unmounting netns directory %s: %w", dir, err)
	}
	return nil
}

// isSelfBind reports whether dir is a mount point of the same file system
// as its parent directory, which is what binding it onto itself makes.
func isSelfBind(dir string) (bool, error) {
	dir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return false, fmt.Errorf("resolving %s: %w", dir, err)
	}
	mounts, err := mountinfo.Read()
	if err != nil {
		return false, err
	}
	var atDir, parentDev string
	var parentLen int
	parent := filepath.Dir(dir)
	for _, m := range mounts {
		if m.Point == dir {
			atDir = m.Dev
		}
		if m.Point != dir && mountinfo.Within(parent, m.Point) && len(m.Point) >= parentLen {
			parentDev, parentLen = m.Dev, len(m.Point)
		}
	}
	return atDir != "" && atDir == parentDev, nil
}
