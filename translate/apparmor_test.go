package translate

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestAppArmor: the profile in the spec, by the host's AppArmor and the
// pod's and container's fields (kube has copied the annotation into the
// container's field by then).
func TestAppArmor(t *testing.T) {
	yes := true
	local := func(name string) *corev1.AppArmorProfile {
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: &name}
	}
	runtimeDefault := &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}
	unconfined := &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}
	tests := []struct {
		name       string
		enabled    bool
		pod, ctr   *corev1.AppArmorProfile
		privileged bool
		want       string
		wantErr    string
	}{
		{name: "unset, enabled", enabled: true},
		{name: "unset, not enabled"},
		{name: "Unconfined, enabled", enabled: true, ctr: unconfined},
		{name: "Unconfined, not enabled", ctr: unconfined},
		{name: "RuntimeDefault, enabled", enabled: true, ctr: runtimeDefault, want: DefaultAppArmorProfile},
		{name: "RuntimeDefault of the pod, enabled", enabled: true, pod: runtimeDefault, want: DefaultAppArmorProfile},
		{name: "container's Unconfined beats the pod's RuntimeDefault", enabled: true, pod: runtimeDefault, ctr: unconfined},
		{name: "RuntimeDefault, privileged", enabled: true, ctr: runtimeDefault, privileged: true},
		{name: "Localhost, enabled", enabled: true, ctr: local("k8s-nginx"), want: "k8s-nginx"},
		{name: "Localhost, privileged", enabled: true, ctr: local("k8s-nginx"), privileged: true, want: "k8s-nginx"},
		{name: "Localhost, not enabled", ctr: local("k8s-nginx"),
			wantErr: "spec.containers[0].securityContext.appArmorProfile: AppArmor is not enabled on this machine: a Localhost profile cannot be applied"},
		{name: "RuntimeDefault of the pod, not enabled", pod: runtimeDefault,
			wantErr: "spec.containers[0].securityContext.appArmorProfile: AppArmor is not enabled on this machine: a RuntimeDefault profile cannot be applied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := basePod()
			if tt.pod != nil {
				pod.Spec.SecurityContext = &corev1.PodSecurityContext{AppArmorProfile: tt.pod}
			}
			sc := &corev1.SecurityContext{AppArmorProfile: tt.ctr}
			if tt.privileged {
				sc.Privileged = &yes
			}
			pod.Spec.Containers[0].SecurityContext = sc
			in := baseInput(pod)
			in.Host.AppArmor = tt.enabled
			plan, err := Pod(in)
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrAppArmor) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := plan.Containers[0].Spec.Process.ApparmorProfile; got != tt.want {
				t.Errorf("apparmorProfile %q, want %q", got, tt.want)
			}
			if got := plan.Infra.Spec.Process.ApparmorProfile; got != "" {
				t.Errorf("the infra's apparmorProfile %q, want none", got)
			}
		})
	}
}
