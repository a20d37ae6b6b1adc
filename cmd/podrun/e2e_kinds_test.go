package main

import (
	"encoding/json"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// kindsYAML holds a pod with the kinds that only matter to an API server,
// a definition and a custom resource of it, in the order apply takes
// them: Namespaces and definitions, the other kept kinds, the pods.
const kindsYAML = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
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
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: robot}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader}
rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read}
roleRef: {kind: Role, name: reader}
subjects: [{kind: ServiceAccount, name: robot}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec: {minAvailable: 1, selector: {matchLabels: {app: web}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny}
spec: {podSelector: {matchLabels: {app: web}}}
---
apiVersion: stable.example.com/v1
kind: CronTab
metadata: {name: tick}
spec: {cronSpec: "*/5 * * * *"}
---
`

// TestKindsKeptWithPod: a file with a pod and the kinds podrun keeps
// without running applies whole: kubectl's line for each object, one
// line on standard error saying what each kept object does here (a
// warning for the NetworkPolicy); get lists them; a second apply changes
// nothing; delete -f removes everything, leaving no stored object.
func TestKindsKeptWithPod(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	path := e.manifest("kinds.yaml", kindsYAML+podYAML("kinds",
		"  terminationGracePeriodSeconds: 1\n", container("c", "exec sleep 600", "")))

	out, errOut, err := e.run("apply", "-f", path)
	if err != nil {
		t.Fatalf("apply: %v\n%s%s", err, out, errOut)
	}
	applied := []string{
		"namespace/shop", "customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com",
		"serviceaccount/robot", "role.rbac.authorization.k8s.io/reader", "rolebinding.rbac.authorization.k8s.io/read",
		"poddisruptionbudget.policy/web", "networkpolicy.networking.k8s.io/deny", "crontab.stable.example.com/tick",
		"pod/kinds",
	}
	if want := linesWith(applied, " created"); out != want {
		t.Errorf("apply printed\n%s\nwant\n%s", out, want)
	}
	notes := strings.Count(errOut, ": no effect here") + strings.Count(errOut, ": honoured here")
	warnings := strings.Count(errOut, "Warning: networkpolicy.networking.k8s.io/deny is NOT ENFORCED here")
	if notes != 7 || warnings != 1 || strings.Count(errOut, "\n") != 8 {
		t.Errorf("apply's notes: %d effect lines, %d warnings, want 7 and 1, one line each:\n%s", notes, warnings, errOut)
	}
	wantLines(t, "apply's notes", errOut, "serviceaccount/robot: honoured here: its pods are admitted with it",
		"role.rbac.authorization.k8s.io/reader: no effect here: there is no API server to authorize against")

	sa := e.must("get", "sa")
	if !strings.HasPrefix(sa, "NAME    SECRETS   AGE\nrobot   0         ") {
		t.Errorf("get sa:\n%s", sa)
	}
	wantLines(t, "get rolebindings", e.must("get", "rolebindings"), "Role/reader")
	wantLines(t, "get sa/robot -o yaml", e.must("get", "sa/robot", "-o", "yaml"), "kind: ServiceAccount\n", "  name: robot\n", "  creationTimestamp: ")
	wantLines(t, "get ns", e.must("get", "namespaces", "-n", "elsewhere"), "shop   Active")
	var list unstructured.UnstructuredList
	if err := json.Unmarshal([]byte(e.must("get", "ct", "-o", "json")), &list); err != nil || len(list.Items) != 1 ||
		list.Items[0].GetName() != "tick" || list.Items[0].GetKind() != "CronTab" {
		t.Errorf("get ct -o json: %+v, %v", list.Items, err)
	}
	if _, errOut, err := e.run("get", "widgets"); err == nil || !strings.Contains(errOut, `error: the server doesn't have a resource type "widgets"`) {
		t.Errorf("get of an unknown resource: %v\n%s", err, errOut)
	}

	out, errOut, err = e.run("apply", "-f", path)
	if err != nil {
		t.Fatalf("apply again: %v\n%s%s", err, out, errOut)
	}
	if want := linesWith(applied, " unchanged"); out != want {
		t.Errorf("apply again printed\n%s\nwant\n%s", out, want)
	}

	// delete KIND NAME, and an apply that puts it back.
	if out := e.must("delete", "rolebinding", "read"); out != `rolebinding.rbac.authorization.k8s.io "read" deleted`+"\n" {
		t.Errorf("delete rolebinding read: %q", out)
	}
	if _, errOut, err := e.run("delete", "sa/nobody"); err == nil || !strings.Contains(errOut, `serviceaccounts "nobody" not found`) {
		t.Errorf("delete sa/nobody: %v\n%s", err, errOut)
	}
	if out := e.must("apply", "-f", path); !strings.Contains(out, "rolebinding.rbac.authorization.k8s.io/read created\n") {
		t.Errorf("apply after delete rolebinding:\n%s", out)
	}

	out, errOut, err = e.run("delete", "-f", path)
	if err != nil {
		t.Fatalf("delete -f: %v\n%s%s", err, out, errOut)
	}
	// The pods first, the Namespaces and definitions last; within a
	// kind, the order of the file, as kubectl delete -f.
	var deleted []string
	for _, i := range []int{8, 2, 3, 4, 5, 6, 7, 0, 1} {
		kind, name, _ := strings.Cut(applied[i], "/")
		deleted = append(deleted, kind+` "`+name+`" deleted`)
	}
	if want := strings.Join(deleted, "\n") + "\n"; out != want {
		t.Errorf("delete -f printed\n%s\nwant\n%s", out, want)
	}
	if got := e.must("get", "sa"); got != "No resources found.\n" {
		t.Errorf("get sa after delete: %q", got)
	}
	var left []string
	filepath.WalkDir(filepath.Join(e.runRoot, "objects"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left = append(left, p)
		}
		return nil
	})
	if len(left) > 0 {
		t.Errorf("stored objects left after delete -f: %v", left)
	}
}

// linesWith is each of names followed by suffix, one a line.
func linesWith(names []string, suffix string) string {
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n + suffix + "\n")
	}
	return b.String()
}
