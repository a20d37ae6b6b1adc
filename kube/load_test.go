package kube

import (
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name  string
		paths []string
		stdin string
		want  []string // file:line kind name
	}{{
		name:  "directory: manifests directly in it, sorted",
		paths: []string{"testdata/dir"},
		want: []string{
			"testdata/dir/a.yml:1 Pod a",
			"testdata/dir/b.yaml:1 Pod b",
			"testdata/dir/c.json:1 Pod c",
		},
	}, {
		name:  "stdin between files, in the order given",
		paths: []string{"testdata/dir/b.yaml", "-", "testdata/list.yaml"},
		stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-stdin}\n",
		want: []string{
			"testdata/dir/b.yaml:1 Pod b",
			"<stdin>:1 ConfigMap from-stdin",
			"testdata/list.yaml:4 Pod one",
			"testdata/list.yaml:12 Pod two",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Load(tt.paths, strings.NewReader(tt.stdin))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range objs {
				got = append(got, o.Source.String()+" "+o.Kind+" "+name(o))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
		})
	}
}

func name(o Object) string {
	if m, ok := o.Object.(interface{ GetName() string }); ok {
		return m.GetName()
	}
	return ""
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		paths []string
		stdin string
		want  string
		is    error
	}{{
		name:  "missing file",
		paths: []string{"testdata/pods.yaml"},
		want:  "reading testdata/pods.yaml: no such file or directory",
		is:    fs.ErrNotExist,
	}, {
		name:  "directory without manifests",
		paths: []string{"testdata/empty"},
		want:  "reading testdata/empty: no manifests found (no *.yaml, *.yml or *.json file in the directory)",
		is:    ErrNoManifests,
	}, {
		name:  "problems in several files, reported together",
		paths: []string{"-", "testdata/pod.json", "testdata/list-bad.yaml"},
		stdin: "apiVersion: v1\nkind: Pod\nspec:\n  hostNetwork: 1\n",
		want: `<stdin>:4: spec.hostNetwork: Invalid value: 1: expected boolean, got integer
testdata/pod.json:7: spec.containers[0].tty: Invalid value: "yes": expected boolean, got string
testdata/list-bad.yaml:20: spec.containers[0].command: Invalid value: "sh": expected array, got string`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.paths, strings.NewReader(tt.stdin))
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n%s\nwant:\n%s", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error does not match %v", tt.is)
			}
		})
	}
}

func TestLoadUnknownKindIsUnstructured(t *testing.T) {
	objs, err := Load([]string{"-"}, strings.NewReader("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n"))
	if err != nil {
		t.Fatal(err)
	}
	u, ok := objs[0].Object.(*unstructured.Unstructured)
	if !ok || u.GetAPIVersion() != "example.com/v1" || u.GetKind() != "Widget" {
		t.Errorf("object = %#v, want an unstructured example.com/v1 Widget", objs[0].Object)
	}
}

// TestLoadSetReportsEveryFile: a file that does not decode (bad YAML, a
// document without kind) hides neither the validation problems of the
// other files nor its neighbours' decoding problems; each is located.
func TestLoadSetReportsEveryFile(t *testing.T) {
	set, err := LoadSet([]string{"testdata/errdir"}, nil, Options{})
	want := `testdata/errdir/a.yaml:8: invalid YAML: did not find expected ',' or ']'
testdata/errdir/b.yaml:1: kind: Required value
testdata/errdir/c.yaml:9: spec.containers[1].image: Required value`
	if err == nil {
		t.Fatalf("no error and %d pods, want:\n%s", len(set.Pods), want)
	}
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant:\n%s", err, want)
	}
	if set != nil {
		t.Errorf("a set of %d pods along with the errors", len(set.Pods))
	}
}

// TestPodAt: a pod locates its fields, a field absent from the input
// (defaulted) at its nearest parent present, and anything else at the pod.
func TestPodAt(t *testing.T) {
	set, err := LoadSet([]string{"testdata/errdir/d.yaml"}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := set.Pods[0]
	for path, line := range map[string]int{
		"spec.containers[0].image":                     8,
		"spec.containers[0].imagePullPolicy":           7, // defaulted: at its container
		"spec.securityContext.sysctls[0]":              5, // at spec
		"status.podIPs[0]":                             1, // at the pod
		"spec.containers[0].ports[0].hostPort":         7,
		"spec.containers[0].env[1].valueFrom.fieldRef": 7,
	} {
		want := Source{File: "testdata/errdir/d.yaml", Line: line}
		if got := p.At(path); got != want {
			t.Errorf("At(%s) = %s, want %s", path, got, want)
		}
	}
	if got := (Pod{Source: Source{File: "x.yaml", Line: 3}}).At("spec"); got != (Source{File: "x.yaml", Line: 3}) {
		t.Errorf("a pod without lines locates spec at %s, want x.yaml:3", got)
	}
}
