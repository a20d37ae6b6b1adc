package kube

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// fromYAML decodes a test object written as YAML.
func fromYAML[T any](t *testing.T, s string) *T {
	t.Helper()
	v := new(T)
	if err := yaml.UnmarshalStrict([]byte(s), v); err != nil {
		t.Fatalf("decoding test input: %v\n%s", err, s)
	}
	return v
}

func fieldErrorText(errs field.ErrorList) string {
	lines := make([]string, len(errs))
	for i, e := range errs {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

func TestValidateLimitRange(t *testing.T) {
	tests := []struct {
		name, spec, want string
	}{{
		name: "valid container range",
		spec: `{limits: [{type: Container, min: {cpu: 100m}, defaultRequest: {cpu: 200m}, default: {cpu: 500m}, max: {cpu: "1"}, maxLimitRequestRatio: {cpu: "4"}}]}`,
	}, {
		name: "equal bounds are valid",
		spec: `{limits: [{type: Container, min: {memory: 1Gi}, defaultRequest: {memory: 1Gi}, default: {memory: 1024Mi}, max: {memory: 1Gi}, maxLimitRequestRatio: {memory: "1"}}]}`,
	}, {
		name: "valid pod and claim ranges",
		spec: `{limits: [{type: Pod, max: {cpu: "2", memory: 1Gi}}, {type: PersistentVolumeClaim, min: {storage: 1Gi}}]}`,
	}, {
		name: "unknown type",
		spec: `{limits: [{type: Node, max: {cpu: "1"}}]}`,
		want: `spec.limits[0].type: Invalid value: "Node": must be a standard limit type or fully qualified`,
	}, {
		name: "empty type",
		spec: `{limits: [{max: {cpu: "1"}}]}`,
		want: `spec.limits[0].type: Invalid value: "": name part must be non-empty
spec.limits[0].type: Invalid value: "": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
	}, {
		name: "duplicate type",
		spec: `{limits: [{type: Container, max: {cpu: "1"}}, {type: Container, max: {cpu: "2"}}]}`,
		want: `spec.limits[1].type: Duplicate value: "Container"`,
	}, {
		name: "container resource names",
		spec: `{limits: [{type: Container, max: {pods: "1", example.com/gpu: "1", example.com/: "1"}}]}`,
		want: `spec.limits[0].max[example.com/]: Invalid value: "example.com/": name part must be non-empty
spec.limits[0].max[example.com/]: Invalid value: "example.com/": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')
spec.limits[0].max[pods]: Invalid value: "pods": must be a standard resource for containers`,
	}, {
		name: "claim resource names are any standard resource",
		spec: `{limits: [{type: PersistentVolumeClaim, min: {storage: 1Gi}, max: {storage: 2Gi, bogus: "1"}}]}`,
		want: `spec.limits[0].max[bogus]: Invalid value: "bogus": must be a standard resource type or fully qualified`,
	}, {
		name: "pod type has no defaults",
		spec: `{limits: [{type: Pod, default: {cpu: "1"}, defaultRequest: {cpu: "1"}}]}`,
		want: "spec.limits[0].default: Forbidden: may not be specified when `type` is 'Pod'\n" +
			"spec.limits[0].defaultRequest: Forbidden: may not be specified when `type` is 'Pod'",
	}, {
		name: "claim type needs min or max storage",
		spec: `{limits: [{type: PersistentVolumeClaim, default: {storage: 1Gi}}]}`,
		want: `spec.limits[0].limits: Required value: either minimum or maximum storage value is required, but neither was provided`,
	}, {
		name: "min above max",
		spec: `{limits: [{type: Container, min: {cpu: "2"}, max: {cpu: 1500m}}]}`,
		want: `spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1500m`,
	}, {
		name: "defaultRequest outside min and max and above default",
		spec: `{limits: [{type: Container, min: {cpu: "1"}, max: {cpu: "2"}, default: {cpu: "1"}, defaultRequest: {cpu: 500m}}, {type: Pod, max: {memory: 1Gi}}, {type: PersistentVolumeClaim, max: {storage: 1Gi}, defaultRequest: {storage: 2Gi}}]}`,
		want: `spec.limits[0].defaultRequest[cpu]: Invalid value: "500m": min value 1 is greater than default request value 500m
spec.limits[2].defaultRequest[storage]: Invalid value: "2Gi": default request value 2Gi is greater than max value 1Gi`,
	}, {
		name: "defaultRequest above default",
		spec: `{limits: [{type: Container, default: {memory: 100Mi}, defaultRequest: {memory: 200Mi}}]}`,
		want: `spec.limits[0].defaultRequest[memory]: Invalid value: "200Mi": default request value 200Mi is greater than default limit value 100Mi`,
	}, {
		name: "default outside min and max",
		spec: `{limits: [{type: Container, min: {cpu: 200m}, default: {cpu: 100m}}, {type: PersistentVolumeClaim, max: {storage: 1Gi}, default: {storage: 2Gi}}]}`,
		want: `spec.limits[0].default[cpu]: Invalid value: "200m": min value 200m is greater than default value 100m
spec.limits[1].default[storage]: Invalid value: "1Gi": default value 2Gi is greater than max value 1Gi`,
	}, {
		name: "ratio below one",
		spec: `{limits: [{type: Container, maxLimitRequestRatio: {cpu: 500m}}]}`,
		want: `spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value: "500m": ratio 500m is less than 1`,
	}, {
		name: "ratio wider than max/min",
		spec: `{limits: [{type: Container, min: {cpu: 250m}, max: {cpu: "1"}, maxLimitRequestRatio: {cpu: 4500m}}]}`,
		want: `spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value: "4500m": ratio 4500m is greater than max/min = 4.000000`,
	}, {
		name: "ratio against a zero min does not panic",
		spec: `{limits: [{type: Container, min: {cpu: "0"}, max: {cpu: "0"}, maxLimitRequestRatio: {cpu: "2"}}]}`,
	}, {
		name: "non-overcommitable default and defaultRequest differ",
		spec: `{limits: [{type: Container, default: {example.com/gpu: "2"}, defaultRequest: {example.com/gpu: "1"}}]}`,
		want: `spec.limits[0].defaultRequest[example.com/gpu]: Invalid value: "1": default value 2 must equal to defaultRequest value 1 in example.com/gpu`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr := &corev1.LimitRange{Spec: *fromYAML[corev1.LimitRangeSpec](t, tt.spec)}
			if got := fieldErrorText(ValidateLimitRange(lr)); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestValidateResourceQuota(t *testing.T) {
	tests := []struct {
		name, spec, want string
	}{{
		name: "valid compute and counts",
		spec: `{hard: {requests.cpu: "2", limits.memory: 2Gi, pods: "10", count/deployments.apps: "3", requests.example.com/gpu: "1", requests.hugepages-2Mi: 1Gi, configmaps: "5"}}`,
	}, {
		name: "not a quota resource",
		spec: `{hard: {storage: 1Gi, bogus: "1"}}`,
		want: `spec.hard[bogus]: Invalid value: "bogus": must be a standard resource type or fully qualified
spec.hard[bogus]: Invalid value: "bogus": must be a standard resource for quota
spec.hard[storage]: Invalid value: "storage": must be a standard resource for quota`,
	}, {
		name: "negative and fractional counts",
		spec: `{hard: {cpu: "-1", pods: 1500m, requests.example.com/gpu: 500m}}`,
		want: `spec.hard[cpu]: Invalid value: "-1": must be greater than or equal to 0
spec.hard[pods]: Invalid value: "1500m": must be an integer`,
	}, {
		name: "valid scopes",
		spec: `{hard: {pods: "2", requests.cpu: "1"}, scopes: [NotTerminating, NotBestEffort]}`,
	}, {
		name: "BestEffort only with pods",
		spec: `{hard: {pods: "2", requests.cpu: "1"}, scopes: [BestEffort]}`,
		want: `spec.scopes: Invalid value: ["BestEffort"]: unsupported scope applied to resource`,
	}, {
		name: "pod scopes on other resources",
		spec: `{hard: {configmaps: "2"}, scopes: [Terminating]}`,
		want: `spec.scopes: Invalid value: ["Terminating"]: unsupported scope applied to resource`,
	}, {
		name: "unknown and conflicting scopes",
		spec: `{hard: {pods: "2"}, scopes: [Terminating, NotTerminating, Sometimes]}`,
		want: `spec.scopes: Invalid value: ["Terminating","NotTerminating","Sometimes"]: unsupported scope
spec.scopes: Invalid value: ["Terminating","NotTerminating","Sometimes"]: conflicting scopes`,
	}, {
		name: "valid scope selector",
		spec: `{hard: {pods: "2"}, scopeSelector: {matchExpressions: [{scopeName: PriorityClass, operator: In, values: [high]}, {scopeName: BestEffort, operator: Exists}]}}`,
	}, {
		name: "scope selector operators and values",
		spec: `{hard: {pods: "2"}, scopeSelector: {matchExpressions: [
			{scopeName: PriorityClass, operator: In},
			{scopeName: PriorityClass, operator: Exists, values: [a]},
			{scopeName: Terminating, operator: DoesNotExist},
			{scopeName: PriorityClass, operator: Has, values: [a]},
			{scopeName: Whenever, operator: Exists}]}}`,
		want: "spec.scopeSelector.matchExpressions[0].values: Required value: must be at least one value when `operator` is 'In' or 'NotIn' for scope selector\n" +
			`spec.scopeSelector.matchExpressions[1].values: Invalid value: ["a"]: must be no value when ` + "`operator` is 'Exist' or 'DoesNotExist' for scope selector\n" +
			`spec.scopeSelector.matchExpressions[2].operator: Invalid value: "DoesNotExist": must be 'Exist' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity` + "\n" +
			`spec.scopeSelector.matchExpressions[3].operator: Invalid value: "Has": not a valid selector operator` + "\n" +
			`spec.scopeSelector.matchExpressions[4].scopeName: Invalid value: "Whenever": unsupported scope`,
	}, {
		name: "scope selector BestEffort with cpu, and conflicting",
		spec: `{hard: {requests.cpu: "1"}, scopeSelector: {matchExpressions: [{scopeName: BestEffort, operator: Exists}, {scopeName: NotBestEffort, operator: Exists}]}}`,
		want: `spec.scopeSelector.matchExpressions[0]: Invalid value: "BestEffort": unsupported scope applied to resource
spec.scopeSelector.matchExpressions: Invalid value: {"matchExpressions":[{"scopeName":"BestEffort","operator":"Exists"},{"scopeName":"NotBestEffort","operator":"Exists"}]}: conflicting scopes`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rq := &corev1.ResourceQuota{Spec: *fromYAML[corev1.ResourceQuotaSpec](t, tt.spec)}
			if got := fieldErrorText(ValidateResourceQuota(rq)); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
