package kube

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

func quotas(t *testing.T, specs ...string) []*corev1.ResourceQuota {
	t.Helper()
	names := []string{"compute", "counts", "third"}
	var out []*corev1.ResourceQuota
	for i, s := range specs {
		rq := &corev1.ResourceQuota{Spec: *fromYAML[corev1.ResourceQuotaSpec](t, s)}
		rq.Name = names[i]
		out = append(out, rq)
	}
	return out
}

func listText(l corev1.ResourceList) map[string]string {
	out := map[string]string{}
	for k, v := range l {
		out[string(k)] = v.String()
	}
	return out
}

func endedPod(t *testing.T, spec string, phase corev1.PodPhase) *corev1.Pod {
	p := testPod(t, spec)
	p.Status.Phase = phase
	return p
}

func TestPodUsage(t *testing.T) {
	tests := []struct {
		name string
		pod  *corev1.Pod
		want map[string]string
	}{{
		name: "requests and limits under every name",
		pod:  testPod(t, `{containers: [{name: a, image: a, resources: {requests: {cpu: 250m, memory: 64Mi, ephemeral-storage: 1Gi}, limits: {cpu: "1", memory: 128Mi}}}]}`),
		want: map[string]string{"count/pods": "1", "pods": "1",
			"cpu": "250m", "requests.cpu": "250m", "limits.cpu": "1",
			"memory": "64Mi", "requests.memory": "64Mi", "limits.memory": "128Mi",
			"ephemeral-storage": "1Gi", "requests.ephemeral-storage": "1Gi"},
	}, {
		name: "sum of containers against the largest init container, plus overhead",
		pod: testPod(t, `{overhead: {cpu: 100m, memory: 10Mi},
			initContainers: [{name: i, image: a, resources: {requests: {cpu: "1"}}}],
			containers: [{name: a, image: a, resources: {requests: {cpu: 300m, memory: 100Mi}, limits: {cpu: 500m}}},
				{name: b, image: a, resources: {requests: {cpu: 300m, memory: 100Mi}}}]}`),
		want: map[string]string{"count/pods": "1", "pods": "1",
			"cpu": "1100m", "requests.cpu": "1100m", "limits.cpu": "600m",
			"memory": "210Mi", "requests.memory": "210Mi"},
	}, {
		name: "huge pages and extended resources",
		pod:  testPod(t, `{containers: [{name: a, image: a, resources: {limits: {hugepages-2Mi: 4Mi, example.com/gpu: "1", memory: 1Gi}}}]}`),
		want: map[string]string{"count/pods": "1", "pods": "1",
			"hugepages-2Mi": "4Mi", "requests.hugepages-2Mi": "4Mi", "requests.example.com/gpu": "1",
			"memory": "1Gi", "requests.memory": "1Gi", "limits.memory": "1Gi"},
	}, {
		name: "pod-level resources replace the containers'",
		pod:  testPod(t, `{resources: {requests: {cpu: "2"}, limits: {cpu: "2"}}, containers: [{name: a, image: a, resources: {requests: {cpu: 100m}}}]}`),
		want: map[string]string{"count/pods": "1", "pods": "1", "cpu": "2", "requests.cpu": "2", "limits.cpu": "2"},
	}, {
		name: "ended pods count only as objects",
		pod:  endedPod(t, `{containers: [{name: a, image: a, resources: {requests: {cpu: "1"}}}]}`, corev1.PodSucceeded),
		want: map[string]string{"count/pods": "1"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, listText(PodUsage(tt.pod))); d != "" {
				t.Errorf("usage (-want +got):\n%s", d)
			}
		})
	}
}

func TestObjectUsage(t *testing.T) {
	deploy := &unstructured.Unstructured{}
	deploy.SetAPIVersion("apps/v1")
	deploy.SetKind("Deployment")
	tests := []struct {
		name string
		obj  runtime.Object
		want map[string]string
	}{
		{"configmap", &corev1.ConfigMap{}, map[string]string{"configmaps": "1", "count/configmaps": "1"}},
		{"secret", &corev1.Secret{}, map[string]string{"secrets": "1", "count/secrets": "1"}},
		{"deployment by its apiVersion and kind", deploy, map[string]string{"count/deployments.apps": "1"}},
		{"job by its Go type", &batchv1.Job{}, map[string]string{"count/jobs.batch": "1"}},
		{"claim with a class", &corev1.PersistentVolumeClaim{Spec: *fromYAML[corev1.PersistentVolumeClaimSpec](t, `{storageClassName: fast, resources: {requests: {storage: 5Gi}}}`)},
			map[string]string{"persistentvolumeclaims": "1", "count/persistentvolumeclaims": "1", "requests.storage": "5Gi",
				"fast.storageclass.storage.k8s.io/persistentvolumeclaims": "1", "fast.storageclass.storage.k8s.io/requests.storage": "5Gi"}},
		{"node port service", &corev1.Service{Spec: *fromYAML[corev1.ServiceSpec](t, `{type: NodePort, ports: [{port: 80}, {port: 443}]}`)},
			map[string]string{"services": "1", "count/services": "1", "services.nodeports": "2", "services.loadbalancers": "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ObjectUsage(tt.obj)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, listText(got)); d != "" {
				t.Errorf("usage (-want +got):\n%s", d)
			}
		})
	}
	if _, err := ObjectUsage(nil); err == nil {
		t.Error("ObjectUsage(nil) succeeded")
	}
	// StorageClass is no kind podrun decodes (Ingress, once, was not).
	if _, err := ObjectUsage(&storagev1.StorageClass{}); err == nil || err.Error() != "counting *v1.StorageClass against quota: unknown kind" {
		t.Errorf("a kind neither said nor known: %v", err)
	}
	ing := &networkingv1.Ingress{}
	ing.APIVersion, ing.Kind = "networking.k8s.io/v1", "Ingress"
	if got, err := ObjectUsage(ing); err != nil || got.Name("count/ingresses.networking.k8s.io", resource.DecimalSI).String() != "1" {
		t.Errorf("ingress usage = %v, %v", got, err)
	}
}

const (
	bestEffortPod = `{containers: [{name: app, image: a}]}`
	cpuPod        = `{containers: [{name: app, image: a, resources: {requests: {cpu: "1", memory: 1Gi}, limits: {cpu: "1", memory: 1Gi}}}]}`
)

// refusals lists the refusals err aggregates, one per line.
func refusals(err error) string {
	if err == nil {
		return ""
	}
	var lines []string
	for _, e := range flatten(err) {
		lines = append(lines, e.Error())
	}
	return strings.Join(lines, "\n")
}

func TestCheckQuota(t *testing.T) {
	pod := func(spec string) runtime.Object { return testPod(t, spec) }
	podWith := func(spec string, edit func(*corev1.Pod)) runtime.Object {
		p := testPod(t, spec)
		edit(p)
		return p
	}
	tests := []struct {
		name     string
		obj      runtime.Object
		quotas   []string
		existing []runtime.Object
		want     string
	}{{
		name:     "fits when equal to hard",
		obj:      pod(cpuPod),
		quotas:   []string{`{hard: {requests.cpu: "2", limits.memory: 2Gi, pods: "2"}}`},
		existing: []runtime.Object{pod(cpuPod)},
	}, {
		name:     "exceeded",
		obj:      pod(`{containers: [{name: app, image: a, resources: {requests: {cpu: "2", memory: 1Gi}, limits: {cpu: "2", memory: 1Gi}}}]}`),
		quotas:   []string{`{hard: {requests.cpu: "2", requests.memory: 4Gi}}`},
		existing: []runtime.Object{pod(cpuPod)},
		want:     `exceeded quota: compute, requested: requests.cpu=2, used: requests.cpu=1, limited: requests.cpu=2`,
	}, {
		name:     "milli-cpu: 900m and 100m fit in 1",
		obj:      pod(`{containers: [{name: app, image: a, resources: {requests: {cpu: 100m}}}]}`),
		quotas:   []string{`{hard: {cpu: "1"}}`},
		existing: []runtime.Object{pod(`{containers: [{name: app, image: a, resources: {requests: {cpu: 900m}}}]}`)},
	}, {
		name:     "milli-cpu: 900m and 101m do not",
		obj:      pod(`{containers: [{name: app, image: a, resources: {requests: {cpu: 101m}}}]}`),
		quotas:   []string{`{hard: {cpu: "1", memory: 1Gi}}`},
		existing: []runtime.Object{pod(`{containers: [{name: app, image: a, resources: {requests: {cpu: 900m, memory: 1Mi}}}]}`)},
		want:     `failed quota: compute: must specify memory for: app`,
	}, {
		name:     "milli-cpu: over by one thousandth",
		obj:      pod(`{containers: [{name: app, image: a, resources: {requests: {cpu: 101m}}}]}`),
		quotas:   []string{`{hard: {cpu: "1"}}`},
		existing: []runtime.Object{pod(`{containers: [{name: app, image: a, resources: {requests: {cpu: 900m}}}]}`)},
		want:     `exceeded quota: compute, requested: cpu=101m, used: cpu=900m, limited: cpu=1`,
	}, {
		name:   "must specify what a quota limits, per container",
		obj:    pod(`{initContainers: [{name: init, image: a, resources: {limits: {cpu: 100m}}}], containers: [{name: app, image: a}, {name: web, image: a, resources: {requests: {memory: 1Mi}}}]}`),
		quotas: []string{`{hard: {limits.cpu: "2", requests.memory: 1Gi, requests.storage: 1Gi}}`},
		want:   `failed quota: compute: must specify limits.cpu for: app,web; requests.memory for: app,init`,
	}, {
		name:   "a quota of counts only asks for nothing",
		obj:    pod(bestEffortPod),
		quotas: []string{`{hard: {pods: "1", configmaps: "1"}}`},
	}, {
		name:     "pods count",
		obj:      pod(bestEffortPod),
		quotas:   []string{`{hard: {pods: "1"}}`},
		existing: []runtime.Object{pod(bestEffortPod)},
		want:     `exceeded quota: compute, requested: pods=1, used: pods=1, limited: pods=1`,
	}, {
		name:     "ended pods do not count, but for count/pods",
		obj:      pod(bestEffortPod),
		quotas:   []string{`{hard: {pods: "1"}}`, `{hard: {count/pods: "1"}}`},
		existing: []runtime.Object{endedPod(t, bestEffortPod, corev1.PodFailed)},
		want:     `exceeded quota: counts, requested: count/pods=1, used: count/pods=1, limited: count/pods=1`,
	}, {
		name: "every quota that refuses is named",
		obj:  pod(cpuPod),
		quotas: []string{`{hard: {requests.cpu: "1", limits.memory: 4Gi}}`, `{hard: {pods: "1"}}`,
			`{hard: {limits.memory: 1Gi}}`},
		existing: []runtime.Object{pod(cpuPod)},
		want: "exceeded quota: compute, requested: requests.cpu=1, used: requests.cpu=1, limited: requests.cpu=1\n" +
			"exceeded quota: counts, requested: pods=1, used: pods=1, limited: pods=1\n" +
			"exceeded quota: third, requested: limits.memory=1Gi, used: limits.memory=1Gi, limited: limits.memory=1Gi",
	}, {
		name:     "BestEffort scope counts best-effort pods only",
		obj:      pod(cpuPod),
		quotas:   []string{`{hard: {pods: "1"}, scopes: [BestEffort]}`},
		existing: []runtime.Object{pod(bestEffortPod)},
	}, {
		name:     "BestEffort scope refuses a second best-effort pod",
		obj:      pod(bestEffortPod),
		quotas:   []string{`{hard: {pods: "1"}, scopes: [BestEffort]}`},
		existing: []runtime.Object{pod(bestEffortPod), pod(cpuPod)},
		want:     `exceeded quota: compute, requested: pods=1, used: pods=1, limited: pods=1`,
	}, {
		name:     "NotBestEffort scope",
		obj:      pod(cpuPod),
		quotas:   []string{`{hard: {pods: "1", requests.cpu: "10"}, scopes: [NotBestEffort]}`},
		existing: []runtime.Object{pod(bestEffortPod), pod(cpuPod)},
		want:     `exceeded quota: compute, requested: pods=1, used: pods=1, limited: pods=1`,
	}, {
		name:     "Terminating scope: pods with a deadline",
		obj:      podWith(bestEffortPod, func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr(int64(60)) }),
		quotas:   []string{`{hard: {pods: "1"}, scopes: [Terminating]}`, `{hard: {pods: "1"}, scopes: [NotTerminating]}`},
		existing: []runtime.Object{pod(bestEffortPod)},
	}, {
		name:     "NotTerminating scope: pods without",
		obj:      pod(bestEffortPod),
		quotas:   []string{`{hard: {pods: "1"}, scopes: [Terminating]}`, `{hard: {pods: "1"}, scopes: [NotTerminating]}`},
		existing: []runtime.Object{pod(bestEffortPod)},
		want:     `exceeded quota: counts, requested: pods=1, used: pods=1, limited: pods=1`,
	}, {
		name: "PriorityClass In and NotIn",
		obj:  podWith(bestEffortPod, func(p *corev1.Pod) { p.Spec.PriorityClassName = "high" }),
		quotas: []string{
			`{hard: {pods: "0"}, scopeSelector: {matchExpressions: [{scopeName: PriorityClass, operator: In, values: [high]}]}}`,
			`{hard: {pods: "0"}, scopeSelector: {matchExpressions: [{scopeName: PriorityClass, operator: NotIn, values: [high]}]}}`,
			`{hard: {pods: "0"}, scopeSelector: {matchExpressions: [{scopeName: PriorityClass, operator: NotIn, values: [low]}]}}`},
		want: "exceeded quota: compute, requested: pods=1, used: pods=0, limited: pods=0\n" +
			"exceeded quota: third, requested: pods=1, used: pods=0, limited: pods=0",
	}, {
		name: "PriorityClass of a pod naming none: only DoesNotExist and NotIn",
		obj:  pod(bestEffortPod),
		quotas: []string{
			`{hard: {pods: "0"}, scopeSelector: {matchExpressions: [{scopeName: PriorityClass, operator: Exists}]}}`,
			`{hard: {pods: "0"}, scopeSelector: {matchExpressions: [{scopeName: PriorityClass, operator: DoesNotExist}, {scopeName: PriorityClass, operator: NotIn, values: [high]}]}}`,
			`{hard: {pods: "0"}, scopeSelector: {matchExpressions: [{scopeName: PriorityClass, operator: In, values: [""]}]}}`},
		want: `exceeded quota: counts, requested: pods=1, used: pods=0, limited: pods=0`,
	}, {
		name: "PriorityClass Exists",
		obj:  podWith(bestEffortPod, func(p *corev1.Pod) { p.Spec.PriorityClassName = "low" }),
		quotas: []string{
			`{hard: {pods: "0"}, scopeSelector: {matchExpressions: [{scopeName: PriorityClass, operator: Exists}]}}`,
			`{hard: {pods: "0"}, scopeSelector: {matchExpressions: [{scopeName: PriorityClass, operator: DoesNotExist}]}}`,
			`{hard: {pods: "0"}, scopes: [PriorityClass]}`},
		want: "exceeded quota: compute, requested: pods=1, used: pods=0, limited: pods=0\n" +
			"exceeded quota: third, requested: pods=1, used: pods=0, limited: pods=0",
	}, {
		name:   "a pod setting its own cpu and memory need not set them per container",
		obj:    pod(`{resources: {limits: {cpu: "1", memory: 1Gi}}, containers: [{name: app, image: a}]}`),
		quotas: []string{`{hard: {limits.cpu: "1", requests.memory: 1Gi}}`},
	}, {
		name: "CrossNamespacePodAffinity",
		obj: podWith(bestEffortPod, func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{Namespaces: []string{"other"}, TopologyKey: "x"}}}}
		}),
		quotas: []string{`{hard: {pods: "0"}, scopes: [CrossNamespacePodAffinity]}`},
		want:   `exceeded quota: compute, requested: pods=1, used: pods=0, limited: pods=0`,
	}, {
		name:     "configmaps by either name",
		obj:      &corev1.ConfigMap{},
		quotas:   []string{`{hard: {configmaps: "1"}}`, `{hard: {count/configmaps: "1", cpu: "1"}}`},
		existing: []runtime.Object{&corev1.ConfigMap{}, pod(cpuPod)},
		want: "exceeded quota: compute, requested: configmaps=1, used: configmaps=1, limited: configmaps=1\n" +
			"exceeded quota: counts, requested: count/configmaps=1, used: count/configmaps=1, limited: count/configmaps=1",
	}, {
		name:     "a scoped quota counts no ConfigMap",
		obj:      &corev1.ConfigMap{},
		quotas:   []string{`{hard: {configmaps: "0"}, scopes: [NotTerminating]}`},
		existing: []runtime.Object{&corev1.ConfigMap{}},
	}, {
		name:     "secrets",
		obj:      &corev1.Secret{},
		quotas:   []string{`{hard: {secrets: "1"}}`},
		existing: []runtime.Object{&corev1.Secret{}, &corev1.ConfigMap{}},
		want:     `exceeded quota: compute, requested: secrets=1, used: secrets=1, limited: secrets=1`,
	}, {
		name: "VolumeAttributesClass scope counts claims of the class",
		obj:  &corev1.PersistentVolumeClaim{Spec: *fromYAML[corev1.PersistentVolumeClaimSpec](t, `{volumeAttributesClassName: gold, resources: {requests: {storage: 1Gi}}}`)},
		quotas: []string{
			`{hard: {persistentvolumeclaims: "0"}, scopeSelector: {matchExpressions: [{scopeName: VolumeAttributesClass, operator: In, values: [gold]}]}}`,
			`{hard: {persistentvolumeclaims: "0"}, scopeSelector: {matchExpressions: [{scopeName: VolumeAttributesClass, operator: DoesNotExist}]}}`,
			`{hard: {persistentvolumeclaims: "0"}, scopes: [NotTerminating]}`},
		want: `exceeded quota: compute, requested: persistentvolumeclaims=1, used: persistentvolumeclaims=0, limited: persistentvolumeclaims=0`,
	}, {
		name:     "claim storage",
		obj:      &corev1.PersistentVolumeClaim{Spec: *fromYAML[corev1.PersistentVolumeClaimSpec](t, `{resources: {requests: {storage: 3Gi}}}`)},
		quotas:   []string{`{hard: {requests.storage: 5Gi, persistentvolumeclaims: "5"}}`},
		existing: []runtime.Object{&corev1.PersistentVolumeClaim{Spec: *fromYAML[corev1.PersistentVolumeClaimSpec](t, `{resources: {requests: {storage: 3Gi}}}`)}},
		want:     `exceeded quota: compute, requested: requests.storage=3Gi, used: requests.storage=3Gi, limited: requests.storage=5Gi`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := refusals(CheckQuota(tt.obj, quotas(t, tt.quotas...), tt.existing)); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestCheckQuotaGenericCount(t *testing.T) {
	deploy := func() runtime.Object {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("apps/v1")
		u.SetKind("Deployment")
		return u
	}
	err := CheckQuota(deploy(), quotas(t, `{hard: {count/deployments.apps: "1"}}`), []runtime.Object{deploy()})
	want := `exceeded quota: compute, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1`
	if errText(err) != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestCheckQuotaOtherScopes(t *testing.T) {
	// No pod is in a scope of claims.
	rq := quotas(t, `{hard: {pods: "0"}, scopeSelector: {matchExpressions: [{scopeName: VolumeAttributesClass, operator: Exists}]}}`)
	if err := CheckQuota(testPod(t, bestEffortPod), rq, nil); err != nil {
		t.Error(err)
	}
}

func TestQuotaUsageAndStatus(t *testing.T) {
	rq := quotas(t, `{hard: {requests.cpu: "4", pods: "10", count/pods: "10", configmaps: "3"}}`)[0]
	existing := []runtime.Object{
		testPod(t, cpuPod), testPod(t, cpuPod), testPod(t, bestEffortPod),
		endedPod(t, cpuPod, corev1.PodSucceeded),
	}
	used, err := QuotaUsage(rq, existing)
	if err != nil {
		t.Fatal(err)
	}
	st := QuotaStatus(rq, used)
	want := map[string]string{"requests.cpu": "2", "pods": "3", "count/pods": "4", "configmaps": "0"}
	if d := cmp.Diff(want, listText(st.Used)); d != "" {
		t.Errorf("used (-want +got):\n%s", d)
	}
	if d := cmp.Diff(listText(rq.Spec.Hard), listText(st.Hard)); d != "" {
		t.Errorf("hard (-want +got):\n%s", d)
	}
	st = QuotaStatus(rq, corev1.ResourceList{"pods": resource.MustParse("1"), "other": resource.MustParse("1")})
	if got := listText(st.Used); got["pods"] != "1" || got["requests.cpu"] != "0" || len(got) != 4 {
		t.Errorf("used = %v", got)
	}
}

func TestAdmissionNilInputs(t *testing.T) {
	var pod *corev1.Pod
	if ApplyLimitRanges(nil, nil) == nil || CheckClaimLimitRanges(nil, nil) == nil {
		t.Error("a nil pod or claim was admitted")
	}
	if CheckQuota(pod, nil, nil) == nil || CheckQuota(nil, nil, nil) == nil {
		t.Error("CheckQuota admitted no object")
	}
	if _, err := QuotaUsage(nil, nil); err == nil {
		t.Error("QuotaUsage of no quota succeeded")
	}
	rq := quotas(t, `{hard: {pods: "1"}}`)
	if _, err := QuotaUsage(rq[0], []runtime.Object{pod}); err == nil {
		t.Error("QuotaUsage counted a nil pod")
	}
	if err := CheckQuota(&corev1.ConfigMap{}, []*corev1.ResourceQuota{nil, rq[0]}, nil); err != nil {
		t.Error(err)
	}
	if err := ApplyLimitRanges(testPod(t, bestEffortPod), []*corev1.LimitRange{nil}); err != nil {
		t.Error(err)
	}
	_ = ValidateLimitRange(nil)
	_ = ValidateResourceQuota(nil)
	_ = QuotaStatus(nil, nil)
	_ = PodUsage(nil)
}

// FuzzAdmission checks that no quantities, however large, small or
// odd, make the admission functions panic.
func FuzzAdmission(f *testing.F) {
	f.Add("500m", "1", "0", "2")
	f.Add("9223372036854775807", "1e18", "0.0001", "-1")
	f.Add("1Ei", "1n", "0", "0")
	f.Add("8Ei", "999999999999999999999", "1m", "1000000000000000000")
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		q := make([]resource.Quantity, 4)
		for i, s := range []string{a, b, c, d} {
			v, err := resource.ParseQuantity(s)
			if err != nil {
				return
			}
			q[i] = v
		}
		list := func(v resource.Quantity) corev1.ResourceList {
			return corev1.ResourceList{corev1.ResourceCPU: v, corev1.ResourceMemory: v, corev1.ResourceStorage: v}
		}
		lr := &corev1.LimitRange{Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{
			{Type: corev1.LimitTypeContainer, Min: list(q[0]), Max: list(q[1]), Default: list(q[2]), MaxLimitRequestRatio: list(q[3])},
			{Type: corev1.LimitTypePod, Min: list(q[2]), Max: list(q[1]), MaxLimitRequestRatio: list(q[0])},
			{Type: corev1.LimitTypePersistentVolumeClaim, Min: list(q[3]), Max: list(q[0])},
		}}}
		_ = ValidateLimitRange(lr)
		pod := &corev1.Pod{Spec: corev1.PodSpec{
			Overhead:       list(q[3]),
			InitContainers: []corev1.Container{{Name: "i", Resources: corev1.ResourceRequirements{Requests: list(q[2]), Limits: list(q[0])}}},
			Containers:     []corev1.Container{{Name: "a", Resources: corev1.ResourceRequirements{Requests: list(q[3]), Limits: list(q[1])}}},
		}}
		_ = ApplyLimitRanges(pod, []*corev1.LimitRange{lr})
		_ = CheckClaimLimitRanges(&corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{Resources: corev1.VolumeResourceRequirements{Requests: list(q[1])}}}, []*corev1.LimitRange{lr})
		hard := corev1.ResourceList{corev1.ResourcePods: q[0], corev1.ResourceRequestsCPU: q[1], corev1.ResourceLimitsMemory: q[2], corev1.ResourceRequestsStorage: q[3]}
		rq := &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Hard: hard}}
		_ = ValidateResourceQuota(rq)
		_ = CheckQuota(pod, []*corev1.ResourceQuota{rq}, []runtime.Object{pod.DeepCopy()})
		used, _ := QuotaUsage(rq, []runtime.Object{pod})
		_ = QuotaStatus(rq, used)
	})
}

func TestAdmit(t *testing.T) {
	ranges := limitRanges(t, `{limits: [{type: Container, default: {cpu: 500m, memory: 256Mi}, max: {cpu: "1"}}, {type: PersistentVolumeClaim, max: {storage: 1Gi}}]}`)
	qs := quotas(t, `{hard: {limits.cpu: "1", limits.memory: 1Gi, pods: "5"}}`, `{hard: {requests.cpu: 600m}}`)
	existing := []runtime.Object{testPod(t, `{containers: [{name: a, image: a, resources: {limits: {cpu: 250m, memory: 256Mi}}}]}`)}

	// Defaulted by the range, the pod now sets what the first quota asks
	// and fits it, but not the second.
	pod := testPod(t, bestEffortPod)
	err := Admit(pod, ranges, qs, existing)
	want := `pods "web" is forbidden: exceeded quota: counts, requested: requests.cpu=500m, used: requests.cpu=250m, limited: requests.cpu=600m`
	var fe *ForbiddenError
	if !errors.As(err, &fe) || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	if got := pod.Spec.Containers[0].Resources.Limits.Cpu().String(); got != "500m" {
		t.Errorf("limits.cpu = %s, want the range's default 500m", got)
	}

	// LimitRanger refuses before quota is asked; each refusal has a line.
	pod = testPod(t, `{containers: [{name: a, image: a, resources: {limits: {cpu: "2"}}}, {name: b, image: a, resources: {limits: {cpu: 1500m}}}]}`)
	want = "pods \"web\" is forbidden: maximum cpu usage per Container is 1, but limit is 2.\n" +
		"pods \"web\" is forbidden: maximum cpu usage per Container is 1, but limit is 1500m."
	if err := Admit(pod, ranges, qs, existing); errText(err) != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	if err := ApplyLimitRanges(testPod(t, `{containers: [{name: a, image: a, resources: {limits: {cpu: "2"}}}, {name: b, image: a, resources: {limits: {cpu: 1500m}}}]}`), ranges); errText(err) !=
		"[maximum cpu usage per Container is 1, but limit is 2., maximum cpu usage per Container is 1, but limit is 1500m.]" {
		t.Errorf("aggregate: %v", err)
	}

	claim := &corev1.PersistentVolumeClaim{Spec: *fromYAML[corev1.PersistentVolumeClaimSpec](t, `{resources: {requests: {storage: 2Gi}}}`)}
	claim.Name = "data"
	want = `persistentvolumeclaims "data" is forbidden: maximum storage usage per PersistentVolumeClaim is 1Gi, but request is 2Gi.`
	if err := Admit(claim, ranges, qs, nil); errText(err) != want {
		t.Errorf("got %v\nwant %s", err, want)
	}

	deploy := &unstructured.Unstructured{}
	deploy.SetAPIVersion("apps/v1")
	deploy.SetKind("Deployment")
	deploy.SetName("app")
	want = `deployments.apps "app" is forbidden: exceeded quota: compute, requested: count/deployments.apps=1, used: count/deployments.apps=0, limited: count/deployments.apps=0`
	if err := Admit(deploy, nil, quotas(t, `{hard: {count/deployments.apps: "0"}}`), nil); errText(err) != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	var ie *InvalidError
	if err := Admit(testPod(t, `{containers: [{name: a, image: a, resources: {requests: {memory: 1Gi}}}]}`), ranges, qs, existing); !errors.As(err, &ie) {
		t.Errorf("a pod made invalid by a default: %v", err)
	}
	if err := Admit(&corev1.ConfigMap{}, ranges, qs, existing); err != nil {
		t.Errorf("a ConfigMap no quota counts: %v", err)
	}
}
