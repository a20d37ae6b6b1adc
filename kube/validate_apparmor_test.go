package kube

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

const aaKey = "container.apparmor.security.beta.kubernetes.io/"

func TestAppArmorValidation(t *testing.T) {
	head := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n" // lines 1-4
	tests := []struct {
		name, in, want string
	}{{
		name: "annotation for a container that does not exist",
		in:   head + "  annotations:\n    " + aaKey + "b: runtime/default\nspec:\n  containers:\n  - name: a\n    image: busybox\n",
		want: `a.yaml:6: metadata.annotations[container.apparmor.security.beta.kubernetes.io/b]: Invalid value: "b": container not found`,
	}, {
		name: "annotation naming no profile",
		in:   head + "  annotations:\n    " + aaKey + "a: docker-default\nspec:\n  containers:\n  - name: a\n    image: busybox\n",
		want: `a.yaml:6: metadata.annotations[container.apparmor.security.beta.kubernetes.io/a]: Invalid value: "docker-default": invalid AppArmor profile name: "docker-default"`,
	}, {
		name: "annotation and container field differ",
		in: head + "  annotations:\n    " + aaKey + "a: unconfined\nspec:\n  containers:\n  - name: a\n    image: busybox\n" +
			"    securityContext:\n      appArmorProfile: {type: RuntimeDefault}\n",
		want: `a.yaml:12: spec.containers[0].securityContext.appArmorProfile.type: Forbidden: apparmor type in annotation and field must match`,
	}, {
		name: "annotation and pod field differ",
		in: head + "  annotations:\n    " + aaKey + "a: runtime/default\nspec:\n  securityContext:\n    appArmorProfile: {type: Unconfined}\n" +
			"  containers:\n  - name: a\n    image: busybox\n",
		want: `a.yaml:9: spec.securityContext.appArmorProfile.type: Forbidden: apparmor type in annotation and field must match`,
	}, {
		name: "localhost profiles differ",
		in: head + "  annotations:\n    " + aaKey + "a: localhost/one\nspec:\n  containers:\n  - name: a\n    image: busybox\n" +
			"    securityContext:\n      appArmorProfile:\n        type: Localhost\n        localhostProfile: two\n",
		want: `a.yaml:14: spec.containers[0].securityContext.appArmorProfile.localhostProfile: Forbidden: apparmor profile in annotation and field must match`,
	}, {
		name: "field: Localhost without a profile, a profile without Localhost, an unknown type",
		in: head + "spec:\n  securityContext:\n    appArmorProfile: {type: Localhost}\n  containers:\n  - name: a\n    image: busybox\n" +
			"    securityContext:\n      appArmorProfile: {type: RuntimeDefault, localhostProfile: x}\n" +
			"  - name: b\n    image: busybox\n    securityContext:\n      appArmorProfile: {type: Enforcing}\n",
		want: `a.yaml:7: spec.securityContext.appArmorProfile.localhostProfile: Required value: must be set when AppArmor type is Localhost
a.yaml:12: spec.containers[0].securityContext.appArmorProfile.localhostProfile: Invalid value: {"type":"RuntimeDefault","localhostProfile":"x"}: can only be set when AppArmor type is Localhost
a.yaml:16: spec.containers[1].securityContext.appArmorProfile.type: Unsupported value: "Enforcing": supported values: "Localhost", "RuntimeDefault", "Unconfined"`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pods(t, Options{}, tt.in)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error:\n%v\nwant:\n%s", err, tt.want)
			}
		})
	}
}

// TestAppArmorAnnotationToField: an annotation becomes its container's
// field where that is unset, as on the API server; one that agrees with a
// set field is accepted.
func TestAppArmorAnnotationToField(t *testing.T) {
	in := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n" +
		"    " + aaKey + "a: localhost/k8s-nginx\n" +
		"    " + aaKey + "b: runtime/default\n" +
		"    " + aaKey + "i: unconfined\n" +
		"spec:\n  initContainers:\n  - name: i\n    image: busybox\n" +
		"  containers:\n  - name: a\n    image: busybox\n  - name: b\n    image: busybox\n" +
		"    securityContext:\n      appArmorProfile: {type: RuntimeDefault}\n  - name: c\n    image: busybox\n"
	got, err := pods(t, Options{}, in)
	if err != nil {
		t.Fatal(err)
	}
	s := got[0].Pod.Spec
	profile := func(c corev1.Container) *corev1.AppArmorProfile {
		if c.SecurityContext == nil {
			return nil
		}
		return c.SecurityContext.AppArmorProfile
	}
	name := "k8s-nginx"
	want := []*corev1.AppArmorProfile{
		{Type: corev1.AppArmorProfileTypeUnconfined},
		{Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: &name},
		{Type: corev1.AppArmorProfileTypeRuntimeDefault},
		nil,
	}
	gotProfiles := []*corev1.AppArmorProfile{profile(s.InitContainers[0]), profile(s.Containers[0]), profile(s.Containers[1]), profile(s.Containers[2])}
	if diff := cmp.Diff(want, gotProfiles); diff != "" {
		t.Errorf("profiles (-want +got):\n%s", diff)
	}
}
