package translate

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
)

func volumePod() *corev1.Pod {
	pod := basePod()
	pod.Spec.Volumes = []corev1.Volume{
		{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}},
		{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/srv/data"}}},
		{Name: "db", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "db", ReadOnly: true}}},
	}
	pod.Spec.Containers[0].Env = []corev1.EnvVar{
		{Name: "POD", Value: "web"},
		{Name: "DIR", Value: "logs/$(POD)"},
	}
	return pod
}

func volumeMounts(t *testing.T, plan *Plan, container string) []specs.Mount {
	t.Helper()
	for _, c := range plan.Containers {
		if c.Name == container {
			var out []specs.Mount
			for _, m := range c.Spec.Mounts {
				if m.Type == "bind" && m.Destination != "/etc/hosts" && m.Destination != "/etc/hostname" &&
					m.Destination != "/etc/resolv.conf" && m.Destination != "/dev/shm" && m.Destination != "/dev/termination-log" {
					out = append(out, m)
				}
			}
			return out
		}
	}
	t.Fatalf("no container %q", container)
	return nil
}

func TestVolumeMounts(t *testing.T) {
	hostToContainer := corev1.MountPropagationHostToContainer
	bidirectional := corev1.MountPropagationBidirectional
	tests := []struct {
		name  string
		mount corev1.VolumeMount
		want  specs.Mount
	}{
		{"emptyDir rw", corev1.VolumeMount{Name: "scratch", MountPath: "/scratch"},
			specs.Mount{Destination: "/scratch", Type: "bind", Source: "/run/podrun/pods/6a1c0d4e-0000-4000-8000-000000000001/volumes/scratch", Options: []string{"rbind", "rprivate", "rw"}}},
		{"readOnly", corev1.VolumeMount{Name: "scratch", MountPath: "/scratch", ReadOnly: true},
			specs.Mount{Destination: "/scratch", Type: "bind", Source: "/run/podrun/pods/6a1c0d4e-0000-4000-8000-000000000001/volumes/scratch", Options: []string{"rbind", "rprivate", "ro"}}},
		{"configMap always ro", corev1.VolumeMount{Name: "cfg", MountPath: "/cfg"},
			specs.Mount{Destination: "/cfg", Type: "bind", Source: "/run/podrun/pods/6a1c0d4e-0000-4000-8000-000000000001/volumes/cfg", Options: []string{"rbind", "rprivate", "ro"}}},
		{"hostPath from the manifest", corev1.VolumeMount{Name: "host", MountPath: "/data", MountPropagation: &hostToContainer},
			specs.Mount{Destination: "/data", Type: "bind", Source: "/srv/data", Options: []string{"rbind", "rslave", "rw"}}},
		{"bidirectional", corev1.VolumeMount{Name: "host", MountPath: "/data", MountPropagation: &bidirectional},
			specs.Mount{Destination: "/data", Type: "bind", Source: "/srv/data", Options: []string{"rbind", "rshared", "rw"}}},
		{"claim readOnly", corev1.VolumeMount{Name: "db", MountPath: "/db"},
			specs.Mount{Destination: "/db", Type: "bind", Source: "/var/lib/podrun/volumes/default_db/_data", Options: []string{"rbind", "rprivate", "ro"}}},
		{"subPath through staging", corev1.VolumeMount{Name: "scratch", MountPath: "/x", SubPath: "a/b"},
			specs.Mount{Destination: "/x", Type: "bind", Source: "/run/podrun/pods/6a1c0d4e-0000-4000-8000-000000000001/volume-subpaths/app/0", Options: []string{"rbind", "rprivate", "rw"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := volumePod()
			pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{tt.mount}
			in := baseInput(pod)
			in.Volumes = map[string]string{"db": "/var/lib/podrun/volumes/default_db/_data"}
			plan, err := Pod(in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]specs.Mount{tt.want}, volumeMounts(t, plan, "app")); diff != "" {
				t.Errorf("mounts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRootfsPropagation(t *testing.T) {
	none, h2c, bidi := corev1.MountPropagationNone, corev1.MountPropagationHostToContainer, corev1.MountPropagationBidirectional
	tests := []struct {
		name  string
		modes []*corev1.MountPropagationMode
		want  string
	}{
		{"no propagation", []*corev1.MountPropagationMode{nil, &none}, ""},
		{"HostToContainer", []*corev1.MountPropagationMode{&none, &h2c}, "rslave"},
		{"Bidirectional wins", []*corev1.MountPropagationMode{&bidi, &h2c}, "rshared"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := volumePod()
			for i, m := range tt.modes {
				pod.Spec.Containers[0].VolumeMounts = append(pod.Spec.Containers[0].VolumeMounts,
					corev1.VolumeMount{Name: "scratch", MountPath: "/v" + string(rune('0'+i)), MountPropagation: m})
			}
			plan, err := Pod(baseInput(pod))
			if err != nil {
				t.Fatal(err)
			}
			if got := plan.Containers[0].Spec.Linux.RootfsPropagation; got != tt.want {
				t.Errorf("rootfsPropagation %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSharedVolumes(t *testing.T) {
	h2c, bidi := corev1.MountPropagationHostToContainer, corev1.MountPropagationBidirectional
	pod := volumePod()
	pod.Spec.InitContainers = []corev1.Container{{Name: "init", VolumeMounts: []corev1.VolumeMount{{Name: "db", MountPath: "/db", MountPropagation: &h2c}}}}
	pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{
		{Name: "scratch", MountPath: "/a", MountPropagation: &bidi},
		{Name: "scratch", MountPath: "/b", MountPropagation: &h2c},
		{Name: "cfg", MountPath: "/cfg"},
		{Name: "host", MountPath: "/host", MountPropagation: &bidi},
	}
	if diff := cmp.Diff([]string{"db", "scratch"}, SharedVolumes(pod)); diff != "" {
		t.Errorf("SharedVolumes (-want +got):\n%s", diff)
	}
}

func TestSubPaths(t *testing.T) {
	tests := []struct {
		name          string
		mount         corev1.VolumeMount
		path, errText string
	}{
		{"subPath", corev1.VolumeMount{SubPath: "a/b"}, "a/b", ""},
		{"expr from fieldRef and env", corev1.VolumeMount{SubPathExpr: "$(DIR)/x"}, "logs/web/x", ""},
		{"dollar escape", corev1.VolumeMount{SubPathExpr: "$$(DIR)"}, "$(DIR)", ""},
		{"missing variable", corev1.VolumeMount{SubPathExpr: "$(NOPE)/x"}, "", "missing value for NOPE"},
		{"absolute expansion", corev1.VolumeMount{SubPathExpr: "/$(POD)"}, "/web", "must not be an absolute path"},
		{"backstep expansion", corev1.VolumeMount{SubPathExpr: "$(UP)/etc"}, "../etc", "must not contain '..'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := volumePod()
			pod.Spec.Containers[0].Env = append(pod.Spec.Containers[0].Env, corev1.EnvVar{Name: "UP", Value: ".."})
			m := tt.mount
			m.Name, m.MountPath = "scratch", "/x"
			pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{m}
			plan, err := Pod(baseInput(pod))
			if err != nil {
				t.Fatal(err)
			}
			if len(plan.SubPaths) != 1 {
				t.Fatalf("subPaths: %+v", plan.SubPaths)
			}
			sp := plan.SubPaths[0]
			if tt.errText == "" && (sp.Error != "" || sp.Path != tt.path) {
				t.Errorf("got path %q error %q, want %q", sp.Path, sp.Error, tt.path)
			}
			if tt.errText != "" && !contains(sp.Error, tt.errText) {
				t.Errorf("error %q does not say %q", sp.Error, tt.errText)
			}
			if sp.Container != "app" || sp.Volume != "scratch" || sp.Source != "/run/podrun/pods/6a1c0d4e-0000-4000-8000-000000000001/volumes/scratch" {
				t.Errorf("subPath %+v", sp)
			}
		})
	}
}

func contains(s, sub string) bool { return sub != "" && strings.Contains(s, sub) }

func TestSubPathEnvFieldRefs(t *testing.T) {
	pod := volumePod()
	pod.Labels = map[string]string{"app": "db"}
	c := &pod.Spec.Containers[0]
	c.Env = []corev1.EnvVar{
		{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
		{Name: "NS", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
		{Name: "IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
		{Name: "APP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}},
		{Name: "DIR", Value: "$(NS)/$(POD)"},
	}
	in := baseInput(pod)
	in.PodIP = "10.0.0.7"
	got, missing := expandSubPath("$(DIR)/$(APP)-$(IP)", subPathEnv(in, c))
	if got != "default/web/db-10.0.0.7" || len(missing) > 0 {
		t.Errorf("got %q, missing %v", got, missing)
	}
}

func TestImageVolumes(t *testing.T) {
	pod := volumePod()
	pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "scratch", MountPath: "/data"}}
	in := baseInput(pod)
	img := in.Images["app"]
	img.Volumes = []string{"/data", "/var/cache/"}
	in.Images["app"] = img
	plan, err := Pod(in)
	if err != nil {
		t.Fatal(err)
	}
	want := []ImageVolume{{Container: "app", Path: "/var/cache", Source: in.Layout.ImageVolumeDir("app", "/var/cache")}}
	if diff := cmp.Diff(want, plan.ImageVolumes); diff != "" {
		t.Errorf("image volumes (-want +got):\n%s", diff)
	}
	mounts := volumeMounts(t, plan, "app")
	if len(mounts) != 2 || mounts[1].Destination != "/var/cache" || mounts[1].Source != want[0].Source {
		t.Errorf("mounts: %+v", mounts)
	}
}
