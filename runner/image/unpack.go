package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/runner/host"
)

// Limits bound what one image may make the store read and write.
type Limits struct {
	MaxBytes         int64 // per layer: uncompressed tar stream, headers included, and compressed blob
	MaxEntries       int64 // per layer: tar entries
	MaxManifestBytes int64 // manifest or index
	MaxConfigBytes   int64 // image config
}

// DefaultLimits are generous: no real image comes near them. Manifests
// and configs are held to 4 MiB, as containers/image does.
var DefaultLimits = Limits{MaxBytes: 64 << 30, MaxEntries: 4 << 20, MaxManifestBytes: 4 << 20, MaxConfigBytes: 4 << 20}

const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
)

// unpacker writes one layer's tar entries under root. Every path goes
// through root (which refuses escapes) after a check that each parent is a
// real directory, and every final operation acts on the entry itself, never
// on what a symlink there points to.
type unpacker struct {
	root    *os.Root
	lim     Limits
	log     *slog.Logger
	chown   bool // running as root: owners are kept and device nodes made
	entries int64
	dirs    []*tar.Header // metadata applied last, deepest first
}

// unpack extracts the layer tar r into the existing directory dir. log
// (nil for none) hears, at debug level, of device nodes skipped.
func unpack(dir string, r io.Reader, lim Limits, log *slog.Logger) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	u := &unpacker{root: root, lim: lim, log: log, chown: os.Geteuid() == 0}
	return u.run(r)
}

// run unpacks every entry of the layer tar r.
func (u *unpacker) run(r io.Reader) error {
	lr := &limitedReader{r: r, left: u.lim.MaxBytes, max: u.lim.MaxBytes}
	tr := tar.NewReader(lr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading layer tar: %w", err)
		}
		if err := u.entry(hdr, tr); err != nil {
			return err
		}
	}
	if err := u.finishDirs(); err != nil {
		return err
	}
	// Read to the end, so the caller's digest covers the whole stream.
	if _, err := io.Copy(io.Discard, lr); err != nil {
		return fmt.Errorf("reading layer tar: %w", err)
	}
	return nil
}

// limitedReader fails, rather than stops, past its limit.
type limitedReader struct {
	r         io.Reader
	left, max int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, fmt.Errorf("layer is larger than the limit of %d bytes: %w", l.max, ErrUnsafeLayer)
	}
	return n, err
}

func unsafe(name, why string) error {
	return fmt.Errorf("layer entry %q: %s: %w", name, why, ErrUnsafeLayer)
}

// cleanName turns a tar entry name into a slash path relative to the
// layer ("" is the layer root). Leading slashes are dropped, as GNU tar
// does; ".." anywhere is refused.
func cleanName(raw string) (string, error) {
	var parts []string
	for _, p := range strings.Split(raw, "/") {
		switch p {
		case "", ".":
		case "..":
			return "", unsafe(raw, `".." in path`)
		default:
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "/"), nil
}

func (u *unpacker) entry(hdr *tar.Header, r io.Reader) error {
	u.entries++
	if u.entries > u.lim.MaxEntries {
		return unsafe(hdr.Name, fmt.Sprintf("layer has more than the limit of %d entries", u.lim.MaxEntries))
	}
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	name, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	if strings.HasPrefix(path.Base(name), whiteoutPrefix) {
		return u.whiteout(hdr.Name, name)
	}
	if name == "" {
		if hdr.Typeflag != tar.TypeDir {
			return unsafe(hdr.Name, "layer root is not a directory")
		}
		u.dirs = append(u.dirs, withName(hdr, "."))
		return nil
	}
	if err := u.parents(hdr.Name, name, true); err != nil {
		return err
	}
	return u.create(hdr, name, r)
}

func withName(hdr *tar.Header, name string) *tar.Header {
	h := *hdr
	h.Name = name
	return &h
}

func (u *unpacker) create(hdr *tar.Header, name string, r io.Reader) error {
	switch hdr.Typeflag {
	case tar.TypeDir:
		return u.dir(hdr, name)
	case tar.TypeReg, tar.TypeRegA:
		return u.file(hdr, name, r)
	case tar.TypeSymlink:
		return u.symlink(hdr, name)
	case tar.TypeLink:
		return u.hardlink(hdr, name)
	case tar.TypeFifo:
		return u.fifo(hdr, name)
	case tar.TypeChar, tar.TypeBlock:
		return u.device(hdr, name)
	default:
		return unsafe(hdr.Name, fmt.Sprintf("unsupported entry type %q", hdr.Typeflag))
	}
}

// parents checks that every parent of name is a real directory, creating
// missing ones when create is set. A symlinked parent is refused: within
// one layer nothing legitimate lives under a symlink.
func (u *unpacker) parents(raw, name string, create bool) error {
	parts := strings.Split(name, "/")
	for i := 1; i < len(parts); i++ {
		p := strings.Join(parts[:i], "/")
		fi, err := u.root.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist) && create:
			if err := u.root.Mkdir(p, 0o755); err != nil {
				return fmt.Errorf("creating parent of layer entry %q: %w", raw, err)
			}
		case err != nil:
			return fmt.Errorf("checking parent of layer entry %q: %w", raw, err)
		case fi.Mode()&fs.ModeSymlink != 0:
			return unsafe(raw, fmt.Sprintf("parent %q is a symlink", p))
		case !fi.IsDir():
			return unsafe(raw, fmt.Sprintf("parent %q is not a directory", p))
		}
	}
	return nil
}

// replace clears name for a new entry, as a later tar entry replaces an
// earlier one. An existing directory stays when the new entry is one too.
func (u *unpacker) replace(name string, dir bool) (exists bool, err error) {
	fi, err := u.root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if dir && fi.IsDir() {
		return true, nil
	}
	return false, u.root.RemoveAll(name)
}

func (u *unpacker) dir(hdr *tar.Header, name string) error {
	exists, err := u.replace(name, true)
	if err != nil {
		return fmt.Errorf("replacing %q: %w", hdr.Name, err)
	}
	if !exists {
		if err := u.root.Mkdir(name, 0o755); err != nil {
			return fmt.Errorf("creating directory %q: %w", hdr.Name, err)
		}
	}
	u.dirs = append(u.dirs, withName(hdr, name))
	return nil
}

func (u *unpacker) file(hdr *tar.Header, name string, r io.Reader) error {
	if _, err := u.replace(name, false); err != nil {
		return fmt.Errorf("replacing %q: %w", hdr.Name, err)
	}
	f, err := u.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("creating file %q: %w", hdr.Name, err)
	}
	_, err = io.Copy(f, r)
	if err == nil {
		err = u.xattrs(f, hdr)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing file %q: %w", hdr.Name, err)
	}
	return u.meta(hdr, name)
}

func (u *unpacker) symlink(hdr *tar.Header, name string) error {
	if _, err := u.replace(name, false); err != nil {
		return fmt.Errorf("replacing %q: %w", hdr.Name, err)
	}
	// The target is data: it is stored as is and never followed here.
	if err := u.root.Symlink(hdr.Linkname, name); err != nil {
		return fmt.Errorf("creating symlink %q: %w", hdr.Name, err)
	}
	return u.meta(hdr, name)
}

func (u *unpacker) hardlink(hdr *tar.Header, name string) error {
	target, err := cleanName(hdr.Linkname)
	if err != nil {
		return unsafe(hdr.Name, fmt.Sprintf("hard link target %q has \"..\"", hdr.Linkname))
	}
	if target == "" || target == name {
		return unsafe(hdr.Name, fmt.Sprintf("hard link to %q", hdr.Linkname))
	}
	if err := u.parents(hdr.Name, target, false); err != nil {
		return unsafe(hdr.Name, fmt.Sprintf("hard link target %q is not in the layer", hdr.Linkname))
	}
	fi, err := u.root.Lstat(target)
	if err != nil {
		return unsafe(hdr.Name, fmt.Sprintf("hard link target %q is not in the layer", hdr.Linkname))
	}
	if fi.IsDir() {
		return unsafe(hdr.Name, fmt.Sprintf("hard link target %q is a directory", hdr.Linkname))
	}
	if _, err := u.replace(name, false); err != nil {
		return fmt.Errorf("replacing %q: %w", hdr.Name, err)
	}
	if err := u.root.Link(target, name); err != nil {
		return fmt.Errorf("creating hard link %q: %w", hdr.Name, err)
	}
	return nil
}

func (u *unpacker) fifo(hdr *tar.Header, name string) error {
	if _, err := u.replace(name, false); err != nil {
		return fmt.Errorf("replacing %q: %w", hdr.Name, err)
	}
	err := u.inParent(name, func(fd int, base string) error {
		return unix.Mknodat(fd, base, unix.S_IFIFO|0o600, 0)
	})
	if err != nil {
		return fmt.Errorf("creating fifo %q: %w", hdr.Name, err)
	}
	return u.meta(hdr, name)
}

// whiteout turns an AUFS-style whiteout entry into its overlayfs form.
func (u *unpacker) whiteout(raw, name string) error {
	dir, base := path.Split(name)
	dir = strings.TrimSuffix(dir, "/")
	if base == opaqueMarker {
		return u.opaque(raw, dir)
	}
	hidden := strings.TrimPrefix(base, whiteoutPrefix)
	if hidden == "" || hidden == "." || hidden == ".." || strings.HasPrefix(hidden, whiteoutPrefix) {
		return unsafe(raw, "malformed whiteout")
	}
	target := path.Join(dir, hidden)
	if err := u.parents(raw, target, true); err != nil {
		return err
	}
	return u.whiteoutNode(raw, target)
}

// whiteoutNode makes target, whose parents are checked, an overlayfs
// whiteout: a 0/0 character device.
func (u *unpacker) whiteoutNode(raw, target string) error {
	if _, err := u.replace(target, false); err != nil {
		return fmt.Errorf("replacing %q: %w", raw, err)
	}
	err := u.inParent(target, func(fd int, base string) error {
		return unix.Mknodat(fd, base, unix.S_IFCHR, 0)
	})
	if err != nil {
		return fmt.Errorf("creating whiteout for %q (whiteouts need root): %w", raw, err)
	}
	return nil
}

// device makes a character or block device node, as containerd and
// Podman do as root; the container's device cgroup denies its use. A 0/0
// character device is what an overlayfs whiteout is, and what it would
// become in any overlay lower directory: it is made as the whiteout it
// is, exactly as ".wh.NAME" would be. Without root, or where mknod is not
// permitted (a user namespace), the node is skipped, as rootless Podman
// skips it.
func (u *unpacker) device(hdr *tar.Header, name string) error {
	if hdr.Typeflag == tar.TypeChar && hdr.Devmajor == 0 && hdr.Devminor == 0 {
		return u.whiteoutNode(hdr.Name, name)
	}
	if hdr.Devmajor < 0 || hdr.Devmajor > 0xfff || hdr.Devminor < 0 || hdr.Devminor > 0xfffff {
		return unsafe(hdr.Name, fmt.Sprintf("device number %d:%d is out of range", hdr.Devmajor, hdr.Devminor))
	}
	if !u.chown {
		u.log.Debug("skipping device node: making one needs root", "entry", hdr.Name)
		return nil
	}
	if _, err := u.replace(name, false); err != nil {
		return fmt.Errorf("replacing %q: %w", hdr.Name, err)
	}
	typ := uint32(unix.S_IFCHR)
	if hdr.Typeflag == tar.TypeBlock {
		typ = unix.S_IFBLK
	}
	dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
	err := u.inParent(name, func(fd int, base string) error {
		return unix.Mknodat(fd, base, typ|0o600, int(dev))
	})
	if errors.Is(err, unix.EPERM) {
		u.log.Debug("skipping device node: mknod is not permitted here", "entry", hdr.Name)
		return nil
	}
	if err != nil {
		return fmt.Errorf("creating device node %q: %w", hdr.Name, err)
	}
	return u.meta(hdr, name)
}

func (u *unpacker) opaque(raw, dir string) error {
	if dir != "" {
		if err := u.parents(raw, dir+"/x", true); err != nil {
			return err
		}
	}
	d := dir
	if d == "" {
		d = "."
	}
	f, err := u.root.OpenFile(d, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("opening opaque directory for %q: %w", raw, err)
	}
	defer f.Close()
	if err := unix.Fsetxattr(int(f.Fd()), host.OverlayOpaqueXattr(), []byte("y"), 0); err != nil {
		return fmt.Errorf("marking %q opaque (whiteouts need root): %w", raw, err)
	}
	return nil
}

// inParent calls fn with a descriptor of name's parent directory and the
// base name, for the *at system calls os.Root has no method for.
func (u *unpacker) inParent(name string, fn func(fd int, base string) error) error {
	dir, base := path.Split(name)
	if dir == "" {
		dir = "."
	}
	d, err := u.root.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer d.Close()
	return fn(int(d.Fd()), base)
}

// meta applies ownership, mode and times to name, which is not a
// directory; for a symlink only ownership and times.
func (u *unpacker) meta(hdr *tar.Header, name string) error {
	err := u.inParent(name, func(fd int, base string) error {
		if u.chown {
			if err := unix.Fchownat(fd, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return err
			}
		}
		if hdr.Typeflag != tar.TypeSymlink {
			// name was just created by us and is not a symlink.
			if err := unix.Fchmodat(fd, base, uint32(hdr.Mode&0o7777), 0); err != nil {
				return err
			}
		}
		return setTimes(fd, base, hdr)
	})
	if err != nil {
		return fmt.Errorf("setting metadata of %q: %w", hdr.Name, err)
	}
	return nil
}

func setTimes(fd int, base string, hdr *tar.Header) error {
	at := hdr.AccessTime
	if at.IsZero() {
		at = hdr.ModTime
	}
	ts := []unix.Timespec{unix.NsecToTimespec(at.UnixNano()), unix.NsecToTimespec(hdr.ModTime.UnixNano())}
	return unix.UtimesNanoAt(fd, base, ts, unix.AT_SYMLINK_NOFOLLOW)
}

// finishDirs applies directory metadata last, deepest first, so a
// read-only directory does not stop its children being written and their
// writes do not disturb its mtime.
func (u *unpacker) finishDirs() error {
	slices.SortStableFunc(u.dirs, func(a, b *tar.Header) int {
		return strings.Count(b.Name, "/") - strings.Count(a.Name, "/")
	})
	for _, hdr := range u.dirs {
		if err := u.dirMeta(hdr); err != nil {
			return fmt.Errorf("setting metadata of directory %q: %w", hdr.Name, err)
		}
	}
	return nil
}

func (u *unpacker) dirMeta(hdr *tar.Header) error {
	f, err := u.root.OpenFile(hdr.Name, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fd := int(f.Fd())
	if u.chown {
		if err := unix.Fchown(fd, hdr.Uid, hdr.Gid); err != nil {
			return err
		}
	}
	if err := unix.Fchmod(fd, uint32(hdr.Mode&0o7777)); err != nil {
		return err
	}
	if err := u.xattrs(f, hdr); err != nil {
		return err
	}
	tv := []unix.Timeval{unix.NsecToTimeval(hdr.ModTime.UnixNano()), unix.NsecToTimeval(hdr.ModTime.UnixNano())}
	return unix.Futimes(fd, tv)
}

// xattrs copies the extended attributes worth keeping: user.* and file
// capabilities. trusted.* (overlayfs' own) and the rest are dropped, so a
// layer cannot forge an opaque directory or a redirect.
func (u *unpacker) xattrs(f *os.File, hdr *tar.Header) error {
	for k, v := range hdr.PAXRecords {
		attr, ok := strings.CutPrefix(k, "SCHILY.xattr.")
		if !ok || !(strings.HasPrefix(attr, "user.") || attr == "security.capability") {
			continue
		}
		err := unix.Fsetxattr(int(f.Fd()), attr, []byte(v), 0)
		if err != nil && !errors.Is(err, unix.ENOTSUP) {
			return fmt.Errorf("setting xattr %s: %w", attr, err)
		}
	}
	return nil
}
