package main

// Volumes end to end: what each kind looks like inside a container (the
// contents, modes and mounts the kubelet produces), data shared between
// containers and kept across pods, and every escape attempt refused with
// the host untouched.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// waitLog waits until every want appears in the log of container ctr.
func (e *env) waitLog(t *testing.T, pod, ctr string, want ...string) string {
	t.Helper()
	var out string
	eventually(t, 20*time.Second, func() error {
		out, _, _ = e.run("logs", pod, "-c", ctr)
		for _, w := range want {
			if !strings.Contains(out, w) {
				return fmt.Errorf("log of %s/%s lacks %q:\n%s", pod, ctr, w, out)
			}
		}
		return nil
	})
	return out
}

func TestVolumeEmptyDirShared(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	path := e.manifest("pod.yaml", podYAML("share", `  securityContext: {fsGroup: 2000}
  volumes:
  - name: shared
    emptyDir: {}
  - name: mem
    emptyDir: {medium: Memory, sizeLimit: 8Mi}
`,
		container("writer", "echo hello > /shared/msg; sleep 3600", "    volumeMounts:\n    - {name: shared, mountPath: /shared}\n"),
		container("reader", `until [ -f /shared/msg ]; do sleep 0.1; done; cat /shared/msg
stat -L -c 'shared %A %g' /shared; stat -L -c 'mem %A %g' /mem; grep ' /mem ' /proc/mounts; sleep 3600`,
			"    volumeMounts:\n    - {name: shared, mountPath: /shared}\n    - {name: mem, mountPath: /mem}\n")))
	e.must("apply", "-f", path)
	out := e.waitLog(t, "share", "reader", "hello", "shared drwxrwsrwx 2000", "mem drwxrwsrwt 2000", "tmpfs", "size=8192k")
	t.Log(out)
	e.must("delete", "pod", "share", "--grace-period", "0")
}

func TestVolumeDownwardAPI(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	path := e.manifest("pod.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: info
  labels: {app: web, tier: front}
  annotations: {note: 'say "hi"'}
spec:
  volumes:
  - name: info
    downwardAPI:
      items:
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
      - {path: annotations, fieldRef: {fieldPath: metadata.annotations}}
      - {path: name, fieldRef: {fieldPath: metadata.name}, mode: 0400}
      - {path: mem, resourceFieldRef: {containerName: c, resource: limits.memory, divisor: 1Mi}}
  containers:
  - name: c
    image: localhost/podrun/busybox:demo
    resources: {limits: {memory: 64Mi}}
    command: [sh, -c, "cat /info/labels; echo; cat /info/annotations; echo; echo name=$(cat /info/name) mem=$(cat /info/mem); stat -L -c '%n %A' /info/labels /info/name /info; ls -a /info; grep ' /info ' /proc/mounts; sleep 3600"]
    volumeMounts:
    - {name: info, mountPath: /info}
`)
	e.must("apply", "-f", path)
	out := e.waitLog(t, "info", "c", "app=\"web\"\ntier=\"front\"", `note="say \"hi\""`, "name=info mem=64",
		"/info/labels -rw-r--r--", "/info/name -r--------", "/info drwxrwxrwt", "..data", " ro,")
	t.Log(out)
	e.must("delete", "pod", "info", "--grace-period", "0")
}

func TestVolumeClaimOutlivesPod(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	claim := `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
`
	mount := "    volumeMounts:\n    - {name: data, mountPath: /data}\n"
	vols := "  volumes:\n  - name: data\n    persistentVolumeClaim: {claimName: data}\n"
	first := e.manifest("first.yaml", claim+podYAML("first", vols,
		container("c", "echo kept > /data/state; ln -s / /data/root; echo written; sleep 3600", mount)))
	if out := e.must("apply", "-f", first); !strings.Contains(out, "persistentvolumeclaim/data created") {
		t.Errorf("apply: %s", out)
	}
	e.waitLog(t, "first", "c", "written")
	if _, errOut, err := e.run("volume", "rm", "data"); err == nil || !strings.Contains(errOut, "in use by pod default/first") {
		t.Errorf("volume rm of a used volume: %v %s", err, errOut)
	}
	e.must("delete", "pod", "first", "--grace-period", "0")

	// A new pod reads the data; a subPath through the symlink the first
	// pod left (to /) is refused and the host is untouched.
	second := e.manifest("second.yaml", claim+podYAML("second", vols,
		container("c", "cat /data/state; sleep 3600", mount),
		container("escape", "echo escaped; sleep 3600", "    volumeMounts:\n    - {name: data, mountPath: /host, subPath: root/etc}\n")))
	if out := e.must("apply", "-f", second); !strings.Contains(out, "persistentvolumeclaim/data configured") {
		t.Errorf("re-apply: %s", out)
	}
	e.waitLog(t, "second", "c", "kept")
	time.Sleep(time.Second)
	if out, _, _ := e.run("logs", "second", "-c", "escape"); strings.Contains(out, "escaped") {
		t.Fatalf("the container with an escaping subPath ran: %s", out)
	}
	for _, s := range e.pod("second").Status.ContainerStatuses {
		if s.Name == "escape" {
			t.Logf("escape container state: %+v", s.State)
			if s.State.Running != nil {
				t.Error("the container with an escaping subPath runs")
			}
		}
	}
	if out := e.must("volume", "ls"); !strings.Contains(out, "data") || !strings.Contains(out, "Bound") {
		t.Errorf("volume ls:\n%s", out)
	}
	e.must("delete", "pod", "second", "--grace-period", "0")
	data := filepath.Join(e.root, "volumes", "default_data", "_data", "state")
	if b, err := os.ReadFile(data); err != nil || string(b) != "kept\n" {
		t.Errorf("claim data after the pods are gone: %q, %v", b, err)
	}
	if out := e.must("volume", "prune"); out != "" {
		t.Errorf("prune removed a bound volume: %s", out)
	}
	e.must("volume", "rm", "data")
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("volume rm left the data: %v", err)
	}
}

func TestVolumeHostPath(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "file"), []byte("from host\n"), 0o644)
	good := e.manifest("good.yaml", podYAML("hp", fmt.Sprintf(`  volumes:
  - {name: d, hostPath: {path: %s, type: Directory}}
  - {name: f, hostPath: {path: %s/file, type: File}}
  - {name: made, hostPath: {path: %s/made, type: DirectoryOrCreate}}
`, dir, dir, dir),
		container("c", "cat /f; echo ro > /d/x || echo refused; touch /made/y; sleep 3600",
			"    volumeMounts:\n    - {name: d, mountPath: /d, readOnly: true}\n    - {name: f, mountPath: /f}\n    - {name: made, mountPath: /made}\n")))
	e.must("apply", "-f", good)
	e.waitLog(t, "hp", "c", "from host", "refused")
	eventually(t, 5*time.Second, func() error {
		_, err := os.Stat(filepath.Join(dir, "made", "y"))
		return err
	})
	e.must("delete", "pod", "hp", "--grace-period", "0")

	for name, vol := range map[string]string{
		"mismatch": fmt.Sprintf("{path: %s/file, type: Directory}", dir),
		"root":     "{path: /}",
		"own root": fmt.Sprintf("{path: %s}", e.root),
	} {
		bad := e.manifest("bad.yaml", podYAML("bad", "  volumes:\n  - {name: v, hostPath: "+vol+"}\n",
			container("c", "sleep 3600", "    volumeMounts:\n    - {name: v, mountPath: /v}\n")))
		_, errOut, err := e.run("apply", "-f", bad)
		want := map[string]string{"mismatch": "is not a directory", "root": "--allow-unsafe-host-paths", "own root": "--allow-unsafe-host-paths"}[name]
		if err == nil || !strings.Contains(errOut, want) {
			t.Errorf("%s: apply: %v\n%s", name, err, errOut)
		}
	}
}
