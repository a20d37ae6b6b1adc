package volume

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// CheckHostPath checks, before any container starts, that the host path
// is of type t, creating it for the *OrCreate types as the kubelet does
// (a 0755 directory; an empty 0644 file whose parent must exist).
func CheckHostPath(p string, t *corev1.HostPathType) error {
	return checkHostPathType(p, t, true)
}

// checkHostPathType is CheckHostPath; without create, a missing path of
// an *OrCreate type passes where CheckHostPath would make it (for a file,
// its directory must exist), and nothing on the host changes.
func checkHostPathType(p string, t *corev1.HostPathType, create bool) error {
	typ := corev1.HostPathUnset
	if t != nil {
		typ = *t
	}
	if typ == corev1.HostPathUnset {
		return nil
	}
	if _, err := os.Stat(p); !create && errors.Is(err, fs.ErrNotExist) && orCreate(typ) {
		return wouldCreate(p, typ)
	}
	switch {
	case !create:
	case typ == corev1.HostPathDirectoryOrCreate:
		if err := os.MkdirAll(p, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("creating hostPath %s: %w", p, err)
		}
	case typ == corev1.HostPathFileOrCreate:
		f, err := os.OpenFile(p, os.O_RDONLY|os.O_CREATE, 0o644)
		if err != nil && !errors.Is(err, fs.ErrExist) && !errors.Is(err, unix.EISDIR) {
			return fmt.Errorf("creating hostPath %s (its directory must exist): %w", p, err)
		}
		if f != nil {
			f.Close()
		}
	}
	info, err := os.Stat(p)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // which names p again
		}
		return fmt.Errorf("%w: %s: %w", ErrHostPathType, p, err)
	}
	want, ok := hostPathTypeCheck[typ]
	if !ok {
		return fmt.Errorf("hostPath %s: type %q: %w", p, typ, ErrNotSupported)
	}
	if !want.ok(info.Mode()) {
		return fmt.Errorf("%w: %s is not a %s (hostPath.type %s): fix the path or the type", ErrHostPathType, p, want.what, typ)
	}
	return nil
}

func orCreate(typ corev1.HostPathType) bool {
	return typ == corev1.HostPathDirectoryOrCreate || typ == corev1.HostPathFileOrCreate
}

// wouldCreate is what CheckHostPath would say of the missing path p of an
// *OrCreate type typ, without creating it: a file's directory must exist.
func wouldCreate(p string, typ corev1.HostPathType) error {
	if typ != corev1.HostPathFileOrCreate {
		return nil
	}
	info, err := os.Stat(filepath.Dir(p))
	switch {
	case err != nil:
		err = &fs.PathError{Op: "open", Path: p, Err: unix.ENOENT}
	case !info.IsDir():
		err = &fs.PathError{Op: "open", Path: p, Err: unix.ENOTDIR}
	default:
		return nil
	}
	return fmt.Errorf("creating hostPath %s (its directory must exist): %w", p, err)
}

type typeCheck struct {
	what string
	ok   func(fs.FileMode) bool
}

var hostPathTypeCheck = map[corev1.HostPathType]typeCheck{
	corev1.HostPathDirectoryOrCreate: {"directory", fs.FileMode.IsDir},
	corev1.HostPathDirectory:         {"directory", fs.FileMode.IsDir},
	corev1.HostPathFileOrCreate:      {"file", fs.FileMode.IsRegular},
	corev1.HostPathFile:              {"file", fs.FileMode.IsRegular},
	corev1.HostPathSocket:            {"socket", func(m fs.FileMode) bool { return m&fs.ModeSocket != 0 }},
	corev1.HostPathCharDev:           {"character device", func(m fs.FileMode) bool { return m&fs.ModeCharDevice != 0 }},
	corev1.HostPathBlockDev: {"block device", func(m fs.FileMode) bool {
		return m&fs.ModeDevice != 0 && m&fs.ModeCharDevice == 0
	}},
}

// CheckHostPathSafe refuses a hostPath that is /, or that lies inside or
// contains one of protected (podrun's roots, the runtime's state), once
// symlinks are resolved: mounting it would hand a container the host or
// podrun's own state.
func CheckHostPathSafe(p string, protected []string) error {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		real = filepath.Clean(p) // not there yet: DirectoryOrCreate
	}
	if real == "/" {
		return fmt.Errorf("%w: hostPath %s is the host's root: pass --allow-unsafe-host-paths to mount it anyway", ErrUnsafeHostPath, p)
	}
	for _, dir := range protected {
		d, err := filepath.EvalSymlinks(dir)
		if err != nil {
			d = filepath.Clean(dir)
		}
		if within(real, d) || within(d, real) {
			return fmt.Errorf("%w: hostPath %s overlaps %s, where podrun or the runtime keeps its state: pass --allow-unsafe-host-paths to mount it anyway", ErrUnsafeHostPath, p, dir)
		}
	}
	return nil
}

// within reports whether p is dir or lies below it.
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}
