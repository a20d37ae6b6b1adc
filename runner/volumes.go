package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/runner/host"
	"github.com/podrun/podrun/runner/mountinfo"
	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/runner/volume"
	"github.com/podrun/podrun/translate"
)

// ReasonConfigError is the waiting reason of a container that cannot be
// created because of its configuration (an invalid or escaping subPath),
// as the kubelet words it. The pod's other containers run.
const ReasonConfigError = "CreateContainerConfigError"

// volumeConfig is what the volume package needs to prepare a pod's volumes.
func (r *Runner) volumeConfig(l translate.Layout) volume.Config {
	return volume.Config{
		Dir:     filepath.Join(l.Dir, "volumes"),
		Claims:  r.claims(),
		Objects: r.volumeObjects(),
		Node:    nodeVolumeFacts(),
		Protected: []string{
			r.cfg.Root, r.cfg.RunRoot, r.runtime.Root,
			"/run/runc", "/run/crun", "/var/lib/podrun", "/run/podrun",
		},
		AllowUnsafeHostPaths: r.cfg.AllowUnsafeHostPaths,
		DryRun:               r.dryRun,
	}
}

// volumeObjects finds the ConfigMaps and Secrets that volumes project:
// those apply stored (runner/objects), and podrun's kube-root-ca.crt; and
// the ServiceAccounts whose tokens they hold. At render, the ConfigMaps
// and Secrets of its input replace stored ones of the same name.
func (r *Runner) volumeObjects() volume.Objects {
	stored := storeObjects{store: r.Objects(), rootCA: r.rootCAPath(), sa: r.serviceAccount}
	if r.unstored != nil {
		return setObjects{set: r.unstored, Objects: stored}
	}
	return stored
}

// prepareVolumes is the verdict's volume step: every volume of the pod is
// made on the host (at render, checked and written under the output), its
// path handed to translate. At apply it runs after the pod is recorded,
// so teardown finds and unmounts what it made.
func (r *Runner) prepareVolumes(pod *corev1.Pod, l translate.Layout) (map[string]string, error) {
	cfg := r.volumeConfig(l)
	if r.dryRun {
		// Secrets are written out as files: only their owner reads them,
		// as only root reads apply's pod directory.
		if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
			return nil, err
		}
	}
	paths, err := volume.Prepare(cfg, pod)
	if err != nil {
		return nil, err
	}
	for _, name := range translate.SharedVolumes(pod) {
		dir := volume.Path(cfg.Dir, name)
		share := volume.Share
		if r.dryRun {
			share = func(_, dir string) error { return os.MkdirAll(dir, 0o777) }
		}
		if err := share(paths[name], dir); err != nil {
			return nil, fmt.Errorf("preparing volume %q for mount propagation: %w", name, err)
		}
		paths[name] = dir
	}
	return paths, nil
}

// prepareContainerVolumes makes the image volumes of the plan and
// bind-mounts each subPath at its staging path. It returns, by
// container, the reason a container cannot be created (an invalid or
// escaping subPath, a propagated mount whose source is not shared); that
// container stays waiting while the others run. A dry run (render)
// resolves the subPaths without binding them, leaves the image volumes
// empty, and checks the propagation of host paths only: apply makes the
// pod's own volumes shared.
func prepareContainerVolumes(plan *translate.Plan, l translate.Layout, dryRun bool) (map[string]string, error) {
	for _, iv := range plan.ImageVolumes {
		if dryRun {
			if err := os.MkdirAll(iv.Source, 0o755); err != nil {
				return nil, err
			}
			continue
		}
		if err := makeImageVolume(iv, l); err != nil {
			return nil, err
		}
	}
	bind := volume.BindSubPath
	if dryRun {
		bind = func(root, sub, _ string) error { return volume.CheckSubPathIn(root, sub) }
	}
	configErrs := map[string]string{}
	for _, sp := range plan.SubPaths {
		if _, failed := configErrs[sp.Container]; failed {
			continue
		}
		msg := sp.Error
		if msg == "" {
			if err := bind(sp.Source, sp.Path, sp.Staging); err != nil {
				msg = fmt.Sprintf("failed to prepare subPath for volumeMount %q of container %q: %v", sp.Volume, sp.Container, err)
			}
		}
		if msg != "" {
			configErrs[sp.Container] = msg
		}
	}
	own := ""
	if dryRun {
		own = l.Dir
	}
	for name, msg := range propagationErrors(plan, own) {
		if _, failed := configErrs[name]; !failed {
			configErrs[name] = msg
		}
	}
	return configErrs, nil
}

// propagationErrors checks, as containerd does when it creates a
// container (so after the subPaths are bound), that the source of each
// rshared mount lies on a shared mount and that of each rslave mount on
// a shared or slave one (a hostPath on a private mount fails it), and
// returns the reason by container. Sources under own, when set, are
// taken as shared: render's stand-ins for the volumes apply shares.
func propagationErrors(plan *translate.Plan, own string) map[string]string {
	errs := map[string]string{}
	for _, c := range planContainers(plan) {
		for _, m := range c.Spec.Mounts {
			shared, slave := slices.Contains(m.Options, "rshared"), slices.Contains(m.Options, "rslave")
			if !shared && !slave || own != "" && within(m.Source, own) {
				continue
			}
			if err := volume.CheckShared(m.Source, slave); err != nil {
				errs[c.Name] = fmt.Sprintf("failed to generate container %q spec: %v", c.Name, err)
				break
			}
		}
	}
	return errs
}

// makeImageVolume creates an anonymous volume for an image's VOLUME with
// the mode and owner the image gives that directory, and copies the
// image's contents there, as containerd does.
func makeImageVolume(iv translate.ImageVolume, l translate.Layout) error {
	if err := os.MkdirAll(iv.Source, 0o755); err != nil {
		return fmt.Errorf("creating the volume for %s of container %q: %w", iv.Path, iv.Container, err)
	}
	rootfs, err := os.OpenRoot(l.Rootfs(iv.Container))
	if err != nil {
		return nil // no root file system yet (render): an empty volume
	}
	defer rootfs.Close()
	dst, err := os.OpenRoot(iv.Source)
	if err != nil {
		return err
	}
	defer dst.Close()
	rel := strings.TrimPrefix(iv.Path, "/")
	if _, err := rootfs.Stat(rel); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := copyTree(rootfs, rel, dst); err != nil {
		return fmt.Errorf("copying %s of container %q's image into its volume: %w", iv.Path, iv.Container, err)
	}
	return nil
}

// copyTree copies directory src of from into the root of to: directories,
// regular files and symlinks, with modes and owners. Both sides are
// resolved inside their roots.
func copyTree(from *os.Root, src string, to *os.Root) error {
	return fs.WalkDir(from.FS(), src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		info, err := from.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case info.IsDir():
			if rel != "." {
				if err := to.Mkdir(rel, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
					return err
				}
			}
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := from.Readlink(p)
			if err != nil {
				return err
			}
			if err := to.Symlink(target, rel); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			data, err := from.ReadFile(p)
			if err != nil {
				return err
			}
			if err := to.WriteFile(rel, data, 0o600); err != nil {
				return err
			}
		default:
			return nil // devices and fifos are not copied
		}
		if st, ok := info.Sys().(*unix.Stat_t); ok {
			if err := to.Lchown(rel, int(st.Uid), int(st.Gid)); err != nil {
				return err
			}
		}
		if info.Mode()&fs.ModeSymlink == 0 {
			return to.Chmod(rel, info.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))
		}
		return nil
	})
}

// removePodDir removes the pod's directory once nothing is mounted under
// it. A mount left there (a subPath of a named volume, a hostPath bound
// through a staging path) would let the removal reach into data that must
// outlive the pod, so it is refused; the next delete finishes the job.
func removePodDir(dir *state.PodDir) error {
	left, err := mountinfo.Under(dir.Dir)
	if err != nil {
		return err
	}
	if len(left) > 0 {
		return fmt.Errorf("not removing %s: %d mounts remain under it (first %s): run delete again", dir.Dir, len(left), left[0])
	}
	return dir.Remove()
}

// nodeVolumeFacts is the node allocatable as the downward API volumes
// need it; a resource that could not be read is zero.
func nodeVolumeFacts() volume.Node {
	list, _ := host.Allocatable()
	return volume.Node{
		CPU:              list[corev1.ResourceCPU],
		Memory:           list[corev1.ResourceMemory],
		EphemeralStorage: list[corev1.ResourceEphemeralStorage],
	}
}

// within reports whether p is dir or lies below it.
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}
