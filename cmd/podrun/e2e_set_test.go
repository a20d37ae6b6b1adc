package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
)

// TestSetDeleteFromStdin: `delete -f -` reads the manifests once and
// deletes all they describe, pods first, the claim last, keeping its
// data.
func TestSetDeleteFromStdin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	manifest := specObjects + `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
` + podYAML("setpod", "  terminationGracePeriodSeconds: 1\n  volumes:\n  - name: data\n    persistentVolumeClaim: {claimName: data}\n",
		container("c", "echo $MODE > /data/mode; exec sleep 600",
			"    env: [{name: MODE, valueFrom: {configMapKeyRef: {name: settings, key: MODE}}}]\n"+
				"    envFrom: [{secretRef: {name: creds}}]\n"+
				"    volumeMounts: [{name: data, mountPath: /data}]\n"))
	out, errOut, err := e.runStdin(manifest, "apply", "-f", "-")
	if err != nil {
		t.Fatalf("apply -f -: %v\n%s%s", err, out, errOut)
	}
	wantLines(t, "apply", out, "persistentvolumeclaim/data created", "configmap/settings created", "secret/creds created", "pod/setpod created")

	out, errOut, err = e.runStdin(manifest, "delete", "-f", "-")
	if err != nil {
		t.Fatalf("delete -f -: %v\n%s%s", err, out, errOut)
	}
	want := `pod "setpod" deleted` + "\n" + `secret "creds" deleted` + "\n" +
		`configmap "settings" deleted` + "\n" + `persistentvolumeclaim "data" deleted` + "\n"
	if out != want {
		t.Errorf("delete -f - printed\n%s\nwant\n%s", out, want)
	}
	var pods corev1.PodList
	if err := json.Unmarshal([]byte(e.must("get", "pods", "-o", "json")), &pods); err != nil || len(pods.Items) != 0 {
		t.Errorf("pods after delete: %+v, %v", pods.Items, err)
	}
	for _, p := range []string{"configmaps/default/settings.json", "secrets/default/creds.json"} {
		if _, err := os.Stat(filepath.Join(e.runRoot, "objects", p)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("objects/%s after delete: %v", p, err)
		}
	}
	// The claim is gone; its volume keeps the data, Released.
	if vols := e.must("volume", "ls"); !strings.Contains(vols, "Released") {
		t.Errorf("volume ls after delete:\n%s", vols)
	}
	if data, err := os.ReadFile(filepath.Join(e.root, "volumes", "default_data", "_data", "mode")); err != nil || string(data) != "fast\n" {
		t.Errorf("the claim's data after delete: %q, %v", data, err)
	}
	e.must("volume", "rm", "data")
}

// TestSetFlagsRenderAndUp: render and up accept the manifest flags apply
// does, and honour them.
func TestSetFlagsRenderAndUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	path := e.manifest("sysctl.yaml", podYAML("tuned", "  restartPolicy: Never\n  securityContext:\n    sysctls: [{name: net.core.somaxconn, value: \"1234\"}]\n",
		container("c", "cat /proc/sys/net/core/somaxconn", "")))

	bundles := filepath.Join(t.TempDir(), "bundles")
	if _, errOut, err := e.run("render", "-f", path, "-o", bundles); err == nil || !strings.Contains(errOut, "--allowed-unsafe-sysctls") {
		t.Errorf("render of an unsafe sysctl without the flag: %v\n%s", err, errOut)
	}
	e.must("render", "--allowed-unsafe-sysctls", "net.core.*", "-f", path, "-o", bundles)
	data, err := os.ReadFile(filepath.Join(bundles, "default_tuned", "infra", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatal(err)
	}
	if got := spec.Linux.Sysctl["net.core.somaxconn"]; got != "1234" {
		t.Errorf("rendered infra sysctl net.core.somaxconn = %q, want 1234 (%v)", got, spec.Linux.Sysctl)
	}

	out, errOut, err := e.run("up", "--allowed-unsafe-sysctls", "net.core.*", "-f", path)
	if err != nil || !strings.Contains(out, "[pod/tuned/c] 1234") {
		t.Errorf("up --allowed-unsafe-sysctls: %v\n%s%s", err, out, errOut)
	}
}

// TestSetApplyWaitOneDeadline: apply --wait --timeout is one deadline for
// the whole command, not one per namespace: when it passes, one message
// names the pods of both namespaces that are not Ready. (A wait per
// namespace gave up at the first, naming only its pod.) The timeout is
// long enough for apply itself to finish on a loaded machine; nothing
// here measures time.
func TestSetApplyWaitOneDeadline(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	never := func(ns, name string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name + ", namespace: " + ns + "}\nspec:\n  terminationGracePeriodSeconds: 0\n  containers:\n" +
			container("c", "exec sleep 600", "    readinessProbe:\n      exec: {command: [\"false\"]}\n      periodSeconds: 1\n")
	}
	path := e.manifest("never.yaml", never("one", "never-one")+"---\n"+never("two", "never-two"))
	_, errOut, err := e.run("apply", "-f", path, "--wait", "--timeout", "15s")
	if err == nil || !strings.Contains(errOut, "timed out waiting for the condition on pods/never-one, pods/never-two") {
		t.Errorf("apply --wait of pods never Ready in two namespaces: %v\n%s", err, errOut)
	}
	e.must("delete", "-f", path, "--grace-period", "0")
}
