package runner

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podrun/podrun/kube"
)

func TestFindPullSecret(t *testing.T) {
	secret := func(ns, name string, typ corev1.SecretType, key string) kube.Secret {
		return kube.Secret{Secret: &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Type: typ,
			Data: map[string][]byte{key: []byte(name)},
		}}
	}
	secrets := []kube.Secret{
		secret("default", "json", corev1.SecretTypeDockerConfigJson, corev1.DockerConfigJsonKey),
		secret("default", "cfg", corev1.SecretTypeDockercfg, corev1.DockerConfigKey),
		secret("default", "opaque", corev1.SecretTypeOpaque, corev1.DockerConfigJsonKey),
		secret("other", "elsewhere", corev1.SecretTypeDockerConfigJson, corev1.DockerConfigJsonKey),
	}
	tests := []struct {
		ns, name string
		ok       bool
	}{
		{"default", "json", true},
		{"default", "cfg", true},
		{"default", "opaque", false},
		{"default", "elsewhere", false},
		{"default", "missing", false},
	}
	for _, tt := range tests {
		data, ok := findPullSecret(tt.ns, tt.name, secrets)
		if ok != tt.ok || ok && string(data) != tt.name {
			t.Errorf("findPullSecret(%s/%s) = %q, %v; want %v", tt.ns, tt.name, data, ok, tt.ok)
		}
	}
}

// TestPullPolicyOverride: Config.PullPolicy replaces every container's
// policy; unset, the container's own (or the API server's default) holds.
func TestPullPolicyOverride(t *testing.T) {
	containers := map[string]corev1.Container{
		"latest":           {Image: "app:latest"},
		"untagged":         {Image: "app"},
		"tagged":           {Image: "app:v1"},
		"digest":           {Image: "app@sha256:0123"},
		"own Never":        {Image: "app:latest", ImagePullPolicy: corev1.PullNever},
		"own Always":       {Image: "app:v1", ImagePullPolicy: corev1.PullAlways},
		"own IfNotPresent": {Image: "app:latest", ImagePullPolicy: corev1.PullIfNotPresent},
	}
	want := map[corev1.PullPolicy]map[string]corev1.PullPolicy{
		"": {
			"latest": corev1.PullAlways, "untagged": corev1.PullAlways,
			"tagged": corev1.PullIfNotPresent, "digest": corev1.PullIfNotPresent,
			"own Never": corev1.PullNever, "own Always": corev1.PullAlways,
			"own IfNotPresent": corev1.PullIfNotPresent,
		},
	}
	for _, override := range []corev1.PullPolicy{corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever} {
		want[override] = map[string]corev1.PullPolicy{}
		for name := range containers {
			want[override][name] = override
		}
	}
	for override, byName := range want {
		r := &Runner{cfg: Config{PullPolicy: override}}
		for name, c := range containers {
			if got := r.pullPolicy(&c); got != byName[name] {
				t.Errorf("override %q, container %s: policy %q, want %q", override, name, got, byName[name])
			}
		}
	}
}
