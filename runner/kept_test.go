package runner

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/objects"
)

const keptSetYAML = `apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
spec: {size: 3}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: robot}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]
---
apiVersion: v1
kind: LimitRange
metadata: {name: limits, namespace: team}
spec: {limits: [{type: Container, default: {cpu: 500m}}]}
---
apiVersion: v1
kind: Namespace
metadata: {name: team}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, kind: Widget}
  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}]
`

// TestApplyAndDeleteKept: the kept kinds are stored, Namespaces and
// definitions first, listed, unchanged when applied again, and deleted
// in the reverse order; a definition stored serves the custom resources
// of a later load, and takes them with it when deleted.
func TestApplyAndDeleteKept(t *testing.T) {
	r, err := New(Config{Root: t.TempDir(), RunRoot: t.TempDir(), Runtime: filepath.Join(t.TempDir(), "no-runtime")})
	if err != nil {
		t.Fatal(err)
	}
	set, err := r.Load(Manifests{Paths: []string{"-"}, Stdin: strings.NewReader(keptSetYAML)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	done, err := r.ApplySet(ctx, set)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"namespace//team created", "customresourcedefinition.apiextensions.k8s.io//widgets.example.com created",
		"widget.example.com/default/w created", "serviceaccount/default/robot created",
		"clusterrole.rbac.authorization.k8s.io//reader created", "limitrange/team/limits created",
	}
	if got := outcomeLines(done); !slices.Equal(got, want) {
		t.Errorf("apply:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if done, err := r.ApplySet(ctx, set); err != nil || len(done) != 6 || done[0].Action != "unchanged" || done[5].Action != "unchanged" {
		t.Errorf("apply again: %v, %v", done, err)
	}

	lrs, err := r.LimitRanges("team")
	if err != nil || len(lrs) != 1 || lrs[0].Spec.Limits[0].Default.Cpu().String() != "500m" {
		t.Errorf("LimitRanges(team) = %+v, %v", lrs, err)
	}
	if sas, err := r.ServiceAccounts("default"); err != nil || len(sas) != 1 || sas[0].Name != "robot" {
		t.Errorf("ServiceAccounts(default) = %+v, %v", sas, err)
	}
	if q, err := r.ResourceQuotas("team"); err != nil || len(q) != 0 {
		t.Errorf("ResourceQuotas(team) = %+v, %v", q, err)
	}
	var widgets kube.Resource
	for _, k := range set.Kept {
		if k.Resource.Kind == "Widget" {
			widgets = k.Resource
		}
	}
	stored, err := r.Stored(widgets, "")
	if err != nil || len(stored) != 1 || stored[0].GetName() != "w" || stored[0].GetCreationTimestamp().Time.IsZero() {
		t.Errorf("Stored(widgets) = %v, %v", stored, err)
	}

	// A later load takes custom resources of the stored definition.
	later, err := r.Load(Manifests{Paths: []string{"-"}, Stdin: strings.NewReader(strings.SplitN(keptSetYAML, "---", 2)[0])})
	if err != nil || len(later.Kept) != 1 {
		t.Fatalf("custom resource of a stored definition: %v, %v", later, err)
	}
	if _, err := (Manifests{Paths: []string{"-"}, Stdin: strings.NewReader(strings.SplitN(keptSetYAML, "---", 2)[0])}).Load(); err == nil {
		t.Error("Manifests.Load, which sees no stored definition, took a custom resource")
	}

	done, err = r.DeleteSet(ctx, set, DeleteSetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want = []string{
		"widget.example.com/default/w deleted", "serviceaccount/default/robot deleted",
		"clusterrole.rbac.authorization.k8s.io//reader deleted", "limitrange/team/limits deleted",
		"namespace//team deleted", "customresourcedefinition.apiextensions.k8s.io//widgets.example.com deleted",
	}
	if got := outcomeLines(done); !slices.Equal(got, want) {
		t.Errorf("delete:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if defs, err := r.Definitions(); err != nil || len(defs) != 0 {
		t.Errorf("definitions after delete: %v, %v", defs, err)
	}
	if done, err := r.DeleteSet(ctx, set, DeleteSetOptions{}); err != nil || len(done) != 0 {
		t.Errorf("deleting again: %v, %v", done, err)
	}
}

// TestDeleteDefinitionDropsItsResources: a definition deleted takes the
// custom resources stored of it, as the API server does.
func TestDeleteDefinitionDropsItsResources(t *testing.T) {
	r, err := New(Config{Root: t.TempDir(), RunRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	set, err := r.Load(Manifests{Paths: []string{"-"}, Stdin: strings.NewReader(keptSetYAML)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := r.ApplySet(ctx, set); err != nil {
		t.Fatal(err)
	}
	var crd kube.Set
	for _, k := range set.Kept {
		if k.Resource.Kind == "CustomResourceDefinition" {
			crd.Kept = append(crd.Kept, k)
		}
	}
	if _, err := r.DeleteSet(ctx, &crd, DeleteSetOptions{}); err != nil {
		t.Fatal(err)
	}
	b := r.Objects().Resource("widgets.example.com", "widget", true)
	if _, err := b.Get("default", "w"); !errors.Is(err, objects.ErrNotFound) {
		t.Errorf("the custom resource after its definition's delete: %v", err)
	}
	if sas, err := r.ServiceAccounts("default"); err != nil || len(sas) != 1 {
		t.Errorf("the service account: %v, %v", sas, err)
	}
}

func outcomeLines(done []Outcome) []string {
	var lines []string
	for _, o := range done {
		lines = append(lines, o.Kind+"/"+o.Namespace+"/"+o.Name+" "+o.Action)
	}
	return lines
}

// TestStoredOwnKinds: get lists ConfigMaps, Secrets and bound claims
// through Stored too, with their kind and creation time.
func TestStoredOwnKinds(t *testing.T) {
	r, err := New(Config{Root: t.TempDir(), RunRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	set, err := r.Load(Manifests{Paths: []string{"-"}, Stdin: strings.NewReader(strings.SplitN(setYAML, "---", 2)[1])})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ApplySet(context.Background(), set); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ConfigMap/settings", "Secret/creds", "PersistentVolumeClaim/data"} {
		kind, name, _ := strings.Cut(want, "/")
		var res kube.Resource
		for _, k := range kube.Kinds {
			if k.Kind == kind {
				res = k
			}
		}
		got, err := r.Stored(res, "default")
		if err != nil || len(got) != 1 || got[0].GetKind() != kind || got[0].GetName() != name || got[0].GetCreationTimestamp().Time.IsZero() {
			t.Errorf("Stored(%s) = %v, %v", res.Plural, got, err)
		}
		if other, err := r.Stored(res, "other"); err != nil || len(other) != 0 {
			t.Errorf("Stored(%s) of another namespace = %v, %v", res.Plural, other, err)
		}
	}
}

// TestKeptServiceAccount: admission finds a ServiceAccount of the set
// being rendered, then a stored one, and none is no error.
func TestKeptServiceAccount(t *testing.T) {
	r, err := New(Config{Root: t.TempDir(), RunRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	load := func(yaml string) *kube.Set {
		set, err := r.Load(Manifests{Paths: []string{"-"}, Stdin: strings.NewReader(yaml)})
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	stored := load("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: robot}\nautomountServiceAccountToken: false\n")
	if _, err := r.ApplySet(context.Background(), stored); err != nil {
		t.Fatal(err)
	}
	sa, err := r.keptServiceAccount("default", "robot")
	if err != nil || sa == nil || *sa.AutomountServiceAccountToken {
		t.Errorf("stored robot = %+v, %v", sa, err)
	}
	rr := *r
	rr.unstored = load("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: robot}\nautomountServiceAccountToken: true\n")
	if sa, err := rr.keptServiceAccount("default", "robot"); err != nil || sa == nil || !*sa.AutomountServiceAccountToken {
		t.Errorf("robot of the set = %+v, %v", sa, err)
	}
	if sa, err := rr.keptServiceAccount("other", "robot"); err != nil || sa != nil {
		t.Errorf("robot of another namespace = %+v, %v", sa, err)
	}
}

// TestDeleteStored: delete KIND NAME removes one stored object, a
// cluster-scoped one whatever the namespace given, a definition with its
// custom resources; what is not stored is ErrNotFound in kubectl's words.
func TestDeleteStored(t *testing.T) {
	r, err := New(Config{Root: t.TempDir(), RunRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	set, err := r.Load(Manifests{Paths: []string{"-"}, Stdin: strings.NewReader(keptSetYAML)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ApplySet(context.Background(), set); err != nil {
		t.Fatal(err)
	}
	res := map[string]kube.Resource{}
	for _, k := range set.Kept {
		res[k.Resource.Kind] = k.Resource
	}
	if err := r.DeleteStored(res["ServiceAccount"], "default", "robot"); err != nil {
		t.Fatal(err)
	}
	err = r.DeleteStored(res["ServiceAccount"], "default", "robot")
	if !errors.Is(err, objects.ErrNotFound) || err.Error() != `serviceaccounts "robot" not found` {
		t.Errorf("deleting it again: %v", err)
	}
	if err := r.DeleteStored(res["ClusterRole"], "team", "reader"); err != nil {
		t.Errorf("a cluster-scoped object, with -n: %v", err)
	}
	if err := r.DeleteStored(res["CustomResourceDefinition"], "", "widgets.example.com"); err != nil {
		t.Fatal(err)
	}
	if left, err := r.Stored(res["Widget"], ""); err != nil || len(left) != 0 {
		t.Errorf("widgets after their definition's delete: %v, %v", left, err)
	}
}

// TestNamespaceObjects: what a namespace holds besides pods and claims,
// as ResourceQuota admission counts it.
func TestNamespaceObjects(t *testing.T) {
	r, err := New(Config{Root: t.TempDir(), RunRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	in := keptSetYAML + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n"
	set, err := r.Load(Manifests{Paths: []string{"-"}, Stdin: strings.NewReader(in)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ApplySet(context.Background(), set); err != nil {
		t.Fatal(err)
	}
	objs, err := r.NamespaceObjects("default")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, o := range objs {
		kinds = append(kinds, fmt.Sprintf("%T %s", o, o.GetObjectKind().GroupVersionKind().Kind))
	}
	want := []string{"*v1.ConfigMap ConfigMap", "*v1.ServiceAccount ServiceAccount", "*unstructured.Unstructured Widget"}
	if !slices.Equal(kinds, want) {
		t.Errorf("objects of default: %v, want %v", kinds, want)
	}
	quota := &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
		"configmaps": resource.MustParse("5"), "count/widgets.example.com": resource.MustParse("5"), "count/serviceaccounts": resource.MustParse("5")}}}
	used, err := kube.QuotaUsage(quota, objs)
	if err != nil {
		t.Fatal(err)
	}
	for name, q := range used {
		if q.Value() != 1 {
			t.Errorf("quota usage of %s = %s, want 1", name, q.String())
		}
	}
	if team, err := r.NamespaceObjects("team"); err != nil || len(team) != 1 {
		t.Errorf("objects of team = %v, %v; want its LimitRange", team, err)
	}
}
