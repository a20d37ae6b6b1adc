package volume

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// CheckSubPath refuses a subPath that is absolute or has a `..` element,
// as the kubelet does before it resolves anything.
func CheckSubPath(sub string) error {
	if path.IsAbs(sub) {
		return fmt.Errorf("subPath %q: must be a relative path: %w", sub, ErrEscape)
	}
	for _, part := range strings.Split(sub, "/") {
		if part == ".." {
			return fmt.Errorf("subPath %q: must not contain '..': %w", sub, ErrEscape)
		}
	}
	return nil
}

// BindSubPath makes sub of the volume at root (created, with the mode of
// the root, when missing) appear at target, a path the runner owns, for
// the runtime to bind-mount into the container.
//
// sub is resolved by the kernel beneath root (openat2 with
// RESOLVE_BENEATH|RESOLVE_NO_MAGICLINKS): a symlink that a container left
// in the volume, to / or /etc or anywhere outside, makes this fail with
// ErrEscape. The mount is then made from the open file descriptor
// (open_tree), so that swapping a symlink in after the check cannot
// redirect it: the file or directory mounted is the one resolved.
func BindSubPath(root, sub, target string) error {
	if err := CheckSubPath(sub); err != nil {
		return err
	}
	if err := makeSubPath(root, sub); err != nil {
		return err
	}
	fd, err := openBeneath(root, sub)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("subPath %q: %w", sub, err)
	}
	if err := makeTarget(target, st.Mode&unix.S_IFMT == unix.S_IFDIR); err != nil {
		return err
	}
	if err := mountFD(fd, target); err != nil {
		return fmt.Errorf("bind-mounting subPath %q of %s on %s: %w", sub, root, target, err)
	}
	return nil
}

// CheckSubPathIn is BindSubPath's verdict without its effects: sub is
// valid and its longest existing part resolves beneath root (BindSubPath
// makes the rest as directories). Nothing is created or mounted.
func CheckSubPathIn(root, sub string) error {
	if err := CheckSubPath(sub); err != nil {
		return err
	}
	for p := path.Clean(sub); ; p = path.Dir(p) {
		fd, err := openBeneath(root, p)
		if err == nil {
			unix.Close(fd)
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if p == "." || p == "/" {
			return nil // the volume itself is not made yet
		}
	}
}

// makeSubPath creates a missing subPath as a directory with the mode of
// the volume's root, inside the root.
func makeSubPath(root, sub string) error {
	r, err := os.OpenRoot(root)
	if err != nil {
		return fmt.Errorf("opening volume %s: %w", root, err)
	}
	defer r.Close()
	if _, err := r.Stat(sub); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return subPathError(sub, root, err)
	}
	info, err := r.Stat(".")
	if err != nil {
		return err
	}
	perm := info.Mode().Perm()
	if err := r.MkdirAll(sub, perm); err != nil {
		return subPathError(sub, root, err)
	}
	// MkdirAll is subject to the umask; the kubelet's SafeMakeDir is not.
	if err := r.Chmod(sub, perm|info.Mode()&fs.ModeSetgid); err != nil {
		return subPathError(sub, root, err)
	}
	return nil
}

// openBeneath opens sub beneath root as an O_PATH descriptor.
func openBeneath(root, sub string) (int, error) {
	rfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("opening volume %s: %w", root, err)
	}
	defer unix.Close(rfd)
	for {
		fd, err := unix.Openat2(rfd, sub, &unix.OpenHow{
			Flags:   unix.O_PATH | unix.O_CLOEXEC,
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
		})
		if err == unix.EAGAIN || err == unix.EINTR {
			continue // a rename elsewhere on the system raced the lookup
		}
		if err != nil {
			return -1, subPathError(sub, root, err)
		}
		return fd, nil
	}
}

func subPathError(sub, root string, err error) error {
	if errors.Is(err, unix.EXDEV) || errors.Is(err, unix.ELOOP) || strings.Contains(err.Error(), "escapes") {
		return fmt.Errorf("subPath %q resolves outside volume %s: %w", sub, root, ErrEscape)
	}
	return fmt.Errorf("resolving subPath %q in volume %s: %w", sub, root, err)
}

// makeTarget makes the mount point: a directory or an empty file.
func makeTarget(target string, dir bool) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return err
	}
	if dir {
		if err := os.Mkdir(target, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		return nil
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_RDONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// mountFD bind-mounts what fd refers to on target: a clone of its tree
// moved into place (open_tree, move_mount), else through the fd's
// /proc/self/fd magic link, which the kernel resolves to the same file.
func mountFD(fd int, target string) error {
	tree, err := unix.OpenTree(fd, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH|unix.AT_RECURSIVE)
	if err == nil {
		defer unix.Close(tree)
		return unix.MoveMount(tree, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH)
	}
	if err != unix.ENOSYS {
		return err
	}
	return unix.Mount(fmt.Sprintf("/proc/self/fd/%d", fd), target, "", unix.MS_BIND|unix.MS_REC, "")
}

// RebindSubPath resolves sub of the volume at root again, as it is now,
// and mounts it at target in place of what an earlier BindSubPath
// mounted there: the kubelet resolves a subPath before every container
// start, so a restarted container sees the volume as it is then, and a
// symlink its earlier run left there fails with ErrEscape.
func RebindSubPath(root, sub, target string) error {
	if err := unmountAll(target); err != nil {
		return fmt.Errorf("unmounting the subPath %q staged at %s: %w", sub, target, err)
	}
	// The resolved kind (file or directory) may have changed.
	if err := os.Remove(target); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing the subPath mount point %s: %w", target, err)
	}
	return BindSubPath(root, sub, target)
}

// unmountAll unmounts every mount stacked on target.
func unmountAll(target string) error {
	for {
		err := unix.Unmount(target, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW)
		switch err {
		case nil:
			continue
		case unix.EINVAL, unix.ENOENT:
			return nil // nothing (more) mounted there
		default:
			return err
		}
	}
}
