package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podrun/podrun/internal/testregistry"
)

// TestImagePullPolicies pulls from a registry on 127.0.0.1 with the
// binary, runs pods by each imagePullPolicy, then stops the registry:
// IfNotPresent and Never still run from the store, Always fails with a
// message that names the container and, the image being stored, names
// --pull=missing.
func TestImagePullPolicies(t *testing.T) {
	e := newEnv(t)
	reg := testregistry.Start(t, "", "")
	demo := testregistry.Demo(t)
	latest := reg.Push(t, "podrun/busybox:latest", demo)
	v1 := reg.Push(t, "podrun/busybox:v1", demo)

	digest := strings.TrimSpace(e.must("image", "pull", "-q", v1))
	if !strings.HasPrefix(digest, "sha256:") {
		t.Fatalf("image pull -q printed %q, want the digest", digest)
	}
	if ls := e.must("image", "ls"); !strings.Contains(ls, reg.Addr+"/podrun/busybox") || !strings.Contains(ls, digest[7:19]) {
		t.Errorf("image ls:\n%s", ls)
	}
	// No tag policy given: ":latest" means Always, pulled by apply.
	pod := func(name, ref, policy string) string {
		more := ""
		if policy != "" {
			more = "    imagePullPolicy: " + policy + "\n"
		}
		c := strings.Replace(container("c", "sleep 600", more), "localhost/podrun/busybox:demo", ref, 1)
		return e.manifest(name+".yaml", podYAML(name, "", c))
	}
	e.must("apply", "-f", pod("always", latest, ""))
	e.must("delete", "pod", "always", "--grace-period", "0")

	reg.Stop()
	e.must("apply", "-f", pod("ifnotpresent", v1, ""))
	e.must("apply", "-f", pod("never", latest, "Never"))
	_, errOut, err := e.run("apply", "-f", pod("offline", latest, "Always"))
	if err == nil || !strings.Contains(errOut, `container "c": spec.containers[0].image: the registry cannot be reached (pulling `+latest+`: `) || !strings.Contains(errOut, "the image is in the local store: run with --pull=missing") {
		t.Errorf("Always with the registry gone: %v\n%s", err, errOut)
	}
	_, errOut, err = e.run("apply", "-f", pod("missing", "localhost/not/stored:1", "Never"))
	if err == nil || !strings.Contains(errOut, "ErrImageNeverPull") {
		t.Errorf("Never with no stored image: %v\n%s", err, errOut)
	}
	e.must("delete", "pod", "ifnotpresent", "--grace-period", "0")
	e.must("delete", "pod", "never", "--grace-period", "0")
}

// TestImageSaveRmPruneLoad: save, forget, prune, load again and run,
// all offline.
func TestImageSaveRmPruneLoad(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	dir := t.TempDir()
	for _, format := range []string{"docker-archive", "oci-archive"} {
		e.must("image", "save", "--format", format, "-o", filepath.Join(dir, format+".tar"), "localhost/podrun/busybox:demo")
	}
	e.must("image", "rm", "localhost/podrun/busybox:demo")
	if out := e.must("image", "prune"); !strings.Contains(out, "Removed 3 blobs and 1 layers") {
		t.Errorf("prune: %s", out)
	}
	if layers, _ := os.ReadDir(filepath.Join(e.root, "images", "layers", "sha256")); len(layers) != 0 {
		t.Errorf("layers left after prune: %v", layers)
	}
	for _, format := range []string{"oci-archive", "docker-archive"} {
		e.must("image", "load", "-i", filepath.Join(dir, format+".tar"))
	}
	if out := e.must("image", "inspect", "localhost/podrun/busybox:demo"); !strings.Contains(out, `"diff_ids"`) {
		t.Errorf("inspect: %s", out)
	}
	e.must("apply", "-f", e.manifest("p.yaml", podYAML("saved", "", container("c", "sleep 600", ""))))
	// The pod's image is kept by prune even once it is removed.
	e.must("image", "rm", "localhost/podrun/busybox:demo")
	if out := e.must("image", "prune"); !strings.Contains(out, "Removed 0 blobs and 0 layers") {
		t.Errorf("prune with a pod running: %s", out)
	}
	e.must("delete", "pod", "saved", "--grace-period", "0")
}

// TestImagePullSecrets applies a kubernetes.io/dockerconfigjson Secret
// and a pod naming it in imagePullSecrets, against a registry that asks
// for a password: the pod runs; without the secret the pull is refused.
func TestImagePullSecrets(t *testing.T) {
	e := newEnv(t)
	reg := testregistry.Start(t, "podrun", "s3cret")
	ref := reg.Push(t, "private/busybox:v1", testregistry.Demo(t))
	auth := base64.StdEncoding.EncodeToString([]byte("podrun:s3cret"))
	secret := fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\ntype: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: '{\"auths\":{\"%s\":{\"auth\":\"%s\"}}}'\n---\n", reg.Addr, auth)
	c := strings.Replace(container("c", "sleep 600", ""), "localhost/podrun/busybox:demo", ref, 1)

	_, errOut, err := e.run("apply", "-f", e.manifest("anon.yaml", podYAML("anon", "", c)))
	if err == nil || !strings.Contains(errOut, "UNAUTHORIZED") {
		t.Errorf("pull without credentials: %v\n%s", err, errOut)
	}
	e.must("apply", "-f", e.manifest("auth.yaml", secret+podYAML("auth", "  imagePullSecrets:\n  - name: regcred\n", c)))
	e.must("delete", "pod", "auth", "--grace-period", "0")

	// render stores nothing, so it pulls with the Secret of its input:
	// another Secret name, an image not pulled yet.
	ref2 := reg.Push(t, "private/busybox:v2", testregistry.Demo(t))
	secret2 := strings.Replace(secret, "name: regcred", "name: rendercred", 1)
	c2 := strings.Replace(c, ref, ref2, 1)
	manifest := e.manifest("render.yaml", secret2+podYAML("rendered", "  imagePullSecrets:\n  - name: rendercred\n", c2))
	if _, errOut, err := e.run("render", "-f", manifest, "-o", t.TempDir()); err != nil {
		t.Errorf("render with the input's pull secret: %v\n%s", err, errOut)
	}
}
