package main

// mountPropagation end to end: a mount a privileged container makes in a
// Bidirectional volume reaches the host and the containers that mount
// the volume with HostToContainer, not those with None; teardown
// unmounts what propagated; the API server's and the runtime's refusals.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podrun/podrun/runner/mountinfo"
)

func TestVolumePropagation(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	hostDir := t.TempDir() // on a private mount: HostToContainer is refused
	mount := func(mode string) string {
		return "    volumeMounts:\n    - {name: shared, mountPath: /vol, mountPropagation: " + mode + "}\n"
	}
	path := e.manifest("pod.yaml", podYAML("prop", fmt.Sprintf(`  volumes:
  - {name: shared, emptyDir: {}}
  - {name: host, hostPath: {path: %s}}
`, hostDir),
		// Nested and stacked mounts, and a bind of one (a peer of it):
		// teardown must find every copy that propagated to the host.
		container("mounter", `mkdir -p /vol/sub /vol/again && mount -t tmpfs tmpfs /vol/sub && mkdir /vol/sub/deep &&
mount -t tmpfs tmpfs /vol/sub/deep && mount -t tmpfs tmpfs /vol/sub/deep && mount --bind /vol/sub /vol/again &&
echo propagated > /vol/sub/file && echo mounted; sleep 3600`,
			mount("Bidirectional")+"    securityContext: {privileged: true}\n"),
		container("watcher", "until [ -f /vol/sub/file ]; do sleep 0.1; done; cat /vol/sub/file; sleep 3600", mount("HostToContainer")),
		container("private", "sleep 3600", mount("None")),
		container("onhost", "sleep 3600", "    volumeMounts:\n    - {name: host, mountPath: /host, mountPropagation: HostToContainer}\n")))
	e.must("apply", "-f", path)
	e.waitLog(t, "prop", "mounter", "mounted")
	e.waitLog(t, "prop", "watcher", "propagated")

	sub := filepath.Join(e.runRoot, "pods", "default_prop", "volumes", "shared", "sub")
	if ok, err := mountinfo.IsMountPoint(sub); !ok {
		t.Errorf("the container's tmpfs did not reach the host at %s: %v", sub, err)
	}
	if points, _ := mountinfo.Under(filepath.Dir(sub)); len(points) < 5 {
		t.Errorf("mounts under the volume on the host: %q, want the volume, sub, deep twice and again", points)
	}
	if b, err := os.ReadFile(filepath.Join(sub, "file")); string(b) != "propagated\n" {
		t.Errorf("host side of the volume: %q, %v", b, err)
	}
	out, errOut, err := e.run("exec", "prop", "-c", "private", "--", "sh", "-c",
		"ls -A /vol/sub; grep -c ' /vol/sub ' /proc/mounts || true")
	if err != nil || strings.Contains(out, "file") || strings.TrimSpace(out) != "0" {
		t.Errorf("the None container sees the propagated mount: %q %s %v", out, errOut, err)
	}
	for _, s := range e.pod("prop").Status.ContainerStatuses {
		if s.Name != "onhost" {
			continue
		}
		want := fmt.Sprintf("path %q is mounted on \"/\" but it is not a shared or slave mount", hostDir)
		if w := s.State.Waiting; w == nil || w.Reason != "CreateContainerConfigError" || !strings.Contains(w.Message, want) {
			t.Errorf("onhost: %+v, want waiting with %s", s.State, want)
		}
	}
	e.must("delete", "pod", "prop", "--grace-period", "0")
}

func TestVolumeBidirectionalNeedsPrivileged(t *testing.T) {
	e := newEnv(t)
	manifest := podYAML("bidi", "  volumes:\n  - {name: v, emptyDir: {}}\n",
		container("c", "sleep 3600", "    volumeMounts:\n    - name: v\n      mountPath: /v\n      mountPropagation: Bidirectional\n"))
	path := e.manifest("pod.yaml", manifest)
	line := strings.Count(manifest[:strings.Index(manifest, "mountPropagation")], "\n") + 1
	_, errOut, err := e.run("apply", "-f", path)
	want := fmt.Sprintf("pod.yaml:%d: spec.containers[0].volumeMounts[0].mountPropagation: Forbidden: Bidirectional mount propagation is available only to privileged containers", line)
	if err == nil || !strings.Contains(errOut, want) {
		t.Errorf("apply: %v\n%s\nwant %s", err, errOut, want)
	}
}
