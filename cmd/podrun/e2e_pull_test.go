package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podrun/podrun/internal/testregistry"
)

// TestPullOverrideRunsLoadedLatestOffline: an image loaded from an archive
// and tagged :latest defaults to imagePullPolicy Always, so apply asks its
// registry; when that cannot be reached, the error says the image is
// stored and names --pull=missing, with which the pod runs, as render
// works with --pull=never. The registry is 127.0.0.1:1, which refuses at
// once: no traffic leaves the machine (a name under .invalid would still
// be sent to the configured DNS server: Go's resolver does not keep
// .invalid local).
func TestPullOverrideRunsLoadedLatestOffline(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const ref = "127.0.0.1:1/podrun/app:latest"
	archive := filepath.Join(t.TempDir(), "app.tar")
	writeArchive(t, ref, archive, testregistry.Demo(t))
	e.must("image", "load", "-i", archive)

	c := strings.Replace(container("web", "echo offline; sleep 300", ""), "localhost/podrun/busybox:demo", ref, 1)
	pod := e.manifest("pod.yaml", podYAML("offline", "", c))

	start := time.Now()
	_, stderr, err := e.run("apply", "-f", pod)
	t.Logf("apply failed after %v: %s", time.Since(start), stderr)
	if err == nil {
		t.Fatal("apply of a :latest image with its registry unreachable succeeded")
	}
	for _, want := range []string{
		`pod.yaml:8: pod default/offline: container "web": spec.containers[0].image: the registry cannot be reached (pulling ` + ref + `: `,
		"the image is in the local store: run with --pull=missing",
		"imagePullPolicy: IfNotPresent",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("apply's error lacks %q:\n%s", want, stderr)
		}
	}

	out := filepath.Join(t.TempDir(), "bundles")
	e.must("render", "--pull=never", "-f", pod, "-o", out)
	if _, err := os.Stat(filepath.Join(out, "default_offline", "containers", "web", "config.json")); err != nil {
		t.Errorf("render --pull=never wrote no bundle for web: %v", err)
	}

	e.must("apply", "--pull=missing", "-f", pod)
	eventually(t, 10*time.Second, func() error {
		if logs, _, _ := e.run("logs", "offline"); logs != "offline\n" {
			return errorf("logs %q, want offline", logs)
		}
		return nil
	})
	e.must("delete", "pod", "offline", "--grace-period", "0")
}
