package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestPodRefs(t *testing.T) {
	tests := []struct {
		name      string
		namespace string // the -n flag
		args      []string
		want      []podRef
		err       string // part of the error; "" for none
	}{
		{name: "pod NAME", args: []string{"pod", "a"}, want: []podRef{{"default", "a"}}},
		{name: "pod NAME NAME", args: []string{"pod", "a", "b"}, want: []podRef{{"default", "a"}, {"default", "b"}}},
		{name: "pods NAME", args: []string{"pods", "a"}, want: []podRef{{"default", "a"}}},
		{name: "po NAME", args: []string{"po", "a"}, want: []podRef{{"default", "a"}}},
		{name: "pod/NAME", args: []string{"pod/a"}, want: []podRef{{"default", "a"}}},
		{name: "pods/NAME po/NAME", args: []string{"pods/a", "po/b"}, want: []podRef{{"default", "a"}, {"default", "b"}}},
		{name: "with -n", namespace: "web", args: []string{"pod", "a"}, want: []podRef{{"web", "a"}}},
		{name: "pod/NAME with -n", namespace: "web", args: []string{"pod/a"}, want: []podRef{{"web", "a"}}},
		{name: "nothing", args: nil, err: "say what to delete"},
		{name: "kind without a name", args: []string{"pod"}, err: `(got "pod")`},
		{name: "a bare name", args: []string{"a"}, err: `(got "a")`},
		{name: "two bare names", args: []string{"a", "b"}, err: `(got "a")`},
		{name: "another kind", args: []string{"deployment/a"}, err: `(got "deployment/a")`},
		{name: "another kind, spaced", args: []string{"svc", "a"}, err: `(got "svc")`},
		{name: "slash without a name", args: []string{"pod/"}, err: `(got "pod/")`},
		{name: "a bare name after pod/NAME", args: []string{"pod/a", "b"}, err: `(got "b")`},
		{name: "a path as a name", args: []string{"pod", "../../x"}, err: `invalid pod name "../../x": a lowercase RFC 1123 subdomain`},
		{name: "a path as pod/NAME", args: []string{"pod/../../x"}, err: `invalid pod name "../../x"`},
		{name: "an uppercase name", args: []string{"pod", "a", "B"}, err: `invalid pod name "B"`},
		{name: "a path as -n", namespace: "../..", args: []string{"pod", "a"}, err: `invalid namespace "../..": a lowercase RFC 1123 label`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &globals{namespace: tt.namespace}
			for _, resolve := range []func() ([]podRef, error){
				func() ([]podRef, error) { return podRefs(g, tt.args) },
				func() ([]podRef, error) { return deleteTargets(g, nil, tt.args) },
			} {
				got, err := resolve()
				if tt.err != "" {
					if err == nil || !strings.Contains(err.Error(), tt.err) {
						t.Errorf("got %v, %v; want an error with %q", got, err, tt.err)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestDeleteTargetsFilesAndNames(t *testing.T) {
	g := &globals{}
	refs, err := deleteTargets(g, []string{"pod.yaml"}, []string{"pod", "a"})
	if err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("-f with names: got %v, %v; want an error", refs, err)
	}
}

func TestDeleteTargetsFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pods.yaml")
	manifest := `apiVersion: v1
kind: Pod
metadata:
  name: a
spec:
  containers:
  - name: app
    image: busybox
---
apiVersion: v1
kind: Pod
metadata:
  name: b
  namespace: batch
spec:
  containers:
  - name: app
    image: busybox
`
	if err := os.WriteFile(path, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := deleteTargets(&globals{}, []string{path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []podRef{{"default", "a"}, {"batch", "b"}}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, err := deleteTargets(&globals{}, []string{filepath.Join(t.TempDir(), "missing.yaml")}, nil); err == nil {
		t.Errorf("a missing file gave no error")
	}
}
