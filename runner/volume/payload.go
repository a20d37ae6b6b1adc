package volume

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/podrun/podrun/translate"
)

// Objects finds the ConfigMaps and Secrets volumes project, and the
// ServiceAccounts whose tokens they hold. Each returns an error matching
// ErrNotFound when the object does not exist (for a ServiceAccount, the
// token is then that of the namespace's implicit one).
type Objects interface {
	ConfigMap(namespace, name string) (*corev1.ConfigMap, error)
	Secret(namespace, name string) (*corev1.Secret, error)
	ServiceAccount(namespace, name string) (*corev1.ServiceAccount, error)
}

// Node is what the downward API reports for resources a container does
// not limit: the node's allocatable CPU and memory, as the kubelet does.
type Node struct {
	CPU              resource.Quantity
	Memory           resource.Quantity
	EphemeralStorage resource.Quantity
}

// payloadSource builds the payload of one atomic-writer volume.
type payloadSource struct {
	pod     *corev1.Pod
	objects Objects
	node    Node
	clock   func() time.Time // nil: time.Now
}

func (s payloadSource) now() time.Time {
	if s.clock == nil {
		return time.Now()
	}
	return s.clock()
}

// serviceAccount is the ServiceAccount the pod names, nil when none is
// stored.
func (s payloadSource) serviceAccount() (*corev1.ServiceAccount, error) {
	if s.objects == nil {
		return nil, nil
	}
	sa, err := s.objects.ServiceAccount(s.pod.Namespace, s.pod.Spec.ServiceAccountName)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return sa, err
}

func mode(item *int32, def *int32) fs.FileMode {
	switch {
	case item != nil:
		return fs.FileMode(*item)
	case def != nil:
		return fs.FileMode(*def)
	}
	return 0o644
}

// configMapPayload is what a configMap volume (or projection) holds: every
// key of data and binaryData, or the items listed.
func (s payloadSource) configMapPayload(name string, items []corev1.KeyToPath, optional *bool, def *int32) (map[string]File, error) {
	cm, err := s.getConfigMap(name)
	if errors.Is(err, ErrNotFound) && optional != nil && *optional {
		return map[string]File{}, nil
	}
	if err != nil {
		return nil, err
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return keyPayload("configmap", name, data, items, optional, def)
}

func (s payloadSource) secretPayload(name string, items []corev1.KeyToPath, optional *bool, def *int32) (map[string]File, error) {
	sec, err := s.getSecret(name)
	if errors.Is(err, ErrNotFound) && optional != nil && *optional {
		return map[string]File{}, nil
	}
	if err != nil {
		return nil, err
	}
	data := map[string][]byte{}
	for k, v := range sec.Data {
		data[k] = v
	}
	for k, v := range sec.StringData { // an apply-time convenience the API server merges
		data[k] = []byte(v)
	}
	return keyPayload("secret", name, data, items, optional, def)
}

func (s payloadSource) getConfigMap(name string) (*corev1.ConfigMap, error) {
	if s.objects == nil {
		return nil, fmt.Errorf("configmap %q: %w", name, ErrNotFound)
	}
	return s.objects.ConfigMap(s.pod.Namespace, name)
}

func (s payloadSource) getSecret(name string) (*corev1.Secret, error) {
	if s.objects == nil {
		return nil, fmt.Errorf("secret %q: %w", name, ErrNotFound)
	}
	return s.objects.Secret(s.pod.Namespace, name)
}

// keyPayload maps keys to files as the kubelet does: every key at its
// own name, or only the items, each at its path. A missing item key is
// an error unless the source is optional.
func keyPayload(kind, name string, data map[string][]byte, items []corev1.KeyToPath, optional *bool, def *int32) (map[string]File, error) {
	out := map[string]File{}
	if len(items) == 0 {
		for k, v := range data {
			out[k] = File{Data: v, Mode: mode(nil, def)}
		}
		return out, nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if optional != nil && *optional {
				continue
			}
			return nil, fmt.Errorf("%s %q has no key %q (items[].key): add it or mark the volume optional", kind, name, it.Key)
		}
		out[it.Path] = File{Data: v, Mode: mode(it.Mode, def)}
	}
	return out, nil
}

// downwardPayload is what a downwardAPI volume (or projection) holds.
func (s payloadSource) downwardPayload(items []corev1.DownwardAPIVolumeFile, def *int32) (map[string]File, error) {
	out := map[string]File{}
	for _, it := range items {
		var v string
		var err error
		switch {
		case it.FieldRef != nil:
			v, err = podField(s.pod, it.FieldRef.FieldPath)
		case it.ResourceFieldRef != nil:
			v, err = s.resourceField(it.ResourceFieldRef)
		default:
			err = fmt.Errorf("item %q: one of fieldRef or resourceFieldRef is required", it.Path)
		}
		if err != nil {
			return nil, err
		}
		out[it.Path] = File{Data: []byte(v), Mode: mode(it.Mode, def)}
	}
	return out, nil
}

// podField is the value of a fieldRef in a downwardAPI volume, for the
// fields the API server allows there.
func podField(pod *corev1.Pod, fieldPath string) (string, error) {
	if !volumeField(fieldPath) {
		return "", fmt.Errorf("fieldRef.fieldPath %q: %w in a downwardAPI volume", fieldPath, ErrNotSupported)
	}
	return translate.FieldRef(pod, "", nil, fieldPath)
}

// volumeField reports whether a downwardAPI volume may name fieldPath.
func volumeField(fieldPath string) bool {
	switch fieldPath {
	case "metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels", "metadata.annotations":
		return true
	}
	for _, prefix := range []string{"metadata.labels['", "metadata.annotations['"} {
		if strings.HasPrefix(fieldPath, prefix) && strings.HasSuffix(fieldPath, "']") {
			return true
		}
	}
	return false
}

// resourceField is the value of a resourceFieldRef, the node's
// allocatable standing in for a limit that is not set.
func (s payloadSource) resourceField(ref *corev1.ResourceFieldSelector) (string, error) {
	c := findContainer(s.pod, ref.ContainerName)
	if c == nil {
		return "", fmt.Errorf("resourceFieldRef.containerName %q: no such container", ref.ContainerName)
	}
	v, err := translate.ResourceFieldRef(c, ref, corev1.ResourceList{
		corev1.ResourceCPU:              s.node.CPU,
		corev1.ResourceMemory:           s.node.Memory,
		corev1.ResourceEphemeralStorage: s.node.EphemeralStorage,
	})
	if err != nil {
		return "", fmt.Errorf("%w: %w", err, ErrNotSupported)
	}
	return v, nil
}

func findContainer(pod *corev1.Pod, name string) *corev1.Container {
	for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

// projectedPayload merges the payloads of a projected volume's sources.
func (s payloadSource) projectedPayload(p *corev1.ProjectedVolumeSource) (map[string]File, error) {
	out := map[string]File{}
	for i, src := range p.Sources {
		var part map[string]File
		var err error
		switch {
		case src.ConfigMap != nil:
			part, err = s.configMapPayload(src.ConfigMap.Name, src.ConfigMap.Items, src.ConfigMap.Optional, p.DefaultMode)
		case src.Secret != nil:
			part, err = s.secretPayload(src.Secret.Name, src.Secret.Items, src.Secret.Optional, p.DefaultMode)
		case src.DownwardAPI != nil:
			part, err = s.downwardPayload(src.DownwardAPI.Items, p.DefaultMode)
		case src.ServiceAccountToken != nil:
			part, err = s.tokenPayload(src.ServiceAccountToken, p.DefaultMode)
		default:
			err = fmt.Errorf("sources[%d]: this source is %w; podrun projects configMap, secret, downwardAPI and serviceAccountToken sources", i, ErrNotSupported)
		}
		if err != nil {
			return nil, err
		}
		for k, v := range part {
			out[k] = v
		}
	}
	return out, nil
}

// Payload is the payload of an atomic-writer volume source (configMap,
// secret, downwardAPI, projected) of pod; ok is false for other sources.
func Payload(pod *corev1.Pod, v *corev1.Volume, objects Objects, node Node) (payload map[string]File, ok bool, err error) {
	s := payloadSource{pod: pod, objects: objects, node: node}
	vs := &v.VolumeSource
	switch {
	case vs.ConfigMap != nil:
		payload, err = s.configMapPayload(vs.ConfigMap.Name, vs.ConfigMap.Items, vs.ConfigMap.Optional, vs.ConfigMap.DefaultMode)
	case vs.Secret != nil:
		payload, err = s.secretPayload(vs.Secret.SecretName, vs.Secret.Items, vs.Secret.Optional, vs.Secret.DefaultMode)
	case vs.DownwardAPI != nil:
		payload, err = s.downwardPayload(vs.DownwardAPI.Items, vs.DownwardAPI.DefaultMode)
	case vs.Projected != nil:
		payload, err = s.projectedPayload(vs.Projected)
	default:
		return nil, false, nil
	}
	if err != nil {
		return nil, true, err // the callers name the volume
	}
	return payload, true, nil
}
