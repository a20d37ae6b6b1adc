package kube

import (
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestEmpty(t *testing.T) {
	f, tr, zero, s := false, true, int64(0), ""
	tests := []struct {
		name string
		v    any
		want bool
	}{
		{"nil pointer", (*corev1.SELinuxOptions)(nil), true},
		{"empty object", &corev1.SELinuxOptions{}, true},
		{"object with a field", &corev1.SELinuxOptions{Level: "s0"}, false},
		{"empty list", []corev1.PodReadinessGate{}, true},
		{"list of an empty item", []corev1.PodReadinessGate{{}}, false},
		{"empty map", corev1.ResourceList{}, true},
		{"map with a key", corev1.ResourceList{"cpu": resource.MustParse("0")}, false},
		{"nested empty", &corev1.ResourceRequirements{Limits: corev1.ResourceList{}, Claims: []corev1.ResourceClaim{}}, true},
		{"empty string", "", true},
		{"string", "x", false},
		{"pointer to empty string", &s, true},
		{"false", false, true},
		{"pointer to false", &f, false},
		{"pointer to true", &tr, false},
		{"pointer to zero", &zero, false},
		{"zero", int64(0), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := empty(reflect.ValueOf(tt.v)); got != tt.want {
				t.Errorf("empty(%#v) = %v, want %v", tt.v, got, tt.want)
			}
		})
	}
}

// Where an unsupported field sits in the manifests of
// TestUnsupportedFieldValues, and on which line.
var unsupportedAt = map[Struct]struct {
	before, after string
}{
	StructPodSpec:            {"  ", "  containers:\n  - name: a\n    image: busybox\n"},
	StructContainer:          {"  containers:\n  - name: a\n    image: busybox\n    ", ""},
	StructPodSecurityContext: {"  securityContext:\n    ", "  containers:\n  - name: a\n    image: busybox\n"},
	StructSecurityContext:    {"  containers:\n  - name: a\n    image: busybox\n    securityContext:\n      ", ""},
}

// TestUnsupportedFieldValues goes through every unsupported field: its
// empty values are accepted, a value that asks for something is refused
// on its line.
func TestUnsupportedFieldValues(t *testing.T) {
	tests := []struct {
		s       Struct
		name    string
		empties []string
		set     string
		want    string
	}{
		{StructPodSpec, "ephemeralContainers", []string{"[]"}, "[{name: d, image: busybox}]",
			"a.yaml:6: spec.ephemeralContainers: Forbidden: not supported by podrun yet (the API server refuses them on create too)"},
		{StructPodSpec, "readinessGates", []string{"[]"}, "[{conditionType: x}]",
			"a.yaml:6: spec.readinessGates: Forbidden: not supported by podrun yet (nothing would ever set the conditions)"},
		{StructPodSpec, "runtimeClassName", []string{`""`}, "kata",
			"a.yaml:6: spec.runtimeClassName: Forbidden: not supported by podrun yet (choose the OCI runtime with --runtime)"},
		{StructPodSpec, "overhead", []string{"{}"}, "{cpu: 100m}",
			"a.yaml:6: spec.overhead: Forbidden: not supported by podrun yet (set by RuntimeClass admission on a cluster)"},
		{StructPodSpec, "resourceClaims", []string{"[]"}, "[{name: c, resourceClaimName: rc}]",
			"a.yaml:6: spec.resourceClaims: Forbidden: not supported by podrun yet (no dynamic resource allocation)"},
		{StructPodSpec, "resources", []string{"{}", "{limits: {}, requests: {}, claims: []}"}, "{limits: {cpu: '1'}}",
			"a.yaml:6: spec.resources: Forbidden: not supported by podrun yet (pod-level resources: set them per container)"},
		{StructPodSpec, "evictionResponders", []string{"[]"}, "[{name: r}]",
			"a.yaml:6: spec.evictionResponders: Forbidden: not supported by podrun yet"},
		{StructContainer, "volumeDevices", []string{"[]"}, "[{name: v, devicePath: /dev/xvda}]",
			"a.yaml:9: spec.containers[0].volumeDevices: Forbidden: not supported by podrun yet (no block volumes)"},
		{StructPodSecurityContext, "seLinuxOptions", []string{"{}", `{user: "", role: "", type: "", level: ""}`}, "{level: 's0:c1'}",
			"a.yaml:7: spec.securityContext.seLinuxOptions: Forbidden: not supported by podrun yet (no SELinux)"},
		{StructPodSecurityContext, "seLinuxChangePolicy", []string{`""`}, "Recursive",
			"a.yaml:7: spec.securityContext.seLinuxChangePolicy: Forbidden: not supported by podrun yet (no SELinux)"},
		{StructSecurityContext, "seLinuxOptions", []string{"{}", "{type: ''}"}, "{type: spc_t}",
			"a.yaml:10: spec.containers[0].securityContext.seLinuxOptions: Forbidden: not supported by podrun yet (no SELinux)"},
	}
	covered := map[Struct]map[string]bool{}
	for _, tt := range tests {
		if covered[tt.s] == nil {
			covered[tt.s] = map[string]bool{}
		}
		covered[tt.s][tt.name] = true
		at := unsupportedAt[tt.s]
		manifest := func(v string) string { return podHead + at.before + tt.name + ": " + v + "\n" + at.after }
		for _, v := range tt.empties {
			t.Run(string(tt.s)+"."+tt.name+"="+v, func(t *testing.T) {
				set, err := expand(t, Options{}, manifest(v))
				if err != nil {
					t.Fatalf("an empty value is refused: %v", err)
				}
				if len(set.Warnings) > 0 {
					t.Errorf("warnings for an empty value: %q", set.Warnings)
				}
			})
		}
		t.Run(string(tt.s)+"."+tt.name+"="+tt.set, func(t *testing.T) {
			_, err := expand(t, Options{}, manifest(tt.set))
			if err == nil || err.Error() != tt.want {
				t.Errorf("error:\n%v\nwant:\n%s", err, tt.want)
			}
		})
	}
	for _, f := range Fields {
		if f.Status == Unsupported && !covered[f.Struct][f.Name] {
			t.Errorf("unsupported field %s has no row", f.Path())
		}
	}
}

// TestIgnoredEmptyNoWarning: an ignored field set to an empty value is
// not worth the warning line.
func TestIgnoredEmptyNoWarning(t *testing.T) {
	in := podHead + "  nodeSelector: {}\n  tolerations: []\n  affinity: {}\n  containers:\n  - name: a\n    image: busybox\n"
	set, err := expand(t, Options{}, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Warnings) > 0 {
		t.Errorf("warnings: %q", set.Warnings)
	}
}

// TestPodmanGenerated: podman kube generate writes seLinuxOptions: {}.
func TestPodmanGenerated(t *testing.T) {
	in := `# Save the output of this file and use kubectl create -f to import
# it into Kubernetes.
#
# Created with podman-5.4.2
apiVersion: v1
kind: Pod
metadata:
  annotations:
    io.podman.annotations.ulimit: nofile=1048576:1048576
  creationTimestamp: "2026-11-30T09:12:44Z"
  labels:
    app: web-pod
  name: web-pod
spec:
  containers:
  - args:
    - nginx
    - -g
    - daemon off;
    image: docker.io/library/nginx:latest
    name: web
    ports:
    - containerPort: 80
      hostPort: 8080
    securityContext:
      seLinuxOptions: {}
    volumeMounts: []
  readinessGates: []
  volumes: []
`
	if _, err := expand(t, Options{}, in); err != nil {
		t.Fatal(err)
	}
}

// TestHostUsers: hostUsers: true is the default and asks for nothing;
// false asks for a user namespace.
func TestHostUsers(t *testing.T) {
	tail := "  containers:\n  - name: a\n    image: busybox\n"
	if _, err := expand(t, Options{}, podHead+"  hostUsers: true\n"+tail); err != nil {
		t.Errorf("hostUsers: true: %v", err)
	}
	_, err := expand(t, Options{}, podHead+"  hostUsers: false\n"+tail)
	want := "a.yaml:6: spec.hostUsers: Forbidden: not supported by podrun yet (no user namespaces); remove it or set it to true"
	if err == nil || err.Error() != want {
		t.Errorf("hostUsers: false: %v, want %s", err, want)
	}
}

// TestSchedulingFields: nodeSelector, required node affinity and
// tolerations are the scheduler step's to honour, without a warning; the
// pod (anti-)affinity terms it does not weigh are named in one.
func TestSchedulingFields(t *testing.T) {
	in := podHead + `  nodeSelector: {disktype: ssd}
  tolerations: [{key: k, operator: Exists}]
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: [{key: kubernetes.io/os, operator: In, values: [linux]}]
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - topologyKey: kubernetes.io/hostname
        labelSelector: {matchLabels: {app: web}}
  containers:
  - name: a
    image: busybox
`
	set, err := expand(t, Options{}, in)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a.yaml:13: spec.affinity.podAntiAffinity: ignored: podrun's one-node scheduler does not weigh them"}
	if diff := cmp.Diff(want, set.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}
