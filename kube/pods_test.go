package kube

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	intstrpkg "k8s.io/apimachinery/pkg/util/intstr"
)

// pods decodes each input as its own file (a.yaml, b.yaml, ...) and
// returns what Pods makes of them together.
func pods(t *testing.T, opts Options, inputs ...string) ([]Pod, error) {
	t.Helper()
	var objs []Object
	for i, in := range inputs {
		o, err := Decode(string(rune('a'+i))+".yaml", []byte(in))
		if err != nil {
			t.Fatalf("decoding: %v", err)
		}
		objs = append(objs, o...)
	}
	return Pods(objs, opts)
}

const podHead = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n" // lines 1-5

func TestPodsValidation(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		in   []string
		want string
	}{{
		name: "metadata",
		in: []string{`apiVersion: v1
kind: Pod
metadata:
  namespace: Team_A
  labels:
    "app/": web
  annotations:
    "-x": z
spec:
  containers: [{name: c, image: busybox}]
`},
		want: `a.yaml:3: metadata.name: Required value: name or generateName is required
a.yaml:4: metadata.namespace: Invalid value: "Team_A": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')
a.yaml:5: metadata.labels: Invalid value: "app/": name part must be non-empty
a.yaml:5: metadata.labels: Invalid value: "app/": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')
a.yaml:7: metadata.annotations: Invalid value: "-x": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
	}, {
		name: "bad name, generateName",
		in: []string{
			"apiVersion: v1\nkind: Pod\nmetadata:\n  name: Web_1\nspec:\n  containers: [{name: c, image: busybox}]\n",
			"apiVersion: v1\nkind: Pod\nmetadata:\n  generateName: web-\nspec:\n  containers: [{name: c, image: busybox}]\n",
		},
		want: `a.yaml:4: metadata.name: Invalid value: "Web_1": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')
b.yaml:4: metadata.generateName: Forbidden: cannot use generate name with apply; set metadata.name, or use podrun create -f`,
	}, {
		name: "no containers",
		in:   []string{podHead + "  restartPolicy: Never\n"},
		want: "a.yaml:5: spec.containers: Required value",
	}, {
		name: "container names and images",
		in: []string{podHead + `  initContainers:
  - name: web
    image: busybox
  containers:
  - name: web
    image: " nginx"
  - name: Side_Car
  - image: busybox
`},
		want: `a.yaml:7: spec.initContainers[0].name: Duplicate value: "web"
a.yaml:11: spec.containers[0].image: Invalid value: " nginx": must not have leading or trailing whitespace
a.yaml:12: spec.containers[1].name: Invalid value: "Side_Car": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')
a.yaml:12: spec.containers[1].image: Required value
a.yaml:13: spec.containers[2].name: Required value`,
	}, {
		name: "ports",
		in: []string{podHead + `  containers:
  - name: a
    image: busybox
    ports:
    - {name: http_1, containerPort: 70000, hostPort: 70000}
    - {name: web, protocol: HTTP}
    - {name: web, containerPort: 80, hostPort: 8080}
  - name: b
    image: busybox
    ports:
    - {containerPort: 8080, hostPort: 8080}
    - {containerPort: 8080, hostPort: 8080, protocol: UDP}
`},
		want: `a.yaml:10: spec.containers[0].ports[0].name: Invalid value: "http_1": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)
a.yaml:10: spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive
a.yaml:10: spec.containers[0].ports[0].hostPort: Invalid value: 70000: must be between 1 and 65535, inclusive
a.yaml:11: spec.containers[0].ports[1].containerPort: Required value
a.yaml:11: spec.containers[0].ports[1].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"
a.yaml:12: spec.containers[0].ports[2].name: Duplicate value: "web"
a.yaml:16: spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080"`,
	}, {
		name: "hostNetwork ports",
		in: []string{podHead + `  hostNetwork: true
  containers:
  - name: a
    image: busybox
    ports:
    - {containerPort: 80}
    - {containerPort: 81, hostPort: 8081}
`},
		want: "a.yaml:12: spec.containers[0].ports[1].containerPort: Invalid value: 81: must match `hostPort` when `hostNetwork` is true",
	}, {
		name: "volumes and mounts",
		in: []string{podHead + `  volumes:
  - name: Data
  - name: cfg
    configMap: {name: cfg}
    secret: {secretName: s}
  - name: cache
  - name: cache
  containers:
  - name: a
    image: busybox
    volumeMounts:
    - {name: cfg, mountPath: /etc/cfg}
    - {name: cache, mountPath: /cache}
    - {name: cache}
    - {name: nope, mountPath: /cache}
`},
		want: `a.yaml:7: spec.volumes[0].name: Invalid value: "Data": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')
a.yaml:9: spec.volumes[1].configMap: Forbidden: may not specify more than 1 volume type
a.yaml:12: spec.volumes[3].name: Duplicate value: "cache"
a.yaml:17: spec.containers[0].volumeMounts[0].name: Not found: "cfg"
a.yaml:19: spec.containers[0].volumeMounts[2].mountPath: Required value
a.yaml:20: spec.containers[0].volumeMounts[3].name: Not found: "nope"
a.yaml:20: spec.containers[0].volumeMounts[3].mountPath: Invalid value: "/cache": must be unique`,
	}, {
		name: "mountPropagation",
		in: []string{podHead + `  volumes: [{name: v, emptyDir: {}}]
  initContainers:
  - name: i
    image: busybox
    volumeMounts: [{name: v, mountPath: /v, mountPropagation: Bidirectional}]
  containers:
  - name: a
    image: busybox
    securityContext: {privileged: false}
    volumeMounts:
    - {name: v, mountPath: /a, mountPropagation: Bidirectional}
    - {name: v, mountPath: /b, mountPropagation: Sideways}
    - {name: v, mountPath: /c, mountPropagation: HostToContainer}
  - name: b
    image: busybox
    securityContext: {privileged: true}
    volumeMounts: [{name: v, mountPath: /v, mountPropagation: Bidirectional}]
`},
		want: `a.yaml:10: spec.initContainers[0].volumeMounts[0].mountPropagation: Forbidden: Bidirectional mount propagation is available only to privileged containers
a.yaml:16: spec.containers[0].volumeMounts[0].mountPropagation: Forbidden: Bidirectional mount propagation is available only to privileged containers
a.yaml:17: spec.containers[0].volumeMounts[1].mountPropagation: Unsupported value: "Sideways": supported values: "Bidirectional", "HostToContainer", "None"`,
	}, {
		name: "env and resources",
		in: []string{podHead + `  containers:
  - name: a
    image: busybox
    env:
    - name: A=B
    - value: x
    - name: FROM
      value: x
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    resources:
      requests: {memory: 2Gi, cpu: "2"}
      limits: {memory: 1Gi, cpu: "1"}
`},
		want: `a.yaml:10: spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='
a.yaml:11: spec.containers[0].env[1].name: Required value
a.yaml:14: spec.containers[0].env[2].valueFrom: Invalid value: "": may not be specified when ` + "`value`" + ` is not empty
a.yaml:16: spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1
a.yaml:16: spec.containers[0].resources.requests: Invalid value: "2Gi": must be less than or equal to memory limit of 1Gi`,
	}, {
		name: "policies and durations",
		in: []string{podHead + `  restartPolicy: Sometimes
  dnsPolicy: Custom
  terminationGracePeriodSeconds: -1
  activeDeadlineSeconds: 0
  containers:
  - name: a
    image: busybox
    imagePullPolicy: Maybe
`},
		want: `a.yaml:6: spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"
a.yaml:7: spec.dnsPolicy: Unsupported value: "Custom": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"
a.yaml:8: spec.terminationGracePeriodSeconds: Invalid value: -1: must be greater than or equal to 0
a.yaml:9: spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive
a.yaml:13: spec.containers[0].imagePullPolicy: Unsupported value: "Maybe": supported values: "Always", "IfNotPresent", "Never"`,
	}, {
		name: "dnsPolicy None needs dnsConfig",
		in:   []string{podHead + "  dnsPolicy: None\n  containers: [{name: a, image: busybox}]\n"},
		want: "a.yaml:5: spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None",
	}, {
		name: "kinds and apiVersions",
		in: []string{
			"apiVersion: v1\nkind: ReplicationController\nmetadata: {name: d}\n---\napiVersion: v1\nkind: PodTemplate\nmetadata: {name: s}\n",
			"apiVersion: apps/v1\nkind: Pod\nmetadata: {name: p}\n",
		},
		want: `a.yaml:1: kind ReplicationController (v1) is not supported yet; podrun accepts: Pod, ConfigMap, Secret, PersistentVolumeClaim, Service, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, Namespace, CustomResourceDefinition, ServiceAccount, LimitRange, ResourceQuota, Role, ClusterRole, RoleBinding, ClusterRoleBinding, PodDisruptionBudget, HorizontalPodAutoscaler, NetworkPolicy, Ingress, IngressClass, PriorityClass, custom resources of their CustomResourceDefinitions
a.yaml:5: kind PodTemplate (v1) is not supported yet; podrun accepts: Pod, ConfigMap, Secret, PersistentVolumeClaim, Service, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, Namespace, CustomResourceDefinition, ServiceAccount, LimitRange, ResourceQuota, Role, ClusterRole, RoleBinding, ClusterRoleBinding, PodDisruptionBudget, HorizontalPodAutoscaler, NetworkPolicy, Ingress, IngressClass, PriorityClass, custom resources of their CustomResourceDefinitions
b.yaml:1: apiVersion: Unsupported value: "apps/v1": supported values: "v1"`,
	}, {
		name: "namespace differing from --namespace",
		opts: Options{Namespace: "b"},
		in:   []string{"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: a\nspec:\n  containers: [{name: a, image: busybox}]\n"},
		want: `a.yaml:5: the namespace from the provided object "a" does not match the namespace "b". You must pass '--namespace=a' to perform this operation.`,
	}, {
		name: "duplicate pods across files",
		in: []string{
			podHead + "  containers: [{name: a, image: busybox}]\n",
			"apiVersion: v1\nkind: Pod\nmetadata:\n  namespace: default\n  name: p\nspec:\n  containers: [{name: a, image: busybox}]\n",
		},
		want: `b.yaml:5: metadata.name: Duplicate value: "p": pod "p" in namespace "default" is already defined at a.yaml:1`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pods(t, tt.opts, tt.in...)
			if err == nil {
				t.Fatalf("Pods returned %d pods and no error, want:\n%s", len(got), tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n%s\nwant:\n%s", err, tt.want)
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Errorf("error is %T, want an ErrorList", err)
			}
		})
	}
}

func TestPodsNamespace(t *testing.T) {
	in := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers: [{name: a, image: busybox}]\n"
	inNS := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: q\n  namespace: team\nspec:\n  containers: [{name: a, image: busybox}]\n"
	tests := []struct {
		name string
		opts Options
		in   string
		want string
	}{
		{"default", Options{}, in, "default"},
		{"from options", Options{Namespace: "team"}, in, "team"},
		{"from the object", Options{}, inNS, "team"},
		{"object and options agree", Options{Namespace: "team"}, inNS, "team"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pods(t, tt.opts, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if ns := got[0].Pod.Namespace; ns != tt.want {
				t.Errorf("namespace = %q, want %q", ns, tt.want)
			}
		})
	}
}

func TestPodsDefaults(t *testing.T) {
	in := podHead + `  initContainers:
  - name: init
    image: busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000
  containers:
  - name: web
    image: nginx
    ports:
    - containerPort: 80
    resources:
      limits: {memory: 128Mi}
      requests: {cpu: 100m}
    livenessProbe:
      httpGet: {port: 80}
    env:
    - name: POD
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
  - name: app
    image: localhost:5000/app:1.2
  volumes:
  - name: scratch
  - name: cfg
    configMap: {name: cfg}
  - name: sec
    secret: {secretName: s}
  - name: host
    hostPath: {path: /tmp}
`
	got, err := pods(t, Options{}, in)
	if err != nil {
		t.Fatal(err)
	}
	mode := int32(0644)
	unset := corev1.HostPathUnset
	want := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{
				ctr("init", "busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000", corev1.PullIfNotPresent),
			},
			Containers: []corev1.Container{
				ctr("web", "nginx", corev1.PullAlways),
				ctr("app", "localhost:5000/app:1.2", corev1.PullIfNotPresent),
			},
			Volumes: []corev1.Volume{
				{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, DefaultMode: &mode}}},
				{Name: "sec", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s", DefaultMode: &mode}}},
				{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/tmp", Type: &unset}}},
			},
			RestartPolicy:                 corev1.RestartPolicyAlways,
			TerminationGracePeriodSeconds: ptr(int64(30)),
			DNSPolicy:                     corev1.DNSClusterFirst,
			ServiceAccountName:            "default",
			DeprecatedServiceAccount:      "default",
			SecurityContext:               &corev1.PodSecurityContext{},
			SchedulerName:                 "default-scheduler",
			Priority:                      ptr(int32(0)),
			PreemptionPolicy:              ptr(corev1.PreemptLowerPriority),
			EnableServiceLinks:            ptr(true),
		},
	}
	web := &want.Spec.Containers[0]
	web.Ports = []corev1.ContainerPort{{ContainerPort: 80, Protocol: corev1.ProtocolTCP}}
	web.Resources = corev1.ResourceRequirements{
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")},
		Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi"), corev1.ResourceCPU: resource.MustParse("100m")},
	}
	web.LivenessProbe = &corev1.Probe{
		ProbeHandler:   corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr(80), Scheme: corev1.URISchemeHTTP}},
		TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3,
	}
	web.Env = []corev1.EnvVar{{Name: "POD", ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}}}

	if diff := cmp.Diff(want, got[0].Pod, cmp.Comparer(func(a, b resource.Quantity) bool { return a.Cmp(b) == 0 })); diff != "" {
		t.Errorf("defaulted pod (-want +got):\n%s", diff)
	}
	if got[0].Source != (Source{File: "a.yaml", Line: 1}) {
		t.Errorf("source = %v, want a.yaml:1", got[0].Source)
	}
}

func ctr(name, image string, pull corev1.PullPolicy) corev1.Container {
	return corev1.Container{
		Name: name, Image: image, ImagePullPolicy: pull,
		TerminationMessagePath:   "/dev/termination-log",
		TerminationMessagePolicy: corev1.TerminationMessageReadFile,
	}
}

func TestPodsHostNetworkDefaultsHostPort(t *testing.T) {
	got, err := pods(t, Options{}, podHead+"  hostNetwork: true\n  containers:\n  - name: a\n    image: busybox\n    ports: [{containerPort: 80}]\n")
	if err != nil {
		t.Fatal(err)
	}
	if hp := got[0].Pod.Spec.Containers[0].Ports[0].HostPort; hp != 80 {
		t.Errorf("hostPort = %d, want 80", hp)
	}
}

func TestPodsKeepsInputUnchanged(t *testing.T) {
	objs, err := Decode("a.yaml", []byte(podHead+"  containers: [{name: a, image: busybox}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Pods(objs, Options{}); err != nil {
		t.Fatal(err)
	}
	if p := objs[0].Object.(*corev1.Pod); p.Namespace != "" || p.Spec.RestartPolicy != "" {
		t.Errorf("Pods changed its input: %+v", p)
	}
}

func TestErrorListOrder(t *testing.T) {
	l := ErrorList{
		{Source: Source{File: "b.yaml", Line: 3}, Detail: "x"},
		{Source: Source{File: "a.yaml", Line: 9}, Detail: "y"},
		{Source: Source{File: "b.yaml", Line: 1}, Field: "f", Detail: "z"},
	}
	want := "b.yaml:1: f: z\nb.yaml:3: x\na.yaml:9: y"
	if got := l.err().Error(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(ErrorList(nil).Error(), "") || ErrorList(nil).err() != nil {
		t.Error("an empty list must be no error")
	}
}

func intstr(port int) intstrpkg.IntOrString { return intstrpkg.FromInt32(int32(port)) }

// TestPortNameWarnings: a probe or hook naming a port its container does
// not declare is accepted, as by the API server, with a warning at the
// line of the port.
func TestPortNameWarnings(t *testing.T) {
	in := podHead + `  containers:
  - name: web
    image: busybox
    ports:
    - {name: http, containerPort: 80}
    readinessProbe:
      httpGet: {port: http}
    livenessProbe:
      tcpSocket:
        port: htttp
    lifecycle:
      preStop:
        httpGet: {port: admin}
`
	objs, err := Decode("a.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	set, err := Expand(objs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`a.yaml:15: spec.containers[0].livenessProbe.tcpSocket.port: container "web" declares no port named "htttp", so this will fail every time it runs`,
		`a.yaml:18: spec.containers[0].lifecycle.preStop.httpGet.port: container "web" declares no port named "admin", so this will fail every time it runs`,
	}
	if diff := cmp.Diff(want, set.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}
