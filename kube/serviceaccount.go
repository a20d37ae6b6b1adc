package kube

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// What the API server's ServiceAccount admission plugin
// (plugin/pkg/admission/serviceaccount) does to a new pod: the projected
// volume that carries the service account's token, the cluster's root CA
// and the namespace, mounted in every container.

const (
	// TokenVolumePrefix begins the name of the volume the plugin adds;
	// five random characters follow (TokenVolumeName).
	TokenVolumePrefix = "kube-api-access-"
	// TokenMountPath is where every container finds the volume.
	TokenMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
	// RootCAConfigMap is the ConfigMap the root-CA publisher keeps in
	// every namespace, and its key.
	RootCAConfigMap = "kube-root-ca.crt"
	RootCAKey       = "ca.crt"
	// TokenVolumeExpiration is the expirationSeconds of the plugin's
	// token: one that no user writes, by which the API server knows to
	// extend it (TokenLegacyExpiration).
	TokenVolumeExpiration int64 = 3607
	// DefaultServiceAccount is the ServiceAccount every namespace has.
	DefaultServiceAccount = "default"
)

// tokenAlphabet is the API server's for generated names
// (k8s.io/apimachinery/pkg/util/rand): no vowels, so no words.
const tokenAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// TokenVolumeName is the name the plugin gives the volume, with five
// characters of the API server's alphabet picked by random (any bytes,
// for example from crypto/rand; only the first five are read).
func TokenVolumeName(random [5]byte) string {
	var b strings.Builder
	b.WriteString(TokenVolumePrefix)
	for _, c := range random {
		b.WriteByte(tokenAlphabet[int(c)%len(tokenAlphabet)])
	}
	return b.String()
}

// AdmitServiceAccount does to pod what the ServiceAccount admission plugin
// does on create. serviceAccountName defaults to "default", and the
// deprecated serviceAccount mirrors it. sa is the ServiceAccount the pod
// names; nil stands for one with no automount setting (a namespace's
// implicit "default"). Unless the pod's automountServiceAccountToken, or
// failing it the ServiceAccount's, is false, every init and app container
// that mounts nothing at TokenMountPath gets a read-only mount of the
// token volume there; the volume (named volumeName, see TokenVolumeName)
// is added unless the pod already has one named TokenVolumePrefix-*, which
// the mounts then name. It reports whether it changed the volumes or
// mounts.
func AdmitServiceAccount(pod *corev1.Pod, sa *corev1.ServiceAccount, volumeName string) bool {
	s := &pod.Spec
	if s.ServiceAccountName == "" {
		s.ServiceAccountName = s.DeprecatedServiceAccount
	}
	if s.ServiceAccountName == "" {
		s.ServiceAccountName = DefaultServiceAccount
	}
	s.DeprecatedServiceAccount = s.ServiceAccountName
	if !automount(pod, sa) {
		return false
	}
	name, hasVolume := volumeName, false
	for _, v := range s.Volumes {
		if strings.HasPrefix(v.Name, TokenVolumePrefix) {
			name, hasVolume = v.Name, true
			break
		}
	}
	mounted := false
	for _, list := range [][]corev1.Container{s.InitContainers, s.Containers} {
		for i := range list {
			if mountsAt(&list[i], TokenMountPath) {
				continue
			}
			list[i].VolumeMounts = append(list[i].VolumeMounts, corev1.VolumeMount{
				Name: name, ReadOnly: true, MountPath: TokenMountPath,
			})
			mounted = true
		}
	}
	if mounted && !hasVolume {
		s.Volumes = append(s.Volumes, TokenVolume(name))
	}
	return mounted
}

// automount is the plugin's rule: the pod's field, then the
// ServiceAccount's, then true.
func automount(pod *corev1.Pod, sa *corev1.ServiceAccount) bool {
	switch {
	case pod.Spec.AutomountServiceAccountToken != nil:
		return *pod.Spec.AutomountServiceAccountToken
	case sa != nil && sa.AutomountServiceAccountToken != nil:
		return *sa.AutomountServiceAccountToken
	}
	return true
}

func mountsAt(c *corev1.Container, path string) bool {
	for _, m := range c.VolumeMounts {
		if m.MountPath == path {
			return true
		}
	}
	return false
}

// TokenVolume is the projected volume the plugin adds, as the API server
// writes it: the token (expiring after TokenVolumeExpiration seconds, for
// the API server's audiences), the root CA and the namespace, mode 0644.
func TokenVolume(name string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		DefaultMode: ptr(corev1.ProjectedVolumeSourceDefaultMode),
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
				ExpirationSeconds: ptr(TokenVolumeExpiration), Path: "token",
			}},
			{ConfigMap: &corev1.ConfigMapProjection{
				LocalObjectReference: corev1.LocalObjectReference{Name: RootCAConfigMap},
				Items:                []corev1.KeyToPath{{Key: RootCAKey, Path: RootCAKey}},
			}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{
				Path:     "namespace",
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"},
			}}}},
		},
	}}}
}
