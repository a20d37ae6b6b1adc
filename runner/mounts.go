package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/runner/image"
	"github.com/podrun/podrun/runner/mountinfo"
	"github.com/podrun/podrun/runner/rootfs"
	"github.com/podrun/podrun/translate"
)

// A pod's mounts: the root file systems of its containers, its pod-level
// mounts (/dev/shm), and their removal at teardown, deepest first.

// mountRootfs mounts every container's root file system from its image's
// layers, before the plan, so that user names resolve through what the
// container will see.
func (r *Runner) mountRootfs(pod *corev1.Pod, l translate.Layout, images map[string]*image.Image) error {
	for _, c := range allContainers(&pod.Spec) {
		bundle := l.Bundle(c.Name)
		masked, err := rootfs.Mount(l.Rootfs(c.Name), images[c.Image].Layers, filepath.Join(bundle, "scratch"))
		for _, m := range masked {
			r.cfg.Log.Warn(rootfs.MaskWarning(c.Image, m), "pod", pod.Namespace+"/"+pod.Name, "container", c.Name)
		}
		if err != nil {
			return fmt.Errorf("preparing the root file system of container %q: %w", c.Name, err)
		}
	}
	return nil
}

// mountedUsers reads user databases from the mounted root file systems.
func mountedUsers(pod *corev1.Pod, l translate.Layout) map[string]fs.FS {
	users := map[string]fs.FS{}
	for _, c := range allContainers(&pod.Spec) {
		users[c.Name] = rootFS(l.Rootfs(c.Name))
	}
	return users
}

// mountPodMount makes one of the plan's pod-level mounts.
func mountPodMount(m translate.Mount) error {
	if err := os.MkdirAll(m.Target, 0o755); err != nil {
		return err
	}
	src := m.Source
	if src == "" {
		src = m.Type
	}
	flags, data := mountOptions(m.Options)
	if err := unix.Mount(src, m.Target, m.Type, flags, data); err != nil {
		return fmt.Errorf("mounting %s on %s: %w", m.Type, m.Target, err)
	}
	return nil
}

// mountOptions splits fstab-style options into flags and data.
func mountOptions(opts []string) (uintptr, string) {
	known := map[string]uintptr{
		"nosuid": unix.MS_NOSUID, "nodev": unix.MS_NODEV, "noexec": unix.MS_NOEXEC,
		"ro": unix.MS_RDONLY, "relatime": unix.MS_RELATIME, "strictatime": unix.MS_STRICTATIME,
	}
	var flags uintptr
	var data []string
	for _, o := range opts {
		if f, ok := known[o]; ok {
			flags |= f
		} else {
			data = append(data, o)
		}
	}
	return flags, strings.Join(data, ",")
}

// unmountUnder unmounts every mount point below dir, deepest first.
func unmountUnder(dir string) error {
	points, err := mountinfo.Under(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range points {
		if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && err != unix.EINVAL && err != unix.ENOENT {
			errs = append(errs, fmt.Errorf("unmounting %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}
