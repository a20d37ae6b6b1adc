package rootfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// runtimeDirs are the directories an OCI runtime mounts its own file
// systems on and writes into while it sets a container up (/dev/ptmx,
// /dev/fd, /dev/pts, /dev/shm, /dev/mqueue, /proc's masked paths, /sys):
// everything below them lies on a file system the runtime makes, so they
// alone must be real directories of the image.
var runtimeDirs = []string{"dev", "proc", "sys"}

// Masked is a path of the image that Mount replaced with an empty
// directory because it was not one.
type Masked struct {
	Path   string // "/dev"
	Target string // where the symlink pointed, if it was one
}

func (m Masked) String() string {
	if m.Target == "" {
		return fmt.Sprintf("%s is not a directory", m.Path)
	}
	return fmt.Sprintf("%s is a symlink to %q", m.Path, m.Target)
}

// MaskWarning is what to tell the user of m, in image.
func MaskWarning(image string, m Masked) string {
	return fmt.Sprintf("image %s: %s; podrun masks it with an empty directory, as Docker does (a runtime that followed it could write outside the container; a cluster's runc may refuse the image)", image, m)
}

// maskRuntimeDirs replaces each of runtimeDirs that exists in the root file
// system at target but is not a directory (a symlink, above all) with an
// empty directory in the writable layer, as Docker's init layer does. A
// runtime that follows an image's /dev symlink while it sets the container
// up writes wherever it points on the host (CVE-2026-41579, and
// CVE-2025-31133 for /dev/null); no runtime, old or new, then meets one.
// A missing directory is left to the runtime, which creates it inside the
// root.
func maskRuntimeDirs(target string) ([]Masked, error) {
	root, err := os.OpenRoot(target)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	var masked []Masked
	for _, d := range runtimeDirs {
		fi, err := root.Lstat(d)
		if errors.Is(err, fs.ErrNotExist) || err == nil && fi.IsDir() {
			continue
		}
		if err != nil {
			return masked, err
		}
		m := Masked{Path: "/" + d}
		if fi.Mode()&fs.ModeSymlink != 0 {
			m.Target, _ = root.Readlink(d)
		}
		if err := root.Remove(d); err != nil {
			return masked, fmt.Errorf("masking %s: %w", m, err)
		}
		if err := root.Mkdir(d, 0o755); err != nil {
			return masked, fmt.Errorf("masking %s: %w", m, err)
		}
		masked = append(masked, m)
	}
	return masked, nil
}

// Contain rewrites the destination of each of mounts into the path it
// names inside the root file system at target, every symlink of the image
// on its way resolved as the container sees it: an absolute link from the
// root, ".." stopping at the root. The runtime then finds no symlink of the
// image on a destination's way, so none can lead it out of the root,
// whatever the runtime does with symlinks. A mount lands where a current
// runc would put it (runc resolves destinations the same way), so nothing
// changes for the container.
//
// Destinations on the runtime's own file systems (/dev, /proc, /sys and
// below) are left as they are, and so is the part of a destination below
// an earlier mount: it lies on that mount, not on the image, and the
// runtime resolves it when it gets there. Contain reads target; call it
// once the root file system is mounted (Mount), before the runtime runs.
func Contain(target string, mounts []specs.Mount) error {
	resolved := make([]string, len(mounts))
	for i, m := range mounts {
		dst := path.Clean("/" + m.Destination)
		resolved[i] = dst
		if onRuntimeFS(dst) {
			continue
		}
		// The deepest earlier mount that dst lies on, if any.
		base, rest, depth := "", dst, 0
		for j := range i {
			if d := path.Clean("/" + mounts[j].Destination); below(dst, d) && len(d) > depth && !onRuntimeFS(d) {
				base, rest, depth = resolved[j], strings.TrimPrefix(dst, d), len(d)
			}
		}
		if base == "" {
			in, err := securejoin.SecureJoin(target, rest)
			if err != nil {
				return fmt.Errorf("resolving mount destination %s in the root file system: %w", m.Destination, err)
			}
			rel, err := filepath.Rel(target, in)
			if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
				return fmt.Errorf("resolving mount destination %s in the root file system: %s is outside it", m.Destination, in)
			}
			resolved[i] = path.Clean("/" + rel)
		} else {
			resolved[i] = path.Join(base, rest)
		}
	}
	for i := range mounts {
		mounts[i].Destination = resolved[i]
	}
	return nil
}

// onRuntimeFS reports whether p is one of runtimeDirs or below one.
func onRuntimeFS(p string) bool {
	for _, d := range runtimeDirs {
		if below(p, "/"+d) {
			return true
		}
	}
	return false
}

// below reports whether p is dir or inside it (both clean and absolute).
func below(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}
