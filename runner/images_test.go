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
