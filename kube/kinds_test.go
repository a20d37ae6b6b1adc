package kube

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// keptYAML has one valid object of every kept kind, and a custom resource
// of the definition it holds.
const keptYAML = `apiVersion: v1
kind: Namespace
metadata: {name: shop, namespace: ignored}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: crontabs.stable.example.com}
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
---
apiVersion: stable.example.com/v1
kind: CronTab
metadata: {name: tick}
spec: {cronSpec: "* * * * */5", anything: [1, 2]}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: robot}
---
apiVersion: v1
kind: LimitRange
metadata: {name: limits}
spec: {limits: [{type: Container, default: {cpu: 500m}}]}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: quota}
spec: {hard: {pods: "10"}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: "system:reader"}
rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: urls}
rules: [{nonResourceURLs: [/healthz], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read}
roleRef: {kind: Role, name: "system:reader"}
subjects: [{kind: ServiceAccount, name: robot}, {kind: User, name: jane}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: read-all}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: urls}
subjects: [{kind: ServiceAccount, name: robot, namespace: default}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec: {minAvailable: 50%, selector: {matchLabels: {app: web}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 5
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 80}}}]
---
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: old}
spec: {scaleTargetRef: {kind: Deployment, name: web}, minReplicas: 2, maxReplicas: 3}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny}
spec:
  podSelector: {}
  egress: [{ports: [{port: 53}], to: [{ipBlock: {cidr: 10.0.0.0/8}}]}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  ingressClassName: nginx
  rules:
  - host: "*.example.com"
    http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high, namespace: ignored}
value: 1000000000
`

func TestExpandKept(t *testing.T) {
	set, err := expand(t, Options{Namespace: "team"}, keptYAML)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range set.Kept {
		got = append(got, k.Resource.Printed()+"/"+k.Object.GetNamespace()+"/"+k.Object.GetName())
	}
	want := []string{
		"namespace//shop", "customresourcedefinition.apiextensions.k8s.io//crontabs.stable.example.com",
		"crontab.stable.example.com/team/tick", "serviceaccount/team/robot", "limitrange/team/limits",
		"resourcequota/team/quota", "role.rbac.authorization.k8s.io/team/system:reader",
		"clusterrole.rbac.authorization.k8s.io//urls", "rolebinding.rbac.authorization.k8s.io/team/read",
		"clusterrolebinding.rbac.authorization.k8s.io//read-all", "poddisruptionbudget.policy/team/web",
		"horizontalpodautoscaler.autoscaling/team/web", "horizontalpodautoscaler.autoscaling/team/old",
		"networkpolicy.networking.k8s.io/team/deny", "ingress.networking.k8s.io/team/web",
		"ingressclass.networking.k8s.io//nginx", "priorityclass.scheduling.k8s.io//high",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("kept:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Defaults the API server applies.
	ns := set.Kept[0].Object.(*corev1.Namespace)
	if ns.Status.Phase != corev1.NamespaceActive || len(ns.Spec.Finalizers) != 1 {
		t.Errorf("namespace: %+v", ns)
	}
	rb := set.Kept[8].Object.(*rbacv1.RoleBinding)
	if rb.RoleRef.APIGroup != rbacv1.GroupName || rb.Subjects[0].APIGroup != "" || rb.Subjects[1].APIGroup != rbacv1.GroupName {
		t.Errorf("rolebinding defaults: %+v", rb)
	}
	np := set.Kept[13].Object.(*networkingv1.NetworkPolicy)
	if len(np.Spec.PolicyTypes) != 2 || *np.Spec.Egress[0].Ports[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("networkpolicy defaults: %+v", np.Spec)
	}
	if pc := set.Kept[16].Object.(*schedulingv1.PriorityClass); *pc.PreemptionPolicy != corev1.PreemptLowerPriority {
		t.Errorf("priorityclass: %+v", pc)
	}
	cr := set.Kept[2]
	if _, ok := cr.Object.(*unstructured.Unstructured); !ok || cr.Resource.Plural != "crontabs" || cr.Note == "" {
		t.Errorf("custom resource: %+v", cr)
	}
	for _, k := range set.Kept {
		if k.Note == "" || k.Effect == "" {
			t.Errorf("%s has no note or effect", k.Resource.Kind)
		}
	}
	if e := set.Kept[13].Effect; e != Warned {
		t.Errorf("networkpolicy effect %q", e)
	}
}

// TestKeptInvalid: each kind's checks, with the API server's words, at
// the line of the field.
func TestKeptInvalid(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"unknown field", "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\nrule: []\n",
			`a.yaml:4: rule: unknown field`},
		{"unknown nested field", "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n  labls: {}\n",
			`a.yaml:5: metadata.labls: unknown field`},
		{"removed version", "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: p}\n",
			`a.yaml:1: apiVersion: Unsupported value: "policy/v1beta1": supported values: "policy/v1"`},
		{"namespace is a DNS label", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a.b\n",
			`a.yaml:4: metadata.name: Invalid value: "a.b": must not contain dots`},
		{"rbac name is a path segment", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: a/b\n",
			`a.yaml:4: metadata.name: Invalid value: "a/b": may not contain '/'`},
		{"service account name", "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: Robot\n",
			`a.yaml:4: metadata.name: Invalid value: "Robot": a lowercase RFC 1123 subdomain`},
		{"generateName", "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  generateName: robot-\n",
			`a.yaml:4: metadata.generateName: Forbidden: cannot use generate name with apply`},
		{"role verbs", "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\nrules:\n- apiGroups: ['']\n  resources: [pods]\n",
			`a.yaml:5: rules[0].verbs: Required value: verbs must contain at least one value`},
		{"namespaced non-resource URLs", "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\nrules:\n- verbs: [get]\n  nonResourceURLs: [/x]\n",
			`a.yaml:6: rules[0].nonResourceURLs: Invalid value: ["/x"]: namespaced rules cannot apply to non-resource URLs`},
		{"roleRef kind", "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b}\nroleRef:\n  kind: Pod\n  name: r\n",
			`a.yaml:5: roleRef.kind: Unsupported value: "Pod": supported values: "Role", "ClusterRole"`},
		{"roleRef apiGroup", "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b}\nroleRef:\n  apiGroup: rbac\n  kind: Role\n  name: r\n",
			`a.yaml:5: roleRef.apiGroup: Unsupported value: "rbac": supported values: "rbac.authorization.k8s.io"`},
		{"cluster binding of a Role", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef:\n  kind: Role\n  name: r\n",
			`a.yaml:5: roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"`},
		{"cluster binding subject namespace", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {kind: ClusterRole, name: r}\nsubjects:\n- kind: ServiceAccount\n  name: sa\n",
			`a.yaml:6: subjects[0].namespace: Required value`},
		{"subject kind", "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b}\nroleRef: {kind: Role, name: r}\nsubjects:\n- kind: Robot\n  name: sa\n",
			`a.yaml:6: subjects[0].kind: Unsupported value: "Robot"`},
		{"pdb both", "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\nspec:\n  minAvailable: 1\n  maxUnavailable: 1\n",
			`a.yaml:4: spec: Invalid value: minAvailable and maxUnavailable cannot be both set`},
		{"pdb percent", "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\nspec:\n  maxUnavailable: 120%\n",
			`a.yaml:5: spec.maxUnavailable: Invalid value: "120%": must not be greater than 100%`},
		{"pdb negative", "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\nspec:\n  minAvailable: -1\n",
			`a.yaml:5: spec.minAvailable: Invalid value: -1: must be greater than or equal to 0`},
		{"hpa min above max", "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec:\n  scaleTargetRef: {kind: Deployment, name: web}\n  minReplicas: 4\n  maxReplicas: 3\n",
			`a.yaml:7: spec.maxReplicas: Invalid value: 3: must be greater than or equal to ` + "`minReplicas`"},
		{"hpa target", "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec:\n  scaleTargetRef: {name: web}\n  maxReplicas: 3\n",
			`a.yaml:5: spec.scaleTargetRef.kind: Required value`},
		{"hpa max", "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec:\n  scaleTargetRef: {kind: Deployment, name: web}\n",
			`a.yaml:4: spec.maxReplicas: Invalid value: 0: must be greater than 0`},
		{"hpa metric source", "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec:\n  scaleTargetRef: {kind: Deployment, name: web}\n  maxReplicas: 3\n  metrics:\n  - type: ContainerResource\n    resource: {name: cpu, target: {type: Utilization}}\n",
			`a.yaml:8: spec.metrics[0].containerResource: Required value: must populate information for the given metric source`},
		{"hpa metric type", "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec:\n  scaleTargetRef: {kind: Deployment, name: web}\n  maxReplicas: 3\n  metrics:\n  - type: Memory\n",
			`a.yaml:8: spec.metrics[0].type: Unsupported value: "Memory"`},
		{"ingress implementation-specific path", "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\nspec:\n  rules:\n  - http:\n      paths:\n      - path: api\n        pathType: ImplementationSpecific\n        backend: {service: {name: web, port: {name: http}}}\n",
			`a.yaml:8: spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path`},
		{"limit range", "apiVersion: v1\nkind: LimitRange\nmetadata: {name: l}\nspec:\n  limits:\n  - type: Container\n    min: {cpu: \"2\"}\n    max: {cpu: \"1\"}\n",
			`a.yaml:7: spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1`},
		{"resource quota", "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: q}\nspec:\n  hard:\n    pods: \"-1\"\n",
			`a.yaml:6: spec.hard[pods]: Invalid value: "-1": must be greater than or equal to 0`},
		{"priority too high", "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: p}\nvalue: 1000000001\n",
			`a.yaml:4: value: Forbidden: maximum allowed value of a user defined priority is 1000000000`},
		{"system priority", "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: system-mine\nvalue: 1\n",
			`a.yaml:4: metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class`},
		{"policy type", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\nspec:\n  podSelector: {}\n  policyTypes: [Both]\n",
			`a.yaml:6: spec.policyTypes[0]: Unsupported value: "Both": supported values: "Ingress", "Egress"`},
		{"ingress path type", "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\nspec:\n  rules:\n  - http:\n      paths:\n      - path: /\n        backend: {service: {name: web, port: {number: 80}}}\n",
			`a.yaml:8: spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified`},
		{"ingress port", "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\nspec:\n  defaultBackend:\n    service: {name: web}\n",
			`a.yaml:6: spec.defaultBackend.service.port: Invalid value: port name or number is required`},
		{"ingressclass controller", "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: c}\nspec:\n  controller: nginx\n",
			`a.yaml:5: spec.controller: Invalid value: "nginx": must be a domain-prefixed path`},
		{"crd name", crdYAML("crontab.example.com", "example.com", "Namespaced", "v1"),
			`a.yaml:3: metadata.name: Invalid value: "crontab.example.com": must be spec.names.plural+"."+spec.group (crontabs.example.com)`},
		{"crd group", crdYAML("crontabs.example", "example", "Namespaced", "v1"),
			`a.yaml:5: spec.group: Invalid value: "example": should be a domain with at least one dot`},
		{"crd scope", crdYAML("crontabs.example.com", "example.com", "Global", "v1"),
			`a.yaml:6: spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"`},
		{"crd version name", crdYAML("crontabs.example.com", "example.com", "Cluster", "V1"),
			`a.yaml:8: spec.versions[0].name: Invalid value: "V1": a DNS-1035 label must consist of`},
		{"custom resource without its definition", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
			`a.yaml:1: no matches for kind "Widget" in version "example.com/v1"; apply its CustomResourceDefinition with it`},
		{"custom resource of a version not served", crdYAML("crontabs.example.com", "example.com", "Namespaced", "v1") +
			"---\napiVersion: example.com/v2\nkind: CronTab\nmetadata: {name: c}\n",
			`a.yaml:14: no matches for kind "CronTab" in version "example.com/v2": CustomResourceDefinition crontabs.example.com serves version v1`},
		{"custom resource name", crdYAML("crontabs.example.com", "example.com", "Namespaced", "v1") +
			"---\napiVersion: example.com/v1\nkind: CronTab\nmetadata:\n  name: C\n",
			`a.yaml:16: metadata.name: Invalid value: "C": a lowercase RFC 1123 subdomain`},
		{"duplicate", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n",
			`a.yaml:8: metadata.name: Duplicate value: "sa": serviceaccount "sa" in namespace "default" is already defined at a.yaml:1`},
		{"built-in kind not supported", "apiVersion: v1\nkind: PodTemplate\nmetadata: {name: s}\n",
			`a.yaml:1: kind PodTemplate (v1) is not supported yet`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Decode("a.yaml", []byte(tt.in))
			if err == nil {
				_, err = Expand(objs, Options{})
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tt.want)
			}
		})
	}
}

// crdYAML is a CustomResourceDefinition of kind CronTab; its version is
// on line 8, its scope on line 6.
func crdYAML(name, group, scope, version string) string {
	return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: ` + name + `}
spec:
  group: ` + group + `
  scope: ` + scope + `
  versions:
  - name: ` + version + `
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object}}
  names: {plural: crontabs, kind: CronTab}
`
}

// TestKeptScope: -n applies to namespaced kinds and custom resources,
// not to cluster-scoped ones, whose namespace the API server drops; a
// namespaced object naming another namespace than -n is refused.
func TestKeptScope(t *testing.T) {
	in := crdYAML("crontabs.example.com", "example.com", "Cluster", "v1") + `---
apiVersion: example.com/v1
kind: CronTab
metadata: {name: c, namespace: other}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: r, namespace: other}
`
	set, err := expand(t, Options{Namespace: "team"}, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Kept {
		if k.Object.GetNamespace() != "" || k.Resource.Namespaced {
			t.Errorf("%s %s: namespace %q", k.Resource.Kind, k.Object.GetName(), k.Object.GetNamespace())
		}
	}
	_, err = expand(t, Options{Namespace: "team"}, "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa, namespace: other}\n")
	if err == nil || !strings.Contains(err.Error(), `the namespace from the provided object "other" does not match the namespace "team"`) {
		t.Errorf("a service account of another namespace than -n: %v", err)
	}
}

// TestCustomResourceOfStoredDefinition: a definition stored by an earlier
// apply serves custom resources; one in the set replaces it.
func TestCustomResourceOfStoredDefinition(t *testing.T) {
	objs, err := Decode("d.yaml", []byte(crdYAML("crontabs.example.com", "example.com", "Namespaced", "v2")))
	if err != nil {
		t.Fatal(err)
	}
	stored := objs[0].Object.(*apiextv1.CustomResourceDefinition)
	cr := "apiVersion: example.com/v2\nkind: CronTab\nmetadata: {name: c}\n"
	set, err := expand(t, Options{Definitions: []*apiextv1.CustomResourceDefinition{stored}}, cr)
	if err != nil || len(set.Kept) != 1 || set.Kept[0].Object.GetNamespace() != "default" {
		t.Fatalf("custom resource of a stored definition: %+v, %v", set, err)
	}
	// The set's definition of the same name serves v1 only.
	_, err = expand(t, Options{Definitions: []*apiextv1.CustomResourceDefinition{stored}},
		crdYAML("crontabs.example.com", "example.com", "Namespaced", "v1")+"---\n"+cr)
	if err == nil || !strings.Contains(err.Error(), `no matches for kind "CronTab" in version "example.com/v2"`) {
		t.Errorf("custom resource of a replaced version: %v", err)
	}
}

func TestResourceMatches(t *testing.T) {
	var sa, role Resource
	for _, r := range Kinds {
		switch r.Kind {
		case "ServiceAccount":
			sa = r
		case "Role":
			role = r
		}
	}
	for _, n := range []string{"sa", "serviceaccounts", "serviceaccount", "ServiceAccount"} {
		if !sa.Matches(n) {
			t.Errorf("%q does not name serviceaccounts", n)
		}
	}
	for _, n := range []string{"roles", "role", "roles.rbac.authorization.k8s.io"} {
		if !role.Matches(n) {
			t.Errorf("%q does not name roles", n)
		}
	}
	if role.Matches("rolebindings") || role.Matches("roles.example.com") {
		t.Error("roles matches what is not it")
	}
	if role.Qualified() != "roles.rbac.authorization.k8s.io" || sa.Qualified() != "serviceaccounts" {
		t.Errorf("qualified: %s %s", role.Qualified(), sa.Qualified())
	}
}

// TestCustomResourceOfAKubernetesGroup: a definition may serve a kind in
// a group of Kubernetes itself (with the API's approval annotation); its
// custom resources are accepted, not refused as a built-in kind.
func TestCustomResourceOfAKubernetesGroup(t *testing.T) {
	in := strings.ReplaceAll(crdYAML("crontabs.storage.k8s.io", "storage.k8s.io", "Namespaced", "v1"), "{name: crontabs.storage.k8s.io}",
		"{name: crontabs.storage.k8s.io, annotations: {api-approved.kubernetes.io: unapproved}}") +
		"---\napiVersion: storage.k8s.io/v1\nkind: CronTab\nmetadata: {name: c}\n"
	set, err := expand(t, Options{}, in)
	if err != nil || len(set.Kept) != 2 || set.Kept[1].Resource.Printed() != "crontab.storage.k8s.io" {
		t.Fatalf("custom resource in storage.k8s.io: %v, %v", set, err)
	}
	_, err = expand(t, Options{}, "apiVersion: storage.k8s.io/v1\nkind: CronTab\nmetadata: {name: c}\n")
	if err == nil || !strings.Contains(err.Error(), "kind CronTab (storage.k8s.io/v1) is not supported yet") {
		t.Errorf("without its definition: %v", err)
	}
}

// TestKeptAcceptedAsTheAPIServerDoes: what the API server accepts that a
// stricter reading would refuse.
func TestKeptAcceptedAsTheAPIServerDoes(t *testing.T) {
	for name, in := range map[string]string{
		// The aggregation controller replaces the rules; the API server
		// takes them as written.
		"aggregated cluster role with rules": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: agg}\n" +
			"aggregationRule: {clusterRoleSelectors: [{matchLabels: {agg: \"true\"}}]}\nrules: [{apiGroups: [\"\"], resources: [pods], verbs: [get]}]\n",
		"implementation-specific empty path": "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\nspec:\n  rules:\n" +
			"  - http: {paths: [{pathType: ImplementationSpecific, backend: {service: {name: web, port: {name: http}}}}]}\n",
		"system priority class": "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: system-node-critical}\nvalue: 2000001000\n",
		"pdb of a percentage":   "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p}\nspec: {maxUnavailable: 100%}\n",
	} {
		if _, err := expand(t, Options{}, in); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestDefinitionAsGenerated: a definition as controller-gen writes it
// (printer columns, subresources, CEL rules, defaults, int-or-string,
// list maps, a status) decodes strictly, and serves its resource.
func TestDefinitionAsGenerated(t *testing.T) {
	objs, err := Load([]string{"testdata/crd.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	set, err := Expand(objs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	crd := set.Kept[0].Object.(*apiextv1.CustomResourceDefinition)
	if len(crd.Status.StoredVersions) != 0 || crd.Spec.Versions[0].Subresources.Scale == nil {
		t.Errorf("definition: %+v", crd)
	}
	cr := set.Kept[1]
	if cr.Resource.Printed() != "certificate.cert.example.io" || cr.Object.GetNamespace() != "team" || !slices.Equal(cr.Resource.Short, []string{"cert", "certs"}) {
		t.Errorf("custom resource: %+v", cr)
	}
}
