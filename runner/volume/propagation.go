package volume

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/runner/mountinfo"
)

// Share makes dir a shared mount with src's contents (src is dir itself
// for the volumes that live in the pod's directory, a named volume's data
// for a claim), in a peer group of its own: a mount that a container
// makes in a volume it mounts Bidirectional then appears at dir, and in
// every container that mounts dir with HostToContainer, but nowhere else
// on the host. This is the kubelet's MakeRShared of its root directory,
// done for one volume; the pod's teardown unmounts dir and all that
// propagated under it.
func Share(src, dir string) error {
	mounted, err := mountinfo.IsMountPoint(dir)
	if err != nil {
		return err
	}
	if !mounted {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := unix.Mount(src, dir, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind-mounting %s on %s: %w", src, dir, err)
		}
	}
	// Private first, so that dir leaves any peer group it joined by being
	// bound from a shared mount; then shared, in a group of its own.
	for _, flag := range []uintptr{unix.MS_PRIVATE, unix.MS_SHARED} {
		if err := unix.Mount("", dir, "", flag, ""); err != nil {
			return fmt.Errorf("making %s a shared mount: %w", dir, err)
		}
	}
	return nil
}

// CheckShared refuses a mount source with propagation (rshared, or
// rslave when slave is set) that does not lie on a shared mount (or, for
// rslave, a shared or slave one): the container would not see what is
// mounted there later. containerd's CRI plugin checks this for every
// such mount (ensureShared, ensureSharedOrSlave), with these words.
func CheckShared(path string, slave bool) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	mounts, err := mountinfo.Read()
	if err != nil {
		return err
	}
	m, ok := mountinfo.Containing(mounts, real)
	if !ok {
		return fmt.Errorf("finding the mount of %s: %w", path, ErrNotFound)
	}
	for _, opt := range strings.Fields(m.Optional) {
		if strings.HasPrefix(opt, "shared:") || (slave && strings.HasPrefix(opt, "master:")) {
			return nil
		}
	}
	if slave {
		return fmt.Errorf("path %q is mounted on %q but it is not a shared or slave mount", path, m.Point)
	}
	return fmt.Errorf("path %q is mounted on %q but it is not a shared mount", path, m.Point)
}
