package kube

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func expand(t *testing.T, opts Options, inputs ...string) (*Set, error) {
	t.Helper()
	var objs []Object
	for i, in := range inputs {
		o, err := Decode(string(rune('a'+i))+".yaml", []byte(in))
		if err != nil {
			t.Fatalf("decoding: %v", err)
		}
		objs = append(objs, o...)
	}
	return Expand(objs, opts)
}

func TestExpandConfigMapsAndSecrets(t *testing.T) {
	in := `apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {a.txt: one, B_2: two}
binaryData: {bin: AAE=}
---
apiVersion: v1
kind: Secret
metadata: {name: sec, namespace: team}
data: {user: YWRtaW4=, pass: b2xk}
stringData: {pass: new, token: t}
---
` + podHead + "  containers: [{name: a, image: busybox}]\n"
	set, err := expand(t, Options{}, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Pods) != 1 || len(set.ConfigMaps) != 1 || len(set.Secrets) != 1 {
		t.Fatalf("got %d pods, %d configmaps, %d secrets", len(set.Pods), len(set.ConfigMaps), len(set.Secrets))
	}
	cm := set.ConfigMaps[0].ConfigMap
	if cm.Namespace != "default" || cm.Data["a.txt"] != "one" || string(cm.BinaryData["bin"]) != "\x00\x01" {
		t.Errorf("configmap: %+v", cm)
	}
	s := set.Secrets[0].Secret
	want := map[string][]byte{"user": []byte("admin"), "pass": []byte("new"), "token": []byte("t")}
	if diff := cmp.Diff(want, s.Data); diff != "" {
		t.Errorf("secret data (-want +got): stringData wins and is merged\n%s", diff)
	}
	if s.StringData != nil || s.Type != corev1.SecretTypeOpaque || s.Namespace != "team" {
		t.Errorf("secret: stringData %v, type %q, namespace %q", s.StringData, s.Type, s.Namespace)
	}
	if set.Secrets[0].Source.Line != 7 {
		t.Errorf("secret source %v, want line 7", set.Secrets[0].Source)
	}
}

func TestExpandObjectErrors(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		in   string
		want string
	}{{
		name: "keys as the API server checks them",
		in:   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  \"\": x\n  a/b: yy\n  ok: z\nbinaryData:\n  ok: AA==\n",
		want: `a.yaml:5: data[]: Invalid value: "": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')
a.yaml:6: data[a/b]: Invalid value: "a/b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')
a.yaml:7: data[ok]: Invalid value: "ok": duplicate of key present in binaryData`,
	}, {
		name: "secret keys, stringData keys and the type's required keys",
		in:   "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: kubernetes.io/tls\ndata: {tls.crt: AA==}\nstringData: {\"..\": x}\n",
		want: `a.yaml:5: data[tls.key]: Required value
a.yaml:6: stringData[..]: Invalid value: "..": must not be '..'`,
	}, {
		name: "names and namespaces",
		opts: Options{Namespace: "b"},
		in:   "apiVersion: v1\nkind: Secret\nmetadata: {name: Bad_Name, namespace: a}\n",
		want: `a.yaml:3: the namespace from the provided object "a" does not match the namespace "b". You must pass '--namespace=a' to perform this operation.
a.yaml:3: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
	}, {
		name: "duplicates of one kind; a pod may share a configmap's name",
		in:   "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: p}\n---\n" + podHead + "  containers: [{name: a, image: busybox}]\n",
		want: `a.yaml:7: metadata.name: Duplicate value: "p": configmap "p" in namespace "default" is already defined at a.yaml:1`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := expand(t, tt.opts, tt.in)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error:\n%v\nwant:\n%s", err, tt.want)
			}
		})
	}
}

func TestPodsLeavesObjectsOut(t *testing.T) {
	got, err := pods(t, Options{}, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n"+podHead+"  containers: [{name: a, image: busybox}]\n")
	if err != nil || len(got) != 1 {
		t.Fatalf("Pods: %d pods, %v", len(got), err)
	}
}

func TestProcessValidation(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want string
	}{{
		name: "env sources",
		spec: `  containers:
  - name: a
    image: busybox
    envFrom:
    - prefix: "a=b"
    - {configMapRef: {name: c}, secretRef: {name: s}}
    env:
    - {name: A, valueFrom: {fieldRef: {fieldPath: spec.hostname}}}
    - {name: B, valueFrom: {fieldRef: {fieldPath: "metadata.labels['a b']"}}}
    - {name: C, valueFrom: {resourceFieldRef: {resource: limits.gpu}}}
    - {name: D, valueFrom: {resourceFieldRef: {resource: limits.cpu, divisor: 2, containerName: nope}}}
`,
		want: `a.yaml:10: spec.containers[0].envFrom[0].prefix: Invalid value: "a=b": a valid environment variable name must consist only of printable ASCII characters other than '='
a.yaml:10: spec.containers[0].envFrom[0]: Invalid value: "": must specify one of: ` + "`configMapRef` or `secretRef`" + `
a.yaml:11: spec.containers[0].envFrom[1]: Invalid value: "": may not have more than one field specified at a time
a.yaml:13: spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "spec.hostname": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"
a.yaml:14: spec.containers[0].env[1].valueFrom.fieldRef.fieldPath: Invalid value: "a b": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')
a.yaml:15: spec.containers[0].env[2].valueFrom.resourceFieldRef.resource: Unsupported value: "limits.gpu": supported values: "limits.cpu", "limits.memory", "limits.ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage"
a.yaml:16: spec.containers[0].env[3].valueFrom.resourceFieldRef.containerName: Invalid value: "nope": must be a container of the pod
a.yaml:16: spec.containers[0].env[3].valueFrom.resourceFieldRef.divisor: Invalid value: "2": only divisor's values 1m, 1 are supported with the cpu resource`,
	}, {
		name: "security contexts and sysctls",
		spec: `  hostNetwork: true
  securityContext:
    runAsUser: -1
    fsGroup: 4294967296
    seccompProfile: {type: Localhost, localhostProfile: ../x.json}
    sysctls:
    - {name: net.ipv4.ip_local_port_range, value: "1024 2000"}
    - {name: Kernel.X, value: "1"}
    - {name: kernel.shm_rmid_forced, value: ""}
    - {name: kernel/shm_rmid_forced, value: "1"}
  containers:
  - name: a
    image: busybox
    securityContext:
      privileged: true
      allowPrivilegeEscalation: false
      procMount: Unmasked
      seccompProfile: {type: Unconfined, localhostProfile: x}
`,
		want: `a.yaml:8: spec.securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive
a.yaml:9: spec.securityContext.fsGroup: Invalid value: 4294967296: must be between 0 and 2147483647, inclusive
a.yaml:10: spec.securityContext.seccompProfile.localhostProfile: Invalid value: "../x.json": must not contain '..'
a.yaml:12: spec.securityContext.sysctls[0].name: Invalid value: "net.ipv4.ip_local_port_range": may not be specified when 'hostNetwork' is true
a.yaml:13: spec.securityContext.sysctls[1].name: Invalid value: "Kernel.X": must have at most 253 characters and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$
a.yaml:14: spec.securityContext.sysctls[2].value: Invalid value: "": must be non-empty, without control characters
a.yaml:15: spec.securityContext.sysctls[3].name: Duplicate value: "kernel/shm_rmid_forced"
a.yaml:19: spec.containers[0].securityContext: Invalid value: {"privileged":true,"allowPrivilegeEscalation":false,"procMount":"Unmasked","seccompProfile":{"type":"Unconfined","localhostProfile":"x"}}: cannot set ` + "`allowPrivilegeEscalation` to false and `privileged` to true" + `
a.yaml:22: spec.containers[0].securityContext.procMount: Invalid value: "Unmasked": ` + "`hostUsers` must be false to use `Unmasked`" + `
a.yaml:23: spec.containers[0].securityContext.seccompProfile.localhostProfile: Invalid value: {"type":"Unconfined","localhostProfile":"x"}: can only be set when seccomp type is Localhost`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pods(t, Options{}, podHead+tt.spec)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error:\n%v\nwant:\n%s", err, tt.want)
			}
		})
	}
}

func TestFieldsWarnAndRefuse(t *testing.T) {
	in := podHead + `  schedulerName: custom
  preemptionPolicy: Never
  runtimeClassName: kata
  securityContext:
    appArmorProfile: {type: Unconfined}
  containers:
  - name: a
    image: busybox
    securityContext:
      seLinuxOptions: {level: s0}
      appArmorProfile: {type: RuntimeDefault}
`
	_, err := expand(t, Options{}, in)
	want := `a.yaml:8: spec.runtimeClassName: Forbidden: not supported by podrun yet (choose the OCI runtime with --runtime)
a.yaml:15: spec.containers[0].securityContext.seLinuxOptions: Forbidden: not supported by podrun yet (no SELinux)`
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n%v\nwant:\n%s", err, want)
	}
	ok := strings.NewReplacer("  runtimeClassName: kata\n", "", "      seLinuxOptions: {level: s0}\n", "").Replace(in)
	set, err := expand(t, Options{}, ok)
	if err != nil {
		t.Fatal(err)
	}
	wantWarn := []string{"a.yaml:6: spec.schedulerName, spec.preemptionPolicy: ignored: podrun's one-node scheduler does not weigh them"}
	if diff := cmp.Diff(wantWarn, set.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

// TestFieldsTableComplete: every field of the API types is in the table,
// once, and nothing else is.
func TestFieldsTableComplete(t *testing.T) {
	types := map[Struct]reflect.Type{
		StructPodSpec:            reflect.TypeOf(corev1.PodSpec{}),
		StructContainer:          reflect.TypeOf(corev1.Container{}),
		StructPodSecurityContext: reflect.TypeOf(corev1.PodSecurityContext{}),
		StructSecurityContext:    reflect.TypeOf(corev1.SecurityContext{}),
		StructLifecycle:          reflect.TypeOf(corev1.Lifecycle{}),
	}
	seen := map[string]bool{}
	for _, f := range Fields {
		key := string(f.Struct) + "." + f.Name
		if seen[key] {
			t.Errorf("%s is listed twice", key)
		}
		seen[key] = true
		rt, ok := types[f.Struct]
		if !ok {
			t.Errorf("%s: unknown struct", key)
			continue
		}
		if _, ok := fieldsOf[f.Struct][f.Name]; !ok || !hasJSONField(rt, f.Name) {
			t.Errorf("%s is not a field of %s", key, rt)
		}
	}
	for s, rt := range types {
		for i := range rt.NumField() {
			if name := jsonName(rt.Field(i)); name != "" && !seen[string(s)+"."+name] {
				t.Errorf("%s.%s is missing from kube.Fields", s, name)
			}
		}
	}
}

func hasJSONField(rt reflect.Type, name string) bool {
	for i := range rt.NumField() {
		if jsonName(rt.Field(i)) == name {
			return true
		}
	}
	return false
}

func TestGenerateName(t *testing.T) {
	in := `apiVersion: v1
kind: Pod
metadata: {generateName: web-}
spec:
  containers: [{name: a, image: busybox}]
---
apiVersion: batch/v1
kind: Job
metadata: {generateName: migrate-}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: a, image: busybox}]
---
apiVersion: v1
kind: ConfigMap
metadata: {generateName: Bad_}
`
	if _, err := expand(t, Options{}, in); err == nil || !strings.Contains(err.Error(), "a.yaml:3: metadata.generateName: Forbidden: cannot use generate name with apply") {
		t.Errorf("apply: %v", err)
	}
	_, err := expand(t, Options{GenerateName: GeneratedName}, in)
	if err == nil || !strings.Contains(err.Error(), `metadata.generateName: Invalid value: "Bad_"`) {
		t.Fatalf("a bad generateName: %v", err)
	}
	set, err := expand(t, Options{GenerateName: GeneratedName}, in[:strings.LastIndex(in, "---")])
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Pods) != 1 || !regexp.MustCompile(`^web-[bcdfghjklmnpqrstvwxz2456789]{5}$`).MatchString(set.Pods[0].Pod.Name) {
		t.Errorf("pods %v", set.Pods)
	}
	if len(set.Workloads) != 1 || !regexp.MustCompile(`^migrate-[bcdfghjklmnpqrstvwxz2456789]{5}$`).MatchString(set.Workloads[0].Object.(metav1.Object).GetName()) {
		t.Errorf("workloads %v", set.Workloads)
	}
	if n := GeneratedName(strings.Repeat("a", 70)); len(n) != 63 {
		t.Errorf("a long base gives %q", n)
	}
}
