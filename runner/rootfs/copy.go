package rootfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/runner/host"
)

// copier copies layers into one directory as overlayfs would show them.
// Writes go through os.Root; an entry whose parent in target is a symlink
// from a lower layer never gets there, because the parent directory entry
// of the same layer, walked first, replaces the symlink.
type copier struct {
	root  *os.Root
	chown bool
	dirs  map[string]string // target dir -> the layer dir whose metadata it takes
}

// copyLayers copies layers (bottom first) into target, applying whiteouts
// and opaque directories.
func copyLayers(target string, layers []string) error {
	root, err := os.OpenRoot(target)
	if err != nil {
		return err
	}
	defer root.Close()
	c := &copier{root: root, chown: os.Geteuid() == 0, dirs: map[string]string{}}
	for _, l := range layers {
		if err := c.layer(l); err != nil {
			return fmt.Errorf("copying layer %s: %w", l, err)
		}
	}
	return c.finishDirs()
}

func (c *copier) layer(dir string) error {
	links := map[uint64]string{} // inode -> first target path, for hard links
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if rel == "." {
			c.dirs["."] = p
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		return c.entry(p, rel, fi, links)
	})
}

func (c *copier) entry(src, rel string, fi fs.FileInfo, links map[uint64]string) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: no stat data", rel)
	}
	mode := fi.Mode()
	switch {
	case mode&fs.ModeCharDevice != 0 && st.Rdev == 0:
		return c.root.RemoveAll(rel) // a whiteout
	case mode.IsDir():
		return c.dir(src, rel)
	}
	if err := c.root.RemoveAll(rel); err != nil {
		return err
	}
	if st.Nlink > 1 {
		if first, ok := links[st.Ino]; ok {
			return c.root.Link(first, rel)
		}
		links[st.Ino] = rel
	}
	switch {
	case mode.IsRegular():
		return c.file(src, rel, fi)
	case mode&fs.ModeSymlink != 0:
		return c.symlink(src, rel, st)
	case mode&fs.ModeNamedPipe != 0:
		return c.fifo(rel, st)
	case mode&fs.ModeDevice != 0:
		return c.device(rel, st)
	}
	return fmt.Errorf("%s: unexpected file type %v", rel, mode)
}

// dir merges src into the target directory rel; an opaque src hides what
// lower layers put there.
func (c *copier) dir(src, rel string) error {
	fi, err := c.root.Lstat(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		err = c.root.Mkdir(rel, 0o700)
	case err != nil:
	case !fi.IsDir():
		if err = c.root.RemoveAll(rel); err == nil {
			err = c.root.Mkdir(rel, 0o700)
		}
	case isOpaque(src):
		err = c.clear(rel)
	}
	if err != nil {
		return err
	}
	c.dirs[rel] = src
	return nil
}

func isOpaque(dir string) bool {
	buf := make([]byte, 4)
	n, err := unix.Lgetxattr(dir, host.OverlayOpaqueXattr(), buf)
	return err == nil && string(buf[:n]) == "y"
}

// clear empties the target directory rel.
func (c *copier) clear(rel string) error {
	f, err := c.root.OpenFile(rel, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := c.root.RemoveAll(rel + "/" + n); err != nil {
			return err
		}
	}
	return nil
}

func (c *copier) file(src, rel string, fi fs.FileInfo) error {
	in, err := os.OpenFile(src, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := c.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = c.meta(out, src, fi)
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// meta copies owner, mode, xattrs and times of src onto the open f.
func (c *copier) meta(f *os.File, src string, fi fs.FileInfo) error {
	st := fi.Sys().(*syscall.Stat_t)
	fd := int(f.Fd())
	if c.chown {
		if err := unix.Fchown(fd, int(st.Uid), int(st.Gid)); err != nil {
			return err
		}
	}
	if err := unix.Fchmod(fd, st.Mode&0o7777); err != nil {
		return err
	}
	if err := copyXattrs(fd, src); err != nil {
		return err
	}
	return unix.Futimes(fd, []unix.Timeval{unix.NsecToTimeval(st.Atim.Nano()), unix.NsecToTimeval(st.Mtim.Nano())})
}

// copyXattrs copies src's user.* xattrs and file capabilities.
func copyXattrs(fd int, src string) error {
	for _, name := range []string{"security.capability"} {
		if err := copyXattr(fd, src, name); err != nil {
			return err
		}
	}
	buf := make([]byte, 64*1024)
	n, err := unix.Llistxattr(src, buf)
	if err != nil {
		return nil // no xattrs to be had
	}
	for _, name := range strings.Split(string(buf[:n]), "\x00") {
		if strings.HasPrefix(name, "user.") {
			if err := copyXattr(fd, src, name); err != nil {
				return err
			}
		}
	}
	return nil
}

func copyXattr(fd int, src, name string) error {
	buf := make([]byte, 64*1024)
	n, err := unix.Lgetxattr(src, name, buf)
	if err != nil {
		return nil // absent
	}
	if err := unix.Fsetxattr(fd, name, buf[:n], 0); err != nil && !errors.Is(err, unix.ENOTSUP) {
		return fmt.Errorf("setting xattr %s: %w", name, err)
	}
	return nil
}

func (c *copier) symlink(src, rel string, st *syscall.Stat_t) error {
	to, err := os.Readlink(src)
	if err != nil {
		return err
	}
	if err := c.root.Symlink(to, rel); err != nil {
		return err
	}
	if c.chown {
		if err := c.root.Lchown(rel, int(st.Uid), int(st.Gid)); err != nil {
			return err
		}
	}
	return c.inParent(rel, func(fd int, base string) error {
		ts := []unix.Timespec{unix.NsecToTimespec(st.Atim.Nano()), unix.NsecToTimespec(st.Mtim.Nano())}
		return unix.UtimesNanoAt(fd, base, ts, unix.AT_SYMLINK_NOFOLLOW)
	})
}

func (c *copier) fifo(rel string, st *syscall.Stat_t) error {
	return c.inParent(rel, func(fd int, base string) error {
		if err := unix.Mknodat(fd, base, unix.S_IFIFO|(st.Mode&0o7777), 0); err != nil {
			return err
		}
		if c.chown {
			return unix.Fchownat(fd, base, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW)
		}
		return nil
	})
}

// device makes a device node as the layer has it (runner/image made it
// as root); where mknod is not permitted the node is skipped, as
// unpacking skips it.
func (c *copier) device(rel string, st *syscall.Stat_t) error {
	err := c.inParent(rel, func(fd int, base string) error {
		if err := unix.Mknodat(fd, base, st.Mode&(unix.S_IFMT|0o7777), int(st.Rdev)); err != nil {
			return err
		}
		if c.chown {
			return unix.Fchownat(fd, base, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW)
		}
		return nil
	})
	if errors.Is(err, unix.EPERM) {
		return nil
	}
	return err
}

func (c *copier) inParent(rel string, fn func(fd int, base string) error) error {
	dir, base := filepath.Split(rel)
	if dir == "" {
		dir = "."
	}
	d, err := c.root.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer d.Close()
	return fn(int(d.Fd()), base)
}

// finishDirs gives directories their metadata last, deepest first, so
// their modes do not stop writes and their times stay as in the layer.
func (c *copier) finishDirs() error {
	rels := make([]string, 0, len(c.dirs))
	for r := range c.dirs {
		rels = append(rels, r)
	}
	slices.SortFunc(rels, func(a, b string) int {
		return strings.Count(b, "/") - strings.Count(a, "/")
	})
	for _, rel := range rels {
		if err := c.dirMeta(rel, c.dirs[rel]); err != nil {
			return fmt.Errorf("setting metadata of %s: %w", rel, err)
		}
	}
	return nil
}

func (c *copier) dirMeta(rel, src string) error {
	fi, err := os.Lstat(src)
	if err != nil {
		return err
	}
	f, err := c.root.OpenFile(rel, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return c.meta(f, src, fi)
}
