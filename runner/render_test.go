package runner

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/translate"
)

// TestAddUnstored: render's input objects join the stored ones of the
// pod's namespace and replace those of the same name.
func TestAddUnstored(t *testing.T) {
	cm := func(ns, name, v string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string]string{"k": v}}
	}
	secret := func(ns, name, v string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{"k": []byte(v)}}
	}
	set := &kube.Set{
		ConfigMaps: []kube.ConfigMap{{ConfigMap: cm("team", "a", "input")}, {ConfigMap: cm("team", "new", "input")}, {ConfigMap: cm("other", "b", "elsewhere")}},
		Secrets:    []kube.Secret{{Secret: secret("team", "s", "input")}, {Secret: secret("other", "s", "elsewhere")}},
	}
	tests := []struct {
		name        string
		set         *kube.Set
		wantCMs     map[string]string // name -> data["k"]
		wantSecrets map[string]string
	}{
		{"no input objects", nil, map[string]string{"a": "stored", "b": "stored"}, map[string]string{"s": "stored"}},
		{"input objects of the pod's namespace", set,
			map[string]string{"a": "input", "b": "stored", "new": "input"}, map[string]string{"s": "input"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &translate.Input{
				Pod:        &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "p"}},
				ConfigMaps: map[string]*corev1.ConfigMap{"a": cm("team", "a", "stored"), "b": cm("team", "b", "stored")},
				Secrets:    map[string]*corev1.Secret{"s": secret("team", "s", "stored")},
			}
			addUnstored(in, tt.set)
			gotCMs, gotSecrets := map[string]string{}, map[string]string{}
			for name, c := range in.ConfigMaps {
				gotCMs[name] = c.Data["k"]
			}
			for name, s := range in.Secrets {
				gotSecrets[name] = string(s.Data["k"])
			}
			if diff := cmp.Diff(tt.wantCMs, gotCMs); diff != "" {
				t.Errorf("ConfigMaps (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSecrets, gotSecrets); diff != "" {
				t.Errorf("Secrets (-want +got):\n%s", diff)
			}
		})
	}
}
