package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner"
)

func resourceOf(t *testing.T, r *runner.Runner, name string) kube.Resource {
	t.Helper()
	res, err := resolveResource(r, name)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestResolveResource: kubectl's names of a kind, those of the custom
// resources of a stored definition, and kubectl's error with what podrun
// has for others.
func TestResolveResource(t *testing.T) {
	r, err := runner.New(runner.Config{Root: t.TempDir(), RunRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"sa": "serviceaccounts", "cm": "configmaps", "secret": "secrets", "pvc": "persistentvolumeclaims",
		"ns": "namespaces", "pdb": "poddisruptionbudgets.policy", "hpa": "horizontalpodautoscalers.autoscaling",
		"netpol": "networkpolicies.networking.k8s.io", "ingress": "ingresses.networking.k8s.io", "crd": "customresourcedefinitions.apiextensions.k8s.io",
		"clusterrolebindings": "clusterrolebindings.rbac.authorization.k8s.io", "pc": "priorityclasses.scheduling.k8s.io",
		"limits": "limitranges", "quota": "resourcequotas",
	} {
		if got := resourceOf(t, r, name).Qualified(); got != want {
			t.Errorf("%s names %s, want %s", name, got, want)
		}
	}
	_, err = resolveResource(r, "crontabs")
	if err == nil || !strings.HasPrefix(err.Error(), `the server doesn't have a resource type "crontabs"`) ||
		!strings.Contains(err.Error(), "serviceaccounts (sa)") {
		t.Errorf("unknown resource: %v", err)
	}
	set, err := r.Load(runner.Manifests{Paths: []string{"-"}, Stdin: strings.NewReader(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: crontabs.stable.example.com}
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, kind: CronTab, shortNames: [ct]}
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]
`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ApplySet(t.Context(), set); err != nil {
		t.Fatal(err)
	}
	if got := resourceOf(t, r, "ct"); got.Kind != "CronTab" || !got.Namespaced {
		t.Errorf("ct names %+v", got)
	}
}

func TestObjectTable(t *testing.T) {
	created := time.Now().Add(-3 * time.Minute)
	obj := func(ns, name string, fields map[string]any) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: fields}
		u.SetNamespace(ns)
		u.SetName(name)
		u.SetCreationTimestamp(metav1.NewTime(created))
		return u
	}
	r, err := runner.New(runner.Config{Root: t.TempDir(), RunRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cms := []*unstructured.Unstructured{
		obj("a", "one", map[string]any{"data": map[string]any{"x": "1", "y": "2"}, "binaryData": map[string]any{"z": "AA=="}}),
		obj("b", "two", map[string]any{}),
	}
	if err := printObjectTable(&out, resourceOf(t, r, "cm"), cms, true); err != nil {
		t.Fatal(err)
	}
	want := "NAMESPACE   NAME   DATA   AGE\na           one    3      3m\nb           two    0      3m\n"
	if out.String() != want {
		t.Errorf("configmaps:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	rb := obj("a", "read", map[string]any{"roleRef": map[string]any{"kind": "Role", "name": "reader"}})
	if err := printObjectTable(&out, resourceOf(t, r, "rolebindings"), []*unstructured.Unstructured{rb}, false); err != nil {
		t.Fatal(err)
	}
	if want := "NAME   ROLE          AGE\nread   Role/reader   3m\n"; out.String() != want {
		t.Errorf("rolebindings:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	if err := printObjectTable(&out, resourceOf(t, r, "sa"), nil, false); err != nil || out.String() != "No resources found.\n" {
		t.Errorf("no service accounts: %q, %v", out.String(), err)
	}
}

func TestKindAndNames(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"sa", "sa"},
		{"sa a b", "sa a b"},
		{"sa/a sa/b", "sa a b"},
		{"pod/web", "pod web"},
		{"sa/a cm/b", "error"},
		{"sa/a b", "error"},
		{"sa/", "error"},
	} {
		got, err := kindAndNames(strings.Fields(tt.in))
		s := strings.Join(got, " ")
		if err != nil {
			s = "error"
		}
		if s != tt.want {
			t.Errorf("kindAndNames(%s) = %s, %v; want %s", tt.in, s, err, tt.want)
		}
	}
}
