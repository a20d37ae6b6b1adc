package volume

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podrun/podrun/translate"
)

// Config is what Prepare needs besides the pod.
type Config struct {
	// Dir is where the pod's volumes live: <pod dir>/volumes.
	Dir     string
	Claims  Claims
	Objects Objects
	Node    Node
	// Protected are the host paths a hostPath may not be, lie in or
	// contain: podrun's roots, the runtime's state.
	Protected []string
	// AllowUnsafeHostPaths lifts the Protected check and the refusal of /.
	AllowUnsafeHostPaths bool
	// DryRun is render's Prepare: the same checks, in the same order, to
	// the same verdict, with volumes written as plain directories under
	// Dir. It mounts nothing (no tmpfs), changes no ownership, creates no
	// host path (an *OrCreate hostPath is checked as it would be made) and
	// leaves a claim's data alone.
	DryRun bool
}

// Claims finds the named volume bound to a claim: the Store at apply; at
// render, the Store and the claims render's input would bind.
type Claims interface {
	Get(namespace, name string) (*Named, error)
}

// Prepare makes every volume of pod on the host and returns the host path
// of each by name, for translate to bind-mount. It is called once per
// pod, before any container is created; the volumes then persist across
// container restarts until the pod's teardown unmounts and removes them
// (named volumes excepted: they stay under the data root).
func Prepare(cfg Config, pod *corev1.Pod) (map[string]string, error) {
	paths := map[string]string{}
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		p, err := cfg.prepare(pod, v)
		if err != nil {
			fp := field.NewPath("spec", "volumes").Index(i).String()
			return nil, &translate.FieldError{Field: fp, Err: fmt.Errorf("preparing volume %q: %w", v.Name, err)}
		}
		paths[v.Name] = p
	}
	return paths, nil
}

// Path is where Prepare puts volume name of the pod whose volumes live in dir.
func Path(dir, name string) string { return filepath.Join(dir, name) }

func (cfg Config) prepare(pod *corev1.Pod, v *corev1.Volume) (string, error) {
	dir := Path(cfg.Dir, v.Name)
	vs := &v.VolumeSource
	switch {
	case vs.EmptyDir != nil:
		return dir, cfg.emptyDir(pod, dir, vs.EmptyDir)
	case vs.HostPath != nil:
		return vs.HostPath.Path, cfg.hostPath(vs.HostPath)
	case vs.PersistentVolumeClaim != nil:
		return cfg.claim(pod, vs.PersistentVolumeClaim.ClaimName)
	case vs.ConfigMap != nil, vs.Secret != nil, vs.DownwardAPI != nil, vs.Projected != nil:
		return dir, cfg.projected(pod, v, dir)
	}
	names := setSources(vs)
	return "", fmt.Errorf("volume type %v: %w: podrun provides emptyDir, hostPath, configMap, secret, downwardAPI, projected and persistentVolumeClaim", names, ErrNotSupported)
}

// emptyDir is a 0777 directory, or a tmpfs (mode 1777, size sizeLimit)
// for medium Memory, as the kubelet makes them.
func (cfg Config) emptyDir(pod *corev1.Pod, dir string, ed *corev1.EmptyDirVolumeSource) error {
	if err := makeVolumeDir(dir); err != nil {
		return err
	}
	switch ed.Medium {
	case corev1.StorageMediumDefault:
	case corev1.StorageMediumMemory:
		size := ""
		if ed.SizeLimit != nil && ed.SizeLimit.Sign() > 0 {
			size = fmt.Sprintf("size=%d", ed.SizeLimit.Value())
		}
		if err := cfg.mountTmpfs(dir, size); err != nil {
			return err
		}
	default:
		return fmt.Errorf("emptyDir.medium %q: %w (use \"\" or Memory)", ed.Medium, ErrNotSupported)
	}
	return cfg.setOwnership(dir, pod, false)
}

func makeVolumeDir(dir string) error {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	return os.Chmod(dir, 0o777)
}

// mountTmpfs mounts a tmpfs on dir, unless one is already there or this
// is a dry run.
func (cfg Config) mountTmpfs(dir, size string) error {
	if cfg.DryRun || isTmpfs(dir) {
		return nil
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, size); err != nil {
		return fmt.Errorf("mounting a tmpfs on %s: %w", dir, err)
	}
	return nil
}

func isTmpfs(dir string) bool {
	var st unix.Statfs_t
	var parent unix.Stat_t
	var self unix.Stat_t
	if unix.Statfs(dir, &st) != nil || st.Type != unix.TMPFS_MAGIC {
		return false
	}
	// The directory may merely lie on a tmpfs (a run root on /run):
	// it is a mount of its own only if its device differs from its parent's.
	if unix.Stat(dir, &self) != nil || unix.Stat(filepath.Dir(dir), &parent) != nil {
		return false
	}
	return self.Dev != parent.Dev
}

func (cfg Config) hostPath(h *corev1.HostPathVolumeSource) error {
	if !cfg.AllowUnsafeHostPaths {
		if err := CheckHostPathSafe(h.Path, cfg.Protected); err != nil {
			return err
		}
	}
	if cfg.DryRun {
		return checkHostPathType(h.Path, h.Type, false)
	}
	return CheckHostPath(h.Path, h.Type)
}

func (cfg Config) claim(pod *corev1.Pod, name string) (string, error) {
	if cfg.Claims == nil {
		return "", fmt.Errorf("persistentvolumeclaim %q: %w", name, ErrNotFound)
	}
	n, err := cfg.Claims.Get(pod.Namespace, name)
	if err != nil {
		return "", err
	}
	if err := cfg.setOwnership(n.Path, pod, false); err != nil {
		return "", err
	}
	return n.Path, nil
}

// projected fills an atomic-writer volume. Secrets, downwardAPI and
// projected volumes live on a tmpfs, configMaps on disk, as the kubelet
// wraps them.
func (cfg Config) projected(pod *corev1.Pod, v *corev1.Volume, dir string) error {
	payload, _, err := Payload(pod, v, cfg.Objects, cfg.Node)
	if err != nil {
		return err
	}
	if err := makeVolumeDir(dir); err != nil {
		return err
	}
	if v.ConfigMap == nil {
		if err := cfg.mountTmpfs(dir, ""); err != nil {
			return err
		}
	}
	own := ownershipFunc(pod, true)
	if cfg.DryRun {
		own = nil
	}
	return WriteAtomic(dir, payload, own)
}

// Refresh rewrites the atomic-writer volumes of pod for which only
// returns true (every one when only is nil) from the current objects and
// metadata: files change in running containers without a restart (subPath
// mounts excepted, as on Kubernetes). A volume whose source is now
// missing keeps its last contents.
func Refresh(cfg Config, pod *corev1.Pod, only func(*corev1.Volume) bool) error {
	var errs []error
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		if only != nil && !only(v) {
			continue
		}
		payload, ok, err := Payload(pod, v, cfg.Objects, cfg.Node)
		if !ok {
			continue
		}
		if err == nil {
			err = WriteAtomic(Path(cfg.Dir, v.Name), payload, ownershipFunc(pod, true))
		}
		if err != nil {
			fp := field.NewPath("spec", "volumes").Index(i).String()
			errs = append(errs, &translate.FieldError{Field: fp, Err: fmt.Errorf("refreshing volume %q: %w", v.Name, err)})
		}
	}
	return errors.Join(errs...)
}

func setSources(vs *corev1.VolumeSource) []string {
	var names []string
	for _, s := range []struct {
		name string
		set  bool
	}{
		{"gcePersistentDisk", vs.GCEPersistentDisk != nil}, {"awsElasticBlockStore", vs.AWSElasticBlockStore != nil},
		{"gitRepo", vs.GitRepo != nil}, {"nfs", vs.NFS != nil}, {"iscsi", vs.ISCSI != nil},
		{"glusterfs", vs.Glusterfs != nil}, {"rbd", vs.RBD != nil}, {"flexVolume", vs.FlexVolume != nil},
		{"cinder", vs.Cinder != nil}, {"cephfs", vs.CephFS != nil}, {"flocker", vs.Flocker != nil},
		{"fc", vs.FC != nil}, {"azureFile", vs.AzureFile != nil}, {"azureDisk", vs.AzureDisk != nil},
		{"vsphereVolume", vs.VsphereVolume != nil}, {"quobyte", vs.Quobyte != nil},
		{"photonPersistentDisk", vs.PhotonPersistentDisk != nil}, {"portworxVolume", vs.PortworxVolume != nil},
		{"scaleIO", vs.ScaleIO != nil}, {"storageos", vs.StorageOS != nil}, {"csi", vs.CSI != nil},
		{"ephemeral", vs.Ephemeral != nil}, {"image", vs.Image != nil},
	} {
		if s.set {
			names = append(names, s.name)
		}
	}
	return names
}

// ownershipFunc applies the fsGroup rules to an atomic-writer volume.
func ownershipFunc(pod *corev1.Pod, readOnly bool) func(*os.Root) error {
	if fsGroup(pod) == nil {
		return nil
	}
	return func(r *os.Root) error { return ownRoot(r, *fsGroup(pod), readOnly) }
}

func fsGroup(pod *corev1.Pod) *int64 {
	if sc := pod.Spec.SecurityContext; sc != nil {
		return sc.FSGroup
	}
	return nil
}

// setOwnership applies the fsGroup rules to a writable volume at dir,
// skipping the walk when fsGroupChangePolicy is OnRootMismatch and the
// root already matches, or when this is a dry run.
func (cfg Config) setOwnership(dir string, pod *corev1.Pod, readOnly bool) error {
	g := fsGroup(pod)
	if g == nil || cfg.DryRun {
		return nil
	}
	sc := pod.Spec.SecurityContext
	if p := sc.FSGroupChangePolicy; p != nil && *p == corev1.FSGroupChangeOnRootMismatch && rootMatches(dir, *g, readOnly) {
		return nil
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := ownRoot(r, *g, readOnly); err != nil {
		return fmt.Errorf("applying fsGroup %d to %s: %w", *g, dir, err)
	}
	return nil
}

// The kubelet's masks (pkg/volume/volume_linux.go).
const (
	rwMask   = fs.FileMode(0o660)
	roMask   = fs.FileMode(0o440)
	execMask = fs.FileMode(0o110)
)

// ownRoot gives every file of r the group gid, with group read (and
// write, unless readOnly) permission, and makes directories setgid so
// that new files inherit the group: the kubelet's SetVolumeOwnership.
// Symlinks get the group but keep their mode. Everything stays in r.
func ownRoot(r *os.Root, gid int64, readOnly bool) error {
	return fs.WalkDir(r.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := r.Lstat(p)
		if err != nil {
			return err
		}
		if err := r.Lchown(p, -1, int(gid)); err != nil {
			return err
		}
		if info.Mode()&fs.ModeSymlink != 0 {
			return nil
		}
		mask := rwMask
		if readOnly {
			mask = roMask
		}
		if info.IsDir() {
			mask |= fs.ModeSetgid | execMask
		}
		return r.Chmod(p, chmodBits(info.Mode())|mask)
	})
}

// chmodBits keeps the permission and special bits of m that chmod takes.
func chmodBits(m fs.FileMode) fs.FileMode {
	return m & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}

func rootMatches(dir string, gid int64, readOnly bool) bool {
	var st unix.Stat_t
	if unix.Stat(dir, &st) != nil {
		return false
	}
	mask := uint32(rwMask | execMask)
	if readOnly {
		mask = uint32(roMask | execMask)
	}
	return int64(st.Gid) == gid && st.Mode&mask == mask && st.Mode&unix.S_ISGID != 0
}
