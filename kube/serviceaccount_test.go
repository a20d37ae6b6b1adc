package kube

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func saPod(automount *bool) *corev1.Pod {
	return &corev1.Pod{Spec: corev1.PodSpec{
		AutomountServiceAccountToken: automount,
		InitContainers:               []corev1.Container{{Name: "init"}},
		Containers:                   []corev1.Container{{Name: "a"}, {Name: "b"}},
	}}
}

func TestAdmitServiceAccountAutomount(t *testing.T) {
	settings := map[string]*bool{"unset": nil, "true": ptr(true), "false": ptr(false)}
	for podName, podSet := range settings {
		for saName, saSet := range settings {
			// The pod's field wins; then the ServiceAccount's; then true.
			want := true
			switch {
			case podSet != nil:
				want = *podSet
			case saSet != nil:
				want = *saSet
			}
			t.Run(fmt.Sprintf("pod %s, serviceaccount %s", podName, saName), func(t *testing.T) {
				pod := saPod(podSet)
				sa := &corev1.ServiceAccount{AutomountServiceAccountToken: saSet}
				changed := AdmitServiceAccount(pod, sa, "kube-api-access-abcde")
				if changed != want {
					t.Errorf("changed = %v, want %v", changed, want)
				}
				if got := len(pod.Spec.Volumes) == 1; got != want {
					t.Errorf("volumes = %v, want the token volume: %v", pod.Spec.Volumes, want)
				}
				for _, c := range allOf(pod) {
					if got := len(c.VolumeMounts) == 1; got != want {
						t.Errorf("container %s mounts %v, want the token: %v", c.Name, c.VolumeMounts, want)
					}
				}
			})
		}
	}
}

func allOf(pod *corev1.Pod) []corev1.Container {
	return append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
}

func TestAdmitServiceAccountNilIsImplicitDefault(t *testing.T) {
	pod := saPod(nil)
	if !AdmitServiceAccount(pod, nil, "kube-api-access-abcde") {
		t.Fatal("no token for the implicit default ServiceAccount")
	}
	if pod.Spec.ServiceAccountName != "default" || pod.Spec.DeprecatedServiceAccount != "default" {
		t.Errorf("serviceAccountName %q, serviceAccount %q, want default for both",
			pod.Spec.ServiceAccountName, pod.Spec.DeprecatedServiceAccount)
	}
	want := corev1.Volume{Name: "kube-api-access-abcde", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		DefaultMode: ptr[int32](0o644),
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: ptr[int64](3607), Path: "token"}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
				Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace",
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
		},
	}}}
	if diff := cmp.Diff([]corev1.Volume{want}, pod.Spec.Volumes); diff != "" {
		t.Errorf("volumes (-want +got):\n%s", diff)
	}
	mount := corev1.VolumeMount{Name: "kube-api-access-abcde", ReadOnly: true, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}
	for _, c := range allOf(pod) {
		if diff := cmp.Diff([]corev1.VolumeMount{mount}, c.VolumeMounts); diff != "" {
			t.Errorf("container %s mounts (-want +got):\n%s", c.Name, diff)
		}
	}
}

func TestAdmitServiceAccountNames(t *testing.T) {
	pod := saPod(nil)
	pod.Spec.DeprecatedServiceAccount = "builder"
	AdmitServiceAccount(pod, nil, "kube-api-access-abcde")
	if pod.Spec.ServiceAccountName != "builder" || pod.Spec.DeprecatedServiceAccount != "builder" {
		t.Errorf("serviceAccountName %q, serviceAccount %q, want builder for both (from the deprecated field)",
			pod.Spec.ServiceAccountName, pod.Spec.DeprecatedServiceAccount)
	}
}

// A container that mounts something at the path keeps it; the others get
// the token. With every container served, no volume is added.
func TestAdmitServiceAccountExistingMount(t *testing.T) {
	own := corev1.VolumeMount{Name: "mine", MountPath: TokenMountPath}
	pod := saPod(nil)
	pod.Spec.Volumes = []corev1.Volume{{Name: "mine"}}
	pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{own}
	AdmitServiceAccount(pod, nil, "kube-api-access-abcde")
	if diff := cmp.Diff([]corev1.VolumeMount{own}, pod.Spec.Containers[0].VolumeMounts); diff != "" {
		t.Errorf("container a's own mount changed (-want +got):\n%s", diff)
	}
	for _, c := range []corev1.Container{pod.Spec.InitContainers[0], pod.Spec.Containers[1]} {
		if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].Name != "kube-api-access-abcde" {
			t.Errorf("container %s mounts %v, want the token volume", c.Name, c.VolumeMounts)
		}
	}

	all := saPod(nil)
	all.Spec.Volumes = []corev1.Volume{{Name: "mine"}}
	for _, list := range [][]corev1.Container{all.Spec.InitContainers, all.Spec.Containers} {
		for i := range list {
			list[i].VolumeMounts = []corev1.VolumeMount{own}
		}
	}
	if AdmitServiceAccount(all, nil, "kube-api-access-abcde") {
		t.Error("changed a pod whose containers all mount the path")
	}
	if len(all.Spec.Volumes) != 1 {
		t.Errorf("volumes = %v, want only the pod's own", all.Spec.Volumes)
	}
}

// Admitting an admitted pod changes nothing: the existing token volume is
// kept, whatever name the second call offers.
func TestAdmitServiceAccountAgain(t *testing.T) {
	pod := saPod(nil)
	AdmitServiceAccount(pod, nil, "kube-api-access-abcde")
	once := pod.DeepCopy()
	if AdmitServiceAccount(pod, nil, "kube-api-access-vwxyz") {
		t.Error("a second admission changed the pod")
	}
	if diff := cmp.Diff(once, pod); diff != "" {
		t.Errorf("second admission (-first +second):\n%s", diff)
	}
	// A container added later mounts the volume already there.
	pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: "c"})
	AdmitServiceAccount(pod, nil, "kube-api-access-vwxyz")
	if got := pod.Spec.Containers[2].VolumeMounts; len(got) != 1 || got[0].Name != "kube-api-access-abcde" {
		t.Errorf("new container mounts %v, want kube-api-access-abcde", got)
	}
	if len(pod.Spec.Volumes) != 1 {
		t.Errorf("volumes = %v, want one", pod.Spec.Volumes)
	}
}

func TestTokenVolumeName(t *testing.T) {
	if got := TokenVolumeName([5]byte{0, 1, 26, 27, 255}); got != "kube-api-access-bc9bq" {
		t.Errorf("TokenVolumeName = %q", got)
	}
}

func TestTokenProjectionValidation(t *testing.T) {
	in := podHead + `  containers: [{name: a, image: busybox}]
  volumes:
  - name: t
    projected:
      sources:
      - serviceAccountToken: {path: token, expirationSeconds: 599}
      - serviceAccountToken: {audience: vault}
      - serviceAccountToken: {path: ../token}
      - serviceAccountToken: {path: /token, expirationSeconds: 4294967297}
`
	_, err := pods(t, Options{}, in)
	want := `a.yaml:11: spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes
a.yaml:12: spec.volumes[0].projected.sources[1].serviceAccountToken.path: Required value
a.yaml:13: spec.volumes[0].projected.sources[2].serviceAccountToken.path: Invalid value: "../token": must not contain '..'
a.yaml:14: spec.volumes[0].projected.sources[3].serviceAccountToken.expirationSeconds: Invalid value: 4294967297: may not specify a duration larger than 2^32 seconds
a.yaml:14: spec.volumes[0].projected.sources[3].serviceAccountToken.path: Invalid value: "/token": must be a relative path`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}

func TestTokenProjectionDefaults(t *testing.T) {
	in := podHead + `  containers: [{name: a, image: busybox}]
  volumes:
  - name: t
    projected:
      sources:
      - serviceAccountToken: {path: token, audience: vault}
`
	got, err := pods(t, Options{}, in)
	if err != nil {
		t.Fatal(err)
	}
	tok := got[0].Pod.Spec.Volumes[0].Projected.Sources[0].ServiceAccountToken
	if tok.ExpirationSeconds == nil || *tok.ExpirationSeconds != 3600 {
		t.Errorf("expirationSeconds = %v, want the API server's default 3600", tok.ExpirationSeconds)
	}
}
