package main

import (
	"encoding/json"
	"fmt"
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

// TestRenderVerdictIsApplys: one file, three pods, run through render and
// then apply. A container whose env names a missing Secret, and a pod
// waiting for a missing Secret volume, are created by apply and waiting
// in get; render prints one warning per such container with get's reason
// and message, and writes no bundles for the pod apply makes none for.
// A hostPath / read-only is refused by both, in the same words; the
// other pods are not held back by it.
func TestRenderVerdictIsApplys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	waiting := podYAML("envwait", "  terminationGracePeriodSeconds: 1\n", container("app", "sleep 60",
		"    env: [{name: PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}]\n"),
		container("side", "sleep 60", "")) + "---\n" +
		podYAML("volwait", "  volumes: [{name: s, secret: {secretName: db}}]\n",
			container("app", "sleep 60", "    volumeMounts: [{name: s, mountPath: /s}]\n"))
	// Pods that would wait are created: render exits 0 for them alone.
	e.must("render", "-f", e.manifest("waiting.yaml", waiting), "-o", filepath.Join(t.TempDir(), "waiting"))
	file := e.manifest("pods.yaml", waiting+"---\n"+
		podYAML("hostroot", "  volumes: [{name: h, hostPath: {path: /}}]\n",
			container("app", "sleep 60", "    volumeMounts: [{name: h, mountPath: /host, readOnly: true}]\n")))
	out := filepath.Join(t.TempDir(), "bundles")
	rendered, renderErr, err := e.run("render", "-f", file, "-o", out)
	if err == nil {
		t.Fatalf("render of a hostPath / succeeded:\n%s%s", rendered, renderErr)
	}
	if want := filepath.Join(out, "default_envwait") + "\n"; rendered != want {
		t.Errorf("render printed %q, want only %q: volwait waits and hostroot is refused", rendered, want)
	}
	for _, pod := range []string{"volwait", "hostroot"} {
		if _, err := os.Stat(filepath.Join(out, "default_"+pod)); err == nil {
			t.Errorf("render wrote bundles for %s, for which apply makes none", pod)
		}
	}
	_, applyErr, err := e.run("apply", "-f", file)
	if err == nil {
		t.Fatal("apply of a hostPath / succeeded")
	}
	defer e.must("delete", "-f", file)
	refusal := lineWith(applyErr, "hostroot")
	if refusal == "" || !strings.Contains(refusal, "host's root") {
		t.Fatalf("apply's stderr names no refusal of hostroot:\n%s", applyErr)
	}
	if !strings.Contains(renderErr, refusal) {
		t.Errorf("render's stderr lacks apply's refusal %q:\n%s", refusal, renderErr)
	}
	// Every container get shows waiting has render's warning, word for word.
	warnings := 0
	for _, pod := range []string{"envwait", "volwait"} {
		for _, cs := range e.pod(pod).Status.ContainerStatuses {
			w := cs.State.Waiting
			if w == nil || w.Reason != "CreateContainerConfigError" && w.Reason != "ContainerCreating" {
				continue
			}
			warnings++
			want := fmt.Sprintf("pod %s: container %s would wait: %s: %s", pod, cs.Name, w.Reason, w.Message)
			if !strings.Contains(renderErr, want+"\n") {
				t.Errorf("render's stderr lacks %q:\n%s", want, renderErr)
			}
		}
	}
	if warnings != 2 || strings.Count(renderErr, "would wait") != 2 {
		t.Errorf("%d containers wait in get, render warned %d times; want 2 (envwait/app, volwait/app):\n%s",
			warnings, strings.Count(renderErr, "would wait"), renderErr)
	}
}

// lineWith is the first line of text that contains s, or "".
func lineWith(text, s string) string {
	for line := range strings.Lines(text) {
		if strings.Contains(line, s) {
			return strings.TrimSuffix(line, "\n")
		}
	}
	return ""
}
