package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestRenderInputObjects: render sees the ConfigMaps and Secrets of its
// input, which replace stored ones of the same name as apply would, and
// stores nothing.
func TestRenderInputObjects(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	stored := e.manifest("stored.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {MODE: stored, KEPT: stored}\n")
	e.must("apply", "-f", stored)
	defer e.must("delete", "-f", stored)
	input := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {MODE: input}\n---\n" +
		"apiVersion: v1\nkind: Secret\nmetadata: {name: token}\nstringData: {TOKEN: s3cret}\n---\n" +
		podYAML("withobjects", "", container("c", "env", `    envFrom: [{secretRef: {name: token}}]
    env:
    - {name: MODE, valueFrom: {configMapKeyRef: {name: settings, key: MODE}}}
    - {name: KEPT, valueFrom: {configMapKeyRef: {name: settings, key: KEPT, optional: true}}}
`))
	out := filepath.Join(t.TempDir(), "bundles")
	e.must("render", "-f", e.manifest("pod.yaml", input), "-o", out)
	data, err := os.ReadFile(filepath.Join(out, "default_withobjects", "containers", "c", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	// KEPT is optional and missing from the input's settings, which
	// replaces the stored one: it is left out, as apply would.
	for _, want := range []string{"MODE=input", "TOKEN=s3cret"} {
		if !slices.Contains(spec.Process.Env, want) {
			t.Errorf("env %q lacks %s", spec.Process.Env, want)
		}
	}
	if slices.ContainsFunc(spec.Process.Env, func(v string) bool { return strings.HasPrefix(v, "KEPT=") }) {
		t.Errorf("env %q has KEPT from the stored ConfigMap that the input replaces", spec.Process.Env)
	}
	// Nothing was stored: a later render sees the stored ConfigMap again.
	e.must("render", "-f", e.manifest("alone.yaml", podYAML("alone", "", container("c", "env",
		"    env: [{name: MODE, valueFrom: {configMapKeyRef: {name: settings, key: MODE}}}]\n"))), "-o", out)
	data, err = os.ReadFile(filepath.Join(out, "default_alone", "containers", "c", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"MODE=stored"`) {
		t.Errorf("a later render sees the input's ConfigMap as stored:\n%s", data)
	}
}
