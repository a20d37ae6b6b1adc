package main

import (
	"io"
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
			got, err := podRefs(g, tt.args)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("got %v, %v; want an error with %q", got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDeleteFilesAndNames: delete takes manifests or pod names, and
// says so before it reads or opens anything.
func TestDeleteFilesAndNames(t *testing.T) {
	cmd := newRootCommand()
	cmd.SetArgs([]string{"delete", "-f", filepath.Join(t.TempDir(), "missing.yaml"), "pod", "a"})
	cmd.SetOut(io.Discard)
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("-f with names: got %v; want an error", err)
	}
}
