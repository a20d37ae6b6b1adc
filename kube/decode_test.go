package kube

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{{
		name: "missing apiVersion and kind",
		in:   "metadata:\n  name: x\n",
		want: "pod.yaml:1: apiVersion: Required value\npod.yaml:1: kind: Required value",
	}, {
		name: "bad apiVersion",
		in:   "apiVersion: a/b/c\nkind: Pod\n",
		want: `pod.yaml:1: apiVersion: Invalid value: "a/b/c": must be a group/version such as v1 or apps/v1`,
	}, {
		name: "not a mapping",
		in:   "- a\n- b\n",
		want: "pod.yaml:1: expected a Kubernetes object (a mapping with apiVersion and kind), got array",
	}, {
		name: "syntax error",
		in:   "apiVersion: v1\nkind: [Pod\n",
		want: "pod.yaml:2: invalid YAML: did not find expected ',' or ']'",
	}, {
		name: "syntax error at the end",
		in:   "apiVersion: v1\nkind: [\n",
		want: "pod.yaml:2: invalid YAML: did not find expected node content",
	}, {
		name: "documents after a syntax error are still decoded, at their own lines",
		in:   "apiVersion: v1\nkind: [Pod\n---\napiVersion: v1\nkind: Pod\nspec:\n  nodeNamee: x\n--- # next\nkind: [\n---\nkind: Pod\n",
		want: "pod.yaml:2: invalid YAML: did not find expected ',' or ']'\npod.yaml:7: spec.nodeNamee: unknown field\n" +
			"pod.yaml:10: invalid YAML: did not find expected node content\npod.yaml:11: apiVersion: Required value",
	}, {
		name: "a syntax error on the first line of a document",
		in:   "---\n: : x\n---\nkind: Pod\n",
		want: "pod.yaml:2: invalid YAML: did not find expected key\npod.yaml:4: apiVersion: Required value",
	}, {
		name: "scanner error",
		in:   "apiVersion: v1\nkind: Pod\n metadata: x\n",
		want: "pod.yaml:3: invalid YAML: mapping values are not allowed in this context",
	}, {
		name: "number for a string",
		in:   "apiVersion: v1\nkind: Pod\nmetadata:\n  name: 5\n",
		want: "pod.yaml:4: metadata.name: Invalid value: 5: expected string, got integer",
	}, {
		name: "unquoted yes is a boolean, as in YAML 1.1",
		in:   "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - env:\n    - name: A\n      value: yes\n",
		want: "pod.yaml:7: spec.containers[0].env[0].value: Invalid value: true: expected string, got boolean",
	}, {
		name: "mapping for a list",
		in:   "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    name: c\n",
		want: "pod.yaml:5: spec.containers: Invalid value: expected array, got object",
	}, {
		name: "int32 overflow",
		in:   "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - ports:\n    - containerPort: 4294967296\n",
		want: "pod.yaml:6: spec.containers[0].ports[0].containerPort: Invalid value: 4294967296: must fit in int32",
	}, {
		name: "bad int-or-string",
		in:   "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - livenessProbe:\n      httpGet:\n        port: 8.5\n",
		want: "pod.yaml:7: spec.containers[0].livenessProbe.httpGet.port: Invalid value: 8.5: cannot unmarshal number 8.5 into Go value of type int32",
	}, {
		name: "duplicate map key",
		in:   "apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    a: x\n    a: y\n",
		want: "pod.yaml:6: metadata.labels[a]: duplicate field (first at line 5)",
	}, {
		name: "errors inside a List item carry their own line",
		in:   "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  spec:\n    nodeNamee: x\n",
		want: "pod.yaml:7: spec.nodeNamee: unknown field",
	}, {
		name: "unknown field of a List",
		in:   "apiVersion: v1\nkind: List\nitemz: []\n",
		want: "pod.yaml:3: itemz: unknown field",
	}, {
		name: "unknown kinds are still checked for duplicates",
		in:   "apiVersion: example.com/v1\nkind: Widget\nspec:\n  a: 1\n  a: 2\n",
		want: "pod.yaml:5: spec[a]: duplicate field (first at line 4)",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Decode("pod.yaml", []byte(tt.in))
			if err == nil {
				t.Fatalf("Decode returned %d objects and no error, want:\n%s", len(objs), tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error:\n%s\nwant:\n%s", got, tt.want)
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Errorf("error is %T, want an ErrorList", err)
			}
		})
	}
}

// TestDecodeReportsEverything checks that problems in several documents,
// of several sorts, are reported together and in line order.
func TestDecodeReportsEverything(t *testing.T) {
	data, err := os.ReadFile("testdata/multi-problem.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Decode("multi-problem.yaml", data)
	want := `multi-problem.yaml:9: spec.containers[0].imagee: unknown field
multi-problem.yaml:11: spec.containers[0].image: duplicate field (first at line 10)
multi-problem.yaml:13: spec.containers[0].ports[0].containerPort: Invalid value: "80": expected integer, got string
multi-problem.yaml:16: spec.containers[0].resources.limits[memory]: Invalid value: "12x": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'
multi-problem.yaml:23: metadata.labelz: unknown field`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
	var list ErrorList
	if errors.As(err, &list) && len(list) != 5 {
		t.Errorf("got %d errors, want 5", len(list))
	}
}

func TestDecodeObjects(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // kind/name@line
	}{{
		name: "multi-document with empty documents",
		in:   "---\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n...\n",
		want: []string{"Pod/a@3", "ConfigMap/b@9"},
	}, {
		name: "empty input",
		in:   "",
	}, {
		name: "JSON",
		in:   `{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "j"}}`,
		want: []string{"Pod/j@1"},
	}, {
		name: "List",
		in:   "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: b}\n",
		want: []string{"Pod/a@4", "Deployment/b@7"},
	}, {
		name: "typed list items may omit apiVersion and kind",
		in:   "apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: a}\n",
		want: []string{"Pod/a@4"},
	}, {
		name: "unknown kind decodes unstructured",
		in:   "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {anything: [1, 2]}\n",
		want: []string{"Widget/w@1"},
	}, {
		name: "anchors, aliases and merge keys",
		in:   "apiVersion: v1\nkind: Pod\nmetadata:\n  name: &n m\n  labels: {app: *n}\nspec:\n  containers:\n  - &c {name: a, image: busybox}\n  - <<: *c\n    name: b\n",
		want: []string{"Pod/m@1"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Decode("in.yaml", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range objs {
				name := ""
				if m, ok := o.Object.(interface{ GetName() string }); ok {
					name = m.GetName()
				}
				got = append(got, fmt.Sprintf("%s/%s@%d", o.Kind, name, o.Source.Line))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeTyped(t *testing.T) {
	in := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: m\nspec:\n  containers:\n  - &c {name: a, image: busybox, tty: true}\n  - <<: *c\n    name: b\n  volumes:\n  - name: v\n    configMap: {name: cm, defaultMode: 0600}\n"
	objs, err := Decode("in.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	p := objs[0].Object.(*corev1.Pod)
	want := []corev1.Container{{Name: "a", Image: "busybox", TTY: true}, {Name: "b", Image: "busybox", TTY: true}}
	if diff := cmp.Diff(want, p.Spec.Containers); diff != "" {
		t.Errorf("containers (-want +got):\n%s", diff)
	}
	if m := *p.Spec.Volumes[0].ConfigMap.DefaultMode; m != 0600 {
		t.Errorf("defaultMode = %o, want 600 (octal)", m)
	}
	if p.APIVersion != "v1" || p.Kind != "Pod" {
		t.Errorf("type meta = %v, want v1 Pod", p.TypeMeta)
	}
	lines := map[string]int{
		"spec.containers[1].image":              7, // merged from the anchor
		"spec.containers[1].name":               9,
		"spec.containers[1].imagePullPolicy":    8, // absent: its parent's
		"spec.volumes[0].configMap.defaultMode": 12,
	}
	for path, want := range lines {
		if got := objs[0].Lines.Find(path); got != want {
			t.Errorf("line of %s = %d, want %d", path, got, want)
		}
	}
}

func TestDecodeBoundsAliases(t *testing.T) {
	tests := []struct{ name, in, want string }{{
		name: "self-referring alias",
		in:   "apiVersion: example.com/v1\nkind: Widget\ndata: &a [*a]\n",
		want: "nested more than 100 levels deep",
	}, {
		name: "billion laughs",
		in: "apiVersion: example.com/v1\nkind: Widget\nx:\n  a: &a [1,1,1,1,1,1,1,1,1,1]\n  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n" +
			"  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n" +
			"  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n" +
			"  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n  h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]\n",
		want: "a.yaml:4: x[d][8][5][2]: aliases expand the input to too many nodes",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode("a.yaml", []byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
