package kube

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

// limitRanges decodes the specs of LimitRanges named lr0, lr1, ...
func limitRanges(t *testing.T, specs ...string) []*corev1.LimitRange {
	t.Helper()
	var out []*corev1.LimitRange
	for i, s := range specs {
		lr := &corev1.LimitRange{Spec: *fromYAML[corev1.LimitRangeSpec](t, s)}
		lr.Name = "lr" + string(rune('0'+i))
		out = append(out, lr)
	}
	return out
}

// testPod decodes a pod spec and defaults it as Expand does.
func testPod(t *testing.T, spec string) *corev1.Pod {
	t.Helper()
	p := &corev1.Pod{Spec: *fromYAML[corev1.PodSpec](t, spec)}
	p.Name, p.Namespace = "web", "default"
	setPodDefaults(p)
	return p
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestApplyLimitRangesChecks(t *testing.T) {
	tests := []struct {
		name   string
		pod    string
		ranges []string
		want   string
	}{{
		name:   "no ranges",
		pod:    `{containers: [{name: app, image: a}]}`,
		ranges: nil,
	}, {
		name:   "limit above max",
		pod:    `{containers: [{name: app, image: a, resources: {limits: {cpu: "1"}}}]}`,
		ranges: []string{`{limits: [{type: Container, max: {cpu: 500m}}]}`},
		want:   `maximum cpu usage per Container is 500m, but limit is 1.`,
	}, {
		name:   "limit equal to max fits",
		pod:    `{containers: [{name: app, image: a, resources: {limits: {cpu: "0.5", memory: 1Gi}}}]}`,
		ranges: []string{`{limits: [{type: Container, max: {cpu: 500m, memory: 1024Mi}}]}`},
	}, {
		name:   "request above max",
		pod:    `{containers: [{name: app, image: a, resources: {requests: {memory: 2Gi}, limits: {memory: 2Gi}}}]}`,
		ranges: []string{`{limits: [{type: Container, max: {memory: 1Gi}}]}`},
		want:   `maximum memory usage per Container is 1Gi, but limit is 2Gi.`, // one message per bound
	}, {
		name:   "request above a max the range also defaults the limit to",
		pod:    `{containers: [{name: app, image: a, resources: {requests: {memory: 2Gi}}}]}`,
		ranges: []string{`{limits: [{type: Container, max: {memory: 1Gi}}]}`},
		want:   `Pod "web" is invalid: spec.containers[0].resources.requests: Invalid value: "2Gi": must be less than or equal to memory limit of 1Gi`,
	}, {
		name:   "milli rounding: a hair over max is over",
		pod:    `{containers: [{name: app, image: a, resources: {limits: {cpu: "0.5001"}}}]}`,
		ranges: []string{`{limits: [{type: Container, max: {cpu: 500m}}]}`},
		want:   `maximum cpu usage per Container is 500m, but limit is 500100u.`,
	}, {
		name:   "milli rounding: a hair under min rounds up to it",
		pod:    `{containers: [{name: app, image: a, resources: {requests: {cpu: "0.4999"}}}]}`,
		ranges: []string{`{limits: [{type: Container, min: {cpu: 500m}}]}`},
	}, {
		name:   "request below min",
		pod:    `{containers: [{name: app, image: a, resources: {requests: {memory: 100Mi}}}]}`,
		ranges: []string{`{limits: [{type: Container, min: {memory: 128Mi}}]}`},
		want:   `minimum memory usage per Container is 128Mi, but request is 100Mi.`,
	}, {
		name:   "pod request below min",
		pod:    `{containers: [{name: app, image: a, resources: {requests: {memory: 50Mi}, limits: {memory: 100Mi}}}]}`,
		ranges: []string{`{limits: [{type: Pod, min: {memory: 128Mi}}]}`},
		want:   `minimum memory usage per Pod is 128Mi, but request is 50Mi.`,
	}, {
		name:   "ratio above max",
		pod:    `{containers: [{name: app, image: a, resources: {requests: {cpu: 250m}, limits: {cpu: "1"}}}]}`,
		ranges: []string{`{limits: [{type: Container, maxLimitRequestRatio: {cpu: "2"}}]}`},
		want:   `cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000.`,
	}, {
		name:   "ratio equal to max fits",
		pod:    `{containers: [{name: app, image: a, resources: {requests: {cpu: 500m}, limits: {cpu: "1"}}}]}`,
		ranges: []string{`{limits: [{type: Container, maxLimitRequestRatio: {cpu: "2"}}]}`},
	}, {
		name:   "ratio without limit",
		pod:    `{containers: [{name: app, image: a, resources: {requests: {cpu: 500m}}}]}`,
		ranges: []string{`{limits: [{type: Container, maxLimitRequestRatio: {cpu: "2"}}]}`},
		want:   `cpu max limit to request ratio per Container is 2, but no limit is specified or limit is 0.`,
	}, {
		name:   "ratio without request",
		pod:    `{containers: [{name: app, image: a}]}`,
		ranges: []string{`{limits: [{type: Container, maxLimitRequestRatio: {memory: 1500m}}]}`},
		want:   `memory max limit to request ratio per Container is 1500m, but no request is specified or request is 0.`,
	}, {
		name:   "init containers are checked as containers",
		pod:    `{initContainers: [{name: setup, image: a, resources: {limits: {cpu: "2"}}}], containers: [{name: app, image: a, resources: {limits: {cpu: 100m}}}]}`,
		ranges: []string{`{limits: [{type: Container, max: {cpu: "1"}}]}`},
		want:   `maximum cpu usage per Container is 1, but limit is 2.`,
	}, {
		name: "pod max over the sum of containers",
		pod: `{containers: [{name: a, image: a, resources: {limits: {memory: 600Mi}}},
			{name: b, image: a, resources: {limits: {memory: 600Mi}}}]}`,
		ranges: []string{`{limits: [{type: Pod, max: {memory: 1Gi}}]}`},
		want:   `maximum memory usage per Pod is 1Gi, but limit is 1200Mi.`,
	}, {
		name: "pod max over the largest init container",
		pod: `{initContainers: [{name: i, image: a, resources: {limits: {memory: 2Gi}}}],
			containers: [{name: a, image: a, resources: {limits: {memory: 600Mi}}}]}`,
		ranges: []string{`{limits: [{type: Pod, max: {memory: 1Gi}}]}`},
		want:   `maximum memory usage per Pod is 1Gi, but limit is 2Gi.`,
	}, {
		name: "sidecars add to the containers and to later init containers",
		pod: `{initContainers: [{name: s, image: a, restartPolicy: Always, resources: {limits: {memory: 400Mi}}},
			{name: i, image: a, resources: {limits: {memory: 700Mi}}}],
			containers: [{name: a, image: a, resources: {limits: {memory: 500Mi}}}]}`,
		ranges: []string{`{limits: [{type: Pod, max: {memory: 1000Mi}}]}`},
		want:   `maximum memory usage per Pod is 1000Mi, but limit is 1100Mi.`,
	}, {
		name:   "pod overhead is not counted",
		pod:    `{overhead: {memory: 100Mi}, containers: [{name: a, image: a, resources: {limits: {memory: 1Gi}}}]}`,
		ranges: []string{`{limits: [{type: Pod, max: {memory: 1Gi}}]}`},
	}, {
		name:   "pod max with no limit",
		pod:    `{containers: [{name: a, image: a}]}`,
		ranges: []string{`{limits: [{type: Pod, max: {cpu: "2"}}]}`},
		want:   `maximum cpu usage per Pod is 2.  No limit is specified.`,
	}, {
		name:   "pod min with no request",
		pod:    `{containers: [{name: a, image: a}]}`,
		ranges: []string{`{limits: [{type: Pod, min: {memory: 1Gi}}]}`},
		want:   `minimum memory usage per Pod is 1Gi.  No request is specified.`,
	}, {
		name: "every refusal of every range, in order",
		pod:  `{containers: [{name: a, image: a, resources: {limits: {cpu: "2", memory: 2Gi}}}]}`,
		ranges: []string{
			`{limits: [{type: Container, max: {memory: 1Gi, cpu: "1"}}]}`,
			`{limits: [{type: Pod, max: {cpu: 1500m}}]}`,
		},
		want: `[maximum cpu usage per Container is 1, but limit is 2., maximum memory usage per Container is 1Gi, but limit is 2Gi., maximum cpu usage per Pod is 1500m, but limit is 2.]`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := testPod(t, tt.pod)
			if got := errText(ApplyLimitRanges(pod, limitRanges(t, tt.ranges...))); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestApplyLimitRangesDefaults(t *testing.T) {
	pod := testPod(t, `{initContainers: [{name: setup, image: a}], containers: [
		{name: app, image: a, resources: {limits: {cpu: "1"}}},
		{name: side, image: a, resources: {requests: {memory: 64Mi}}}]}`)
	ranges := limitRanges(t,
		`{limits: [{type: Container, default: {cpu: 500m}, defaultRequest: {cpu: 250m}}]}`,
		`{limits: [{type: Container, default: {cpu: "2", memory: 256Mi}}]}`,
	)
	if err := ApplyLimitRanges(pod, ranges); err != nil {
		t.Fatal(err)
	}
	type res struct{ Requests, Limits map[string]string }
	got := map[string]res{}
	for _, c := range append(pod.Spec.Containers, pod.Spec.InitContainers...) {
		r := res{map[string]string{}, map[string]string{}}
		for k, v := range c.Resources.Requests {
			r.Requests[string(k)] = v.String()
		}
		for k, v := range c.Resources.Limits {
			r.Limits[string(k)] = v.String()
		}
		got[c.Name] = r
	}
	want := map[string]res{
		// The pod's own limit, and the request defaulted from it before
		// admission, are kept; the second range's memory default (and a
		// request equal to it) fills what the first range leaves.
		"app":  {map[string]string{"cpu": "1", "memory": "256Mi"}, map[string]string{"cpu": "1", "memory": "256Mi"}},
		"side": {map[string]string{"cpu": "250m", "memory": "64Mi"}, map[string]string{"cpu": "500m", "memory": "256Mi"}},
		// The first range to name a resource wins.
		"setup": {map[string]string{"cpu": "250m", "memory": "256Mi"}, map[string]string{"cpu": "500m", "memory": "256Mi"}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("resources (-want +got):\n%s", d)
	}
	wantNote := "LimitRanger plugin set: memory request for container app; memory limit for container app; memory limit for container side; memory request for init container setup; memory limit for init container setup"
	if got := pod.Annotations[limitRangerAnnotation]; got != wantNote {
		t.Errorf("annotation\n%s\nwant\n%s", got, wantNote)
	}
}

func TestSetLimitRangeDefaults(t *testing.T) {
	lr := limitRanges(t, `{limits: [
		{type: Container, max: {cpu: "2", memory: 1Gi}, min: {cpu: 100m, ephemeral-storage: 1Gi}, default: {memory: 512Mi}},
		{type: Pod, max: {cpu: "4"}}]}`)[0]
	SetLimitRangeDefaults(lr)
	SetLimitRangeDefaults(lr)
	want := fromYAML[corev1.LimitRangeSpec](t, `{limits: [
		{type: Container, max: {cpu: "2", memory: 1Gi}, min: {cpu: 100m, ephemeral-storage: 1Gi},
		 default: {cpu: "2", memory: 512Mi}, defaultRequest: {cpu: "2", memory: 512Mi, ephemeral-storage: 1Gi}},
		{type: Pod, max: {cpu: "4"}}]}`)
	if d := cmp.Diff(want.Limits, lr.Spec.Limits); d != "" {
		t.Errorf("defaulted (-want +got):\n%s", d)
	}
}

func TestApplyLimitRangesMaxAlone(t *testing.T) {
	// A range with only a max gives containers that set nothing that max,
	// through the range's own defaults, so they fit.
	pod := testPod(t, `{containers: [{name: app, image: a}]}`)
	if err := ApplyLimitRanges(pod, limitRanges(t, `{limits: [{type: Container, max: {cpu: 500m}}]}`)); err != nil {
		t.Fatal(err)
	}
	r := pod.Spec.Containers[0].Resources
	if got := r.Limits.Cpu().String() + " " + r.Requests.Cpu().String(); got != "500m 500m" {
		t.Errorf("limit and request = %s, want 500m 500m", got)
	}
}

func TestCheckClaimLimitRanges(t *testing.T) {
	tests := []struct {
		name, claim, want string
	}{
		{"fits at both bounds", `{resources: {requests: {storage: 1Gi}}}`, ""},
		{"below min", `{resources: {requests: {storage: 500Mi}}}`, `minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi.`},
		{"above max", `{resources: {requests: {storage: 2Gi}}}`, `maximum storage usage per PersistentVolumeClaim is 1Gi, but request is 2Gi.`},
		{"limits are not held to max", `{resources: {requests: {storage: 1Gi}, limits: {storage: 5Gi}}}`, ""},
		{"no request", `{}`, `[minimum storage usage per PersistentVolumeClaim is 1Gi.  No request is specified., maximum storage usage per PersistentVolumeClaim is 1Gi.  No request is specified.]`},
	}
	ranges := limitRanges(t,
		`{limits: [{type: Container, max: {cpu: "1"}}, {type: PersistentVolumeClaim, min: {storage: 1Gi}}]}`,
		`{limits: [{type: PersistentVolumeClaim, max: {storage: 1024Mi}}]}`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pvc := &corev1.PersistentVolumeClaim{Spec: *fromYAML[corev1.PersistentVolumeClaimSpec](t, tt.claim)}
			if got := errText(CheckClaimLimitRanges(pvc, ranges)); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestApplyLimitRangesInvalidates(t *testing.T) {
	// A default limit below the request the pod sets makes it invalid,
	// as the API server finds when it validates after mutating admission.
	pod := testPod(t, `{containers: [{name: app, image: a, resources: {requests: {cpu: "2"}}}]}`)
	err := ApplyLimitRanges(pod, limitRanges(t, `{limits: [{type: Container, default: {cpu: 500m}, defaultRequest: {cpu: 100m}}]}`))
	want := `Pod "web" is invalid: spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 500m`
	var ie *InvalidError
	if !errors.As(err, &ie) || err.Error() != want || len(ie.Errs) != 1 {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
