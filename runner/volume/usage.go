package volume

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// maxUsageEntries bounds the files one Usage call looks at, so that a
// volume holding millions of files cannot make a check run for minutes.
const maxUsageEntries = 1 << 20

// Usage is the disk space (allocated blocks, as du counts them) used by
// the tree at dir, counted without following symlinks and without
// crossing into other mounts. It stops counting once the total exceeds
// stop (when stop > 0) or after maxUsageEntries files, returning what it
// counted so far: the caller only needs to know that a limit is passed.
func Usage(dir string, stop int64) (int64, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("opening volume %s to measure it: %w", dir, err)
	}
	st, err := statx(fd, "", unix.AT_EMPTY_PATH)
	if err != nil {
		unix.Close(fd)
		return 0, fmt.Errorf("measuring volume %s: %w", dir, err)
	}
	u := usage{mount: mountOf(st), stop: stop, total: int64(st.Blocks) * 512, left: maxUsageEntries}
	err = u.dir(fd)
	if errors.Is(err, errUsageDone) {
		err = nil
	}
	if err != nil {
		return u.total, fmt.Errorf("measuring volume %s: %w", dir, err)
	}
	return u.total, nil
}

var errUsageDone = errors.New("usage counted far enough")

type usage struct {
	mount mountID
	stop  int64
	total int64
	left  int
}

// dir counts the entries of the open directory fd, and closes it.
func (u *usage) dir(fd int) error {
	f := os.NewFile(uintptr(fd), "")
	defer f.Close()
	for {
		names, err := f.Readdirnames(256)
		for _, name := range names {
			if err := u.entry(fd, name); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// entry counts one entry of directory dirfd, descending into a directory
// on the same file system. Entries that vanish meanwhile are skipped.
func (u *usage) entry(dirfd int, name string) error {
	st, err := statx(dirfd, name, unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		return nil
	}
	if mountOf(st) != u.mount {
		return nil // another mount: not this volume's space
	}
	u.total += int64(st.Blocks) * 512
	u.left--
	if (u.stop > 0 && u.total > u.stop) || u.left <= 0 {
		return errUsageDone
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil
	}
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil // replaced or removed since the stat
	}
	return u.dir(fd)
}

// mountID tells mounts apart: the mount id where the kernel gives it
// (a bind mount of the same file system differs), else the device.
type mountID struct {
	id       uint64
	dev, min uint32
}

func mountOf(st *unix.Statx_t) mountID {
	m := mountID{dev: st.Dev_major, min: st.Dev_minor}
	if st.Mask&unix.STATX_MNT_ID != 0 {
		m.id = st.Mnt_id
	}
	return m
}

func statx(dirfd int, name string, flags int) (*unix.Statx_t, error) {
	var st unix.Statx_t
	mask := unix.STATX_TYPE | unix.STATX_BLOCKS | unix.STATX_MNT_ID
	if err := unix.Statx(dirfd, name, flags|unix.AT_NO_AUTOMOUNT, mask, &st); err != nil {
		return nil, err
	}
	return &st, nil
}
