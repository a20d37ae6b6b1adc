package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// rootFS is a read-only view of a mounted root file system, opened as an
// os.Root so that no symlink in it leads outside.
type rootFS string

func (dir rootFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	root, err := os.OpenRoot(string(dir))
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return openRegular(root, name)
}

// errNotRegular refuses to open an image's FIFO or device node on the host.
var errNotRegular = errors.New("not a regular file")

// openRegular opens name in root for reading if it is a regular file, and
// refuses anything else without opening it: a FIFO would block, and a
// device node an image carries would reach the host's device, outside any
// container's device cgroup. The open is non-blocking and checked to be
// the file that was checked, so a swap between the two (which would need
// root on the host) is caught.
func openRegular(root *os.Root, name string) (*os.File, error) {
	fi, err := root.Stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("%w (%v)", errNotRegular, fi.Mode().Type())}
	}
	f, err := root.OpenFile(name, os.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	if got, err := f.Stat(); err != nil || !os.SameFile(fi, got) {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("%w: it changed while opened", errNotRegular)}
	}
	return f, nil
}

// layersFS is a read-only view of an image's unpacked layers, for render,
// which mounts nothing: a name is read from the highest layer that holds
// it, and an overlay whiteout there hides it. (Whiteouts and opaque
// directories above a parent are not followed; apply reads the mounted
// root file system instead.) Each layer is opened as an os.Root, so no
// symlink in an image leads outside it.
func layersFS(layers []string) fs.FS {
	return layerStack(layers)
}

type layerStack []string

func (s layerStack) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	for i := len(s) - 1; i >= 0; i-- {
		root, err := os.OpenRoot(s[i])
		if err != nil {
			continue
		}
		f, found, err := openInLayer(root, name)
		root.Close()
		if found {
			return f, err
		}
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// openInLayer opens name if this layer holds it (found), treating an
// overlay whiteout (a 0/0 character device) as a deletion.
func openInLayer(root *os.Root, name string) (f fs.File, found bool, err error) {
	fi, err := root.Lstat(name)
	if err != nil {
		return nil, false, nil
	}
	if fi.Mode()&fs.ModeCharDevice != 0 {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Rdev == 0 {
			return nil, true, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
	}
	f, err = openRegular(root, name)
	return f, true, err
}
