package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	corev1 "k8s.io/api/core/v1"
)

// TestManifestFlagsOnEveryVerb: apply, delete, up and render take the
// same manifest flags, so one command line works with each.
func TestManifestFlagsOnEveryVerb(t *testing.T) {
	root := newRootCommand()
	for _, verb := range []string{"apply", "delete", "up", "render"} {
		cmd, _, err := root.Find([]string{verb})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"filename", "allowed-unsafe-sysctls", "allow-unsafe-host-paths"} {
			if cmd.Flags().Lookup(name) == nil {
				t.Errorf("podrun %s has no --%s", verb, name)
			}
		}
	}
}

// TestPullFlag: --pull takes Podman's three names for the kubelet's
// policies, on the verbs that get images, and nothing else.
func TestPullFlag(t *testing.T) {
	root := newRootCommand()
	for _, verb := range []string{"apply", "up", "render"} {
		cmd, _, err := root.Find([]string{verb})
		if err != nil {
			t.Fatal(err)
		}
		if cmd.Flags().Lookup("pull") == nil {
			t.Errorf("podrun %s has no --pull", verb)
		}
	}
	if cmd, _, _ := root.Find([]string{"delete"}); cmd.Flags().Lookup("pull") != nil {
		t.Errorf("podrun delete has --pull")
	}
	for value, want := range map[string]corev1.PullPolicy{
		"always": corev1.PullAlways, "missing": corev1.PullIfNotPresent, "never": corev1.PullNever,
	} {
		var p pullFlag
		if err := p.Set(value); err != nil || p.policy != want {
			t.Errorf("--pull=%s: policy %q, error %v; want %q", value, p.policy, err, want)
		}
	}
	for _, bad := range []string{"", "Always", "IfNotPresent", "sometimes"} {
		var p pullFlag
		if err := p.Set(bad); err == nil || !strings.Contains(err.Error(), "always, missing or never") {
			t.Errorf("--pull=%q: error %v, want one naming always, missing or never", bad, err)
		}
	}
}

// TestManifestErrorsOfEveryFile: a file of a directory that does not
// decode hides neither its own problems nor the validation problems of
// the other files: every verb reading manifests reports them all, each
// at its file and line, before touching anything.
func TestManifestErrorsOfEveryFile(t *testing.T) {
	dir := "../../kube/testdata/errdir"
	want := dir + `/a.yaml:8: invalid YAML: did not find expected ',' or ']'
` + dir + `/b.yaml:1: kind: Required value
` + dir + `/c.yaml:9: spec.containers[1].image: Required value`
	for _, args := range [][]string{{"render", "-o", t.TempDir()}, {"apply"}, {"delete"}} {
		root, runRoot := newRootCommand(), t.TempDir()
		root.SetArgs(append(args, "-f", dir, "--root", t.TempDir(), "--run-root", runRoot))
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		err := root.Execute()
		if err == nil || err.Error() != want {
			t.Errorf("podrun %s -f %s: %v\nwant:\n%s", args[0], dir, err, want)
		}
		if made, _ := os.ReadDir(runRoot); len(made) > 0 {
			t.Errorf("podrun %s -f %s made %s in the run root, with errors in the input", args[0], dir, made[0].Name())
		}
	}
}

// TestRenderErrorAtItsField: render's refusal of a pod gives the line of
// the field refused, names the pod once and nothing else twice, and
// warnings give theirs.
func TestRenderErrorAtItsField(t *testing.T) {
	root, runRoot := t.TempDir(), t.TempDir()
	img, err := mutate.Config(empty.Image, v1.Config{Cmd: []string{"sh"}})
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag("localhost/errpos/app:1")
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "app.tar")
	if err := tarball.WriteToFile(archive, tag, img); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(t.TempDir(), "pod.yaml")
	if err := os.WriteFile(manifest, []byte(`apiVersion: v1
kind: Pod
metadata:
  name: test-sysctl
spec:
  securityContext:
    sysctls:
    - name: kernel.shm_rmid_forced
      value: "1"
    - name: net.core.somaxconn
      value: "1024"
  containers:
  - name: c
    image: localhost/errpos/app:1
    readinessProbe:
      tcpSocket: {port: web}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, error) {
		cmd := newRootCommand()
		var stderr strings.Builder
		cmd.SetArgs(append([]string{"--root", root, "--run-root", runRoot}, args...))
		cmd.SetOut(io.Discard)
		cmd.SetErr(&stderr)
		err := cmd.Execute()
		return stderr.String(), err
	}
	if _, err := run("image", "load", "-i", archive); err != nil {
		t.Fatal(err)
	}
	stderr, err := run("render", "-f", manifest, "-o", t.TempDir())
	want := manifest + `:10: pod default/test-sysctl: spec.securityContext.sysctls[1]: SysctlForbidden: forbidden sysctl: "net.core.somaxconn" not allowlisted (allow it with --allowed-unsafe-sysctls)`
	if err == nil || err.Error() != want {
		t.Errorf("render: %v\nwant:\n%s", err, want)
	}
	warning := "Warning: " + manifest + `:16: spec.containers[0].readinessProbe.tcpSocket.port: container "c" declares no port named "web"`
	if !strings.Contains(stderr, warning) {
		t.Errorf("render's stderr:\n%s\nlacks:\n%s", stderr, warning)
	}
}
