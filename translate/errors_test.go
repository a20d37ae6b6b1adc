package translate

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestErrorsNameTheirField: an error about a field of the pod is a
// FieldError naming that field, which the runner locates in the
// manifest, and its text names the field once and not the pod (the
// runner names the pod).
func TestErrorsNameTheirField(t *testing.T) {
	str := func(s string) *string { return &s }
	tests := []struct {
		name   string
		mutate func(in *Input)
		field  string
		is     error
	}{{
		name: "sysctl",
		mutate: func(in *Input) {
			in.Pod.Spec.SecurityContext = &corev1.PodSecurityContext{Sysctls: []corev1.Sysctl{
				{Name: "kernel.shm_rmid_forced", Value: "1"}, {Name: "net.core.somaxconn", Value: "1024"}}}
		},
		field: "spec.securityContext.sysctls[1]",
		is:    ErrSysctlForbidden,
	}, {
		name:   "no command",
		mutate: func(in *Input) { in.Images["app"] = Image{Ref: "localhost/app:1"} },
		field:  "spec.containers[0]",
		is:     ErrNoCommand,
	}, {
		name:   "relative workingDir",
		mutate: func(in *Input) { in.Pod.Spec.Containers[0].WorkingDir = "srv" },
		field:  "spec.containers[0].workingDir",
	}, {
		name:   "missing image config",
		mutate: func(in *Input) { delete(in.Images, "app") },
		field:  "spec.containers[0].image",
		is:     ErrMissingImage,
	}, {
		name: "unknown capability",
		mutate: func(in *Input) {
			in.Pod.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{
				Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN", "NOPE"}}}
		},
		field: "spec.containers[0].securityContext.capabilities.add[1]",
		is:    ErrUnknownCapability,
	}, {
		name: "volumeMount of no volume",
		mutate: func(in *Input) {
			in.Pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
		},
		field: "spec.containers[0].volumeMounts[0].name",
	}, {
		name: "localhost seccomp profile not given",
		mutate: func(in *Input) {
			in.Pod.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{SeccompProfile: &corev1.SeccompProfile{
				Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: str("nope.json")}}
		},
		field: "spec.containers[0].securityContext.seccompProfile.localhostProfile",
		is:    ErrNoSeccompProfile,
	}, {
		name: "env fieldRef of no field",
		mutate: func(in *Input) {
			in.Pod.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "a"},
				{Name: "B", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nope"}}}}
		},
		field: "spec.containers[0].env[1].valueFrom",
	}, {
		name: "init container",
		mutate: func(in *Input) {
			in.Pod.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "localhost/app:1", WorkingDir: "x"}}
			in.Images["init"] = in.Images["app"]
		},
		field: "spec.initContainers[0].workingDir",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInput(basePod())
			tt.mutate(&in)
			_, err := Pod(in)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is no FieldError", err)
			}
			if fe.Field != tt.field {
				t.Errorf("error %q is about %s, want %s", err, fe.Field, tt.field)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not match %v", err, tt.is)
			}
			if n := strings.Count(err.Error(), tt.field); n != 1 {
				t.Errorf("error %q names %s %d times, want once", err, tt.field, n)
			}
			if strings.Contains(err.Error(), "web") {
				t.Errorf("error %q names the pod, which the runner names", err)
			}
		})
	}
}

// TestConfigErrorNamesItsField: a missing ConfigMap keeps the container
// waiting with the kubelet's message, and the plan says which field the
// message is about, for the runner to locate.
func TestConfigErrorNamesItsField(t *testing.T) {
	pod := basePod()
	pod.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "a"}, {Name: "B", ValueFrom: &corev1.EnvVarSource{
		ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: "b"}}}}
	plan, err := Pod(baseInput(pod))
	if err != nil {
		t.Fatal(err)
	}
	c := plan.Containers[0]
	if c.ConfigError != `configmap "settings" not found` || c.ConfigErrorField != "spec.containers[0].env[1].valueFrom" {
		t.Errorf("ConfigError %q about %q, want %q about %q", c.ConfigError, c.ConfigErrorField,
			`configmap "settings" not found`, "spec.containers[0].env[1].valueFrom")
	}
}
