package translate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// SubPath is a volumeMount with a subPath or subPathExpr. Right before
// the container is created, the runner resolves Path inside the volume
// at Source (never outside it) and bind-mounts the result at Staging,
// which the container's spec mounts. Error is set when the expanded path
// is invalid: the container then stays waiting with reason
// CreateContainerConfigError, as on Kubernetes, while the pod runs.
type SubPath struct {
	Container string
	Volume    string
	Source    string // the volume's host path
	Path      string // relative to the volume, expanded
	Staging   string // under Layout.Dir
	Error     string
}

// ImageVolume is an anonymous volume for a VOLUME of a container's image
// that no volumeMount covers, as containerd makes them: the runner
// creates Source, fills it with what the image has at Path, and the spec
// bind-mounts it there.
type ImageVolume struct {
	Container string
	Path      string // in the container
	Source    string // under Layout.Dir
}

// VolumeDir is where the runner prepares the pod's volume name (hostPath
// and persistentVolumeClaim volumes excepted).
func (l Layout) VolumeDir(name string) string { return filepath.Join(l.Dir, "volumes", name) }

// SubPathDir is the staging mount point of container's volumeMount i.
func (l Layout) SubPathDir(container string, i int) string {
	return filepath.Join(l.Dir, "volume-subpaths", container, strconv.Itoa(i))
}

// ImageVolumeDir is the anonymous volume of container for image path p.
func (l Layout) ImageVolumeDir(container, p string) string {
	sum := sha256.Sum256([]byte(p))
	return filepath.Join(l.Bundle(container), "image-volumes", hex.EncodeToString(sum[:8]))
}

// volumeSource is the host path of volume v: what the runner prepared
// (Input.Volumes), else where it will prepare it.
func volumeSource(in Input, v *corev1.Volume) string {
	if p, ok := in.Volumes[v.Name]; ok {
		return p
	}
	if v.HostPath != nil {
		return v.HostPath.Path
	}
	return in.Layout.VolumeDir(v.Name)
}

// apiDataVolume reports whether v is always mounted read-only, as the
// kubelet mounts configMap, secret, downwardAPI and projected volumes.
func apiDataVolume(v *corev1.Volume) bool {
	return v.ConfigMap != nil || v.Secret != nil || v.DownwardAPI != nil || v.Projected != nil
}

// propagation maps mountPropagation to the runtime's option.
func propagation(m *corev1.MountPropagationMode) string {
	switch {
	case m == nil:
		return "rprivate"
	case *m == corev1.MountPropagationHostToContainer:
		return "rslave"
	case *m == corev1.MountPropagationBidirectional:
		return "rshared"
	}
	return "rprivate"
}

// WithRootfsPropagation sets the propagation of the container's root as
// containerd's CRI plugin does for the mounts it is given: rshared when a
// mount is rshared (else runc makes the root rslave, and a mount made in
// a Bidirectional volume would never reach the host), rslave when a
// mount is rslave, the runtime's default otherwise.
func WithRootfsPropagation() SpecOpt {
	return func(s *specs.Spec) error {
		prop := ""
		for _, m := range s.Mounts {
			switch {
			case slices.Contains(m.Options, "rshared"):
				prop = "rshared"
			case slices.Contains(m.Options, "rslave") && prop == "":
				prop = "rslave"
			}
		}
		if prop != "" {
			if s.Linux == nil {
				s.Linux = &specs.Linux{}
			}
			s.Linux.RootfsPropagation = prop
		}
		return nil
	}
}

// SharedVolumes lists, sorted, the volumes of pod that a container mounts
// with mountPropagation HostToContainer or Bidirectional. Before any
// container starts, the runner makes each (hostPath excepted) a shared
// mount of its own, as the kubelet keeps its pods' volumes under a shared
// mount: a mount made in it then reaches the host's side and every
// container that mounts it with propagation. A hostPath must already
// lie on a shared (for HostToContainer, or slave) mount, as on Kubernetes.
func SharedVolumes(pod *corev1.Pod) []string {
	hostPaths := map[string]bool{}
	for _, v := range pod.Spec.Volumes {
		hostPaths[v.Name] = v.HostPath != nil
	}
	var names []string
	for _, c := range allPodContainers(&pod.Spec) {
		for _, m := range c.VolumeMounts {
			if propagation(m.MountPropagation) != "rprivate" && !hostPaths[m.Name] && !slices.Contains(names, m.Name) {
				names = append(names, m.Name)
			}
		}
	}
	slices.Sort(names)
	return names
}

// containerVolumes turns c's volumeMounts (and its image's VOLUMEs) into
// bind mounts, and lists the subPaths and image volumes the runner must
// prepare first.
func containerVolumes(in Input, c *corev1.Container, fp *field.Path) ([]specs.Mount, []SubPath, []ImageVolume, error) {
	vols := map[string]*corev1.Volume{}
	for i := range in.Pod.Spec.Volumes {
		vols[in.Pod.Spec.Volumes[i].Name] = &in.Pod.Spec.Volumes[i]
	}
	var mounts []specs.Mount
	var subs []SubPath
	for i, m := range c.VolumeMounts {
		v, ok := vols[m.Name]
		if !ok {
			return nil, nil, nil, fieldErrorf(fp.Child("volumeMounts").Index(i).Child("name"), "volume %q: Not found", m.Name)
		}
		src := volumeSource(in, v)
		if m.SubPath != "" || m.SubPathExpr != "" {
			sp := subPath(in, c, m, fp.Child("volumeMounts").Index(i))
			sp.Container, sp.Volume, sp.Source = c.Name, m.Name, src
			sp.Staging = in.Layout.SubPathDir(c.Name, i)
			subs = append(subs, sp)
			src = sp.Staging
		}
		mounts = append(mounts, specs.Mount{
			Destination: m.MountPath,
			Type:        "bind",
			Source:      src,
			Options:     []string{"rbind", propagation(m.MountPropagation), readWrite(m.ReadOnly || apiDataVolume(v) || claimReadOnly(v))},
		})
	}
	imgs := imageVolumes(in, c, mounts)
	for _, iv := range imgs {
		mounts = append(mounts, specs.Mount{Destination: iv.Path, Type: "bind", Source: iv.Source, Options: []string{"rbind", "rprivate", "rw"}})
	}
	return mounts, subs, imgs, nil
}

func readWrite(ro bool) string {
	if ro {
		return "ro"
	}
	return "rw"
}

func claimReadOnly(v *corev1.Volume) bool {
	return v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ReadOnly
}

// subPath expands and checks a volumeMount's subPath or subPathExpr as
// the kubelet does when it creates the container.
func subPath(in Input, c *corev1.Container, m corev1.VolumeMount, fp *field.Path) SubPath {
	sp := SubPath{Path: m.SubPath}
	if m.SubPathExpr != "" {
		expanded, missing := expandSubPath(m.SubPathExpr, subPathEnv(in, c))
		if len(missing) > 0 {
			sp.Error = fmt.Sprintf("%s: missing value for %s", fp.Child("subPathExpr"), strings.Join(missing, ", "))
			return sp
		}
		sp.Path = expanded
	}
	switch {
	case path.IsAbs(sp.Path):
		sp.Error = fmt.Sprintf("%s: subPath %q must not be an absolute path", fp, sp.Path)
	case slices.Contains(strings.Split(sp.Path, "/"), ".."):
		sp.Error = fmt.Sprintf("%s: subPath %q must not contain '..'", fp, sp.Path)
	}
	return sp
}

// expandSubPath replaces $(NAME) with env's value and $$ with $, and
// lists the names with no (or an empty) value, which the kubelet refuses.
func expandSubPath(expr string, env map[string]string) (string, []string) {
	var b strings.Builder
	var missing []string
	for i := 0; i < len(expr); i++ {
		switch {
		case strings.HasPrefix(expr[i:], "$$"):
			b.WriteByte('$')
			i++
		case strings.HasPrefix(expr[i:], "$("):
			end := strings.IndexByte(expr[i:], ')')
			if end < 0 {
				b.WriteString(expr[i:])
				return b.String(), missing
			}
			name := expr[i+2 : i+end]
			if v := env[name]; v != "" {
				b.WriteString(v)
			} else if !slices.Contains(missing, name) {
				missing = append(missing, name)
			}
			i += end
		default:
			b.WriteByte(expr[i])
		}
	}
	slices.Sort(missing)
	return b.String(), missing
}

// subPathEnv is the container's environment as subPathExpr sees it: its
// literal env values and the pod fields its fieldRefs name.
func subPathEnv(in Input, c *corev1.Container) map[string]string {
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name], _ = expandSubPath(e.Value, env)
		case e.ValueFrom.FieldRef != nil:
			env[e.Name] = podFieldValue(in, e.ValueFrom.FieldRef.FieldPath)
		}
	}
	return env
}

func podFieldValue(in Input, fieldPath string) string {
	pod := in.Pod
	switch fieldPath {
	case "metadata.name":
		return pod.Name
	case "metadata.namespace":
		return pod.Namespace
	case "metadata.uid":
		return string(pod.UID)
	case "spec.nodeName":
		return pod.Spec.NodeName
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName
	case "status.podIP":
		return in.PodIP
	case "status.hostIP":
		return in.Host.HostIP
	}
	if p, key, ok := strings.Cut(strings.TrimSuffix(fieldPath, "']"), "['"); ok {
		switch p {
		case "metadata.labels":
			return pod.Labels[key]
		case "metadata.annotations":
			return pod.Annotations[key]
		}
	}
	return ""
}

// imageVolumes lists the image's VOLUMEs that no mount covers.
func imageVolumes(in Input, c *corev1.Container, mounts []specs.Mount) []ImageVolume {
	var out []ImageVolume
	for _, p := range in.Images[c.Name].Volumes {
		p = path.Clean("/" + p)
		if slices.ContainsFunc(mounts, func(m specs.Mount) bool { return path.Clean(m.Destination) == p }) {
			continue
		}
		out = append(out, ImageVolume{Container: c.Name, Path: p, Source: in.Layout.ImageVolumeDir(c.Name, p)})
	}
	return out
}

// volumePlan lists every container's subPaths and image volumes.
func volumePlan(in Input) ([]SubPath, []ImageVolume) {
	var subs []SubPath
	var imgs []ImageVolume
	for _, c := range allPodContainers(&in.Pod.Spec) {
		_, s, iv, err := containerVolumes(in, c, field.NewPath("spec"))
		if err == nil {
			subs, imgs = append(subs, s...), append(imgs, iv...)
		}
	}
	return subs, imgs
}

func allPodContainers(spec *corev1.PodSpec) []*corev1.Container {
	var out []*corev1.Container
	for i := range spec.InitContainers {
		out = append(out, &spec.InitContainers[i])
	}
	for i := range spec.Containers {
		out = append(out, &spec.Containers[i])
	}
	return out
}
