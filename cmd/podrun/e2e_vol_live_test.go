package main

// Volumes that follow their objects: a ConfigMap changed while the pod
// runs, labels changed in place, secrets on tmpfs with item modes,
// optional sources, pods that wait for a claim, and delete -f of a claim.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestVolumeObjectsLive(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	cm := func(v string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {key: " + v + "}\n---\n"
	}
	secret := "apiVersion: v1\nkind: Secret\nmetadata: {name: sec}\nstringData: {token: s3cret, other: x}\n---\n"
	pod := func(label string) string {
		return `apiVersion: v1
kind: Pod
metadata:
  name: live
  labels: {app: ` + label + `}
spec:
  volumes:
  - {name: cfg, configMap: {name: cfg}}
  - {name: sec, secret: {secretName: sec, items: [{key: token, path: token, mode: 0400}]}}
  - name: proj
    projected:
      sources:
      - configMap: {name: cfg, items: [{key: key, path: conf/key}]}
      - secret: {name: sec, items: [{key: other, path: other}]}
      - downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}
  - {name: opt, configMap: {name: absent, optional: true}}
  containers:
  - name: c
    image: localhost/podrun/busybox:demo
    command: [sh, -c, "stat -L -c 'token %a %s' /sec/token; ls /sec; grep ' /sec ' /proc/mounts; echo opt=$(ls /opt | wc -l); while true; do echo \"cfg=$(cat /cfg/key) proj=$(cat /proj/conf/key) other=$(cat /proj/other) $(cat /proj/labels)\"; sleep 0.3; done"]
    volumeMounts:
    - {name: cfg, mountPath: /cfg}
    - {name: sec, mountPath: /sec}
    - {name: proj, mountPath: /proj}
    - {name: opt, mountPath: /opt}
`
	}
	first := e.manifest("all.yaml", cm("one")+secret+pod("a"))
	out := e.must("apply", "-f", first)
	for _, want := range []string{"configmap/cfg created", "secret/sec created", "pod/live created"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply lacks %q:\n%s", want, out)
		}
	}
	e.waitLog(t, "live", "c", "token 400 6", "tmpfs", "opt=0", `cfg=one proj=one other=x app="a"`)

	// A changed ConfigMap reaches the running container through the
	// `..data` swap, within seconds.
	changed := e.manifest("cm.yaml", cm("two"))
	if out := e.must("apply", "-f", changed); !strings.Contains(out, "configmap/cfg configured") {
		t.Errorf("apply of the changed configmap: %s", out)
	}
	start := time.Now()
	e.waitLog(t, "live", "c", "cfg=two proj=two")
	t.Logf("change seen after %v", time.Since(start))

	// Labels change in place; the downwardAPI file follows.
	relabel := e.manifest("relabel.yaml", pod("b"))
	if out := e.must("apply", "-f", relabel); !strings.Contains(out, "pod/live configured") {
		t.Errorf("apply of new labels: %s", out)
	}
	e.waitLog(t, "live", "c", `cfg=two proj=two other=x app="b"`)
	if got := e.pod("live").Labels["app"]; got != "b" {
		t.Errorf("recorded label app=%q, want b", got)
	}
	if out := e.must("apply", "-f", relabel); !strings.Contains(out, "pod/live unchanged") {
		t.Errorf("apply of the same pod: %s", out)
	}
	e.must("delete", "pod", "live", "--grace-period", "0")
}

func TestVolumeWaitsForClaim(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	podFile := e.manifest("pod.yaml", podYAML("waits", "  volumes:\n  - name: data\n    persistentVolumeClaim: {claimName: later}\n",
		container("c", "echo kept > /data/f; echo started; sleep 3600", "    volumeMounts:\n    - {name: data, mountPath: /data}\n")))
	if out := e.must("apply", "-f", podFile); !strings.Contains(out, "pod/waits created") {
		t.Errorf("apply: %s", out)
	}
	p := e.pod("waits")
	if len(p.Status.ContainerStatuses) != 1 || p.Status.ContainerStatuses[0].State.Waiting == nil {
		t.Fatalf("status: %+v", p.Status)
	}
	w := p.Status.ContainerStatuses[0].State.Waiting
	if w.Reason != "ContainerCreating" || w.Message != `persistentvolumeclaim "later" not found` || p.Status.Phase != "Pending" {
		t.Errorf("waiting: phase %s, %+v", p.Status.Phase, w)
	}
	if out := e.must("apply", "-f", podFile); !strings.Contains(out, "pod/waits unchanged") {
		t.Errorf("re-apply while waiting: %s", out)
	}

	// Applying the claim starts the pod waiting for it.
	claimFile := e.manifest("claim.yaml", `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: later}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
`)
	e.must("apply", "-f", claimFile)
	e.waitLog(t, "waits", "c", "started")
	e.must("delete", "pod", "waits", "--grace-period", "0")

	// delete -f releases the claim and keeps the data...
	data := filepath.Join(e.root, "volumes", "default_later", "_data", "f")
	if out := e.must("delete", "-f", claimFile); !strings.Contains(out, `persistentvolumeclaim "later" deleted`) {
		t.Errorf("delete -f claim: %s", out)
	}
	if b, err := os.ReadFile(data); err != nil || string(b) != "kept\n" {
		t.Errorf("data after delete -f: %q %v", b, err)
	}
	if out := e.must("volume", "ls"); !strings.Contains(out, "Released") {
		t.Errorf("volume ls after delete -f:\n%s", out)
	}
	// ...which a new claim binds again; --purge-volumes removes it.
	e.must("apply", "-f", claimFile)
	if out := e.must("delete", "-f", claimFile, "--purge-volumes"); !strings.Contains(out, `persistentvolumeclaim "later" deleted`) {
		t.Errorf("delete -f --purge-volumes: %s", out)
	}
	if _, err := os.Stat(filepath.Dir(data)); !os.IsNotExist(err) {
		t.Errorf("--purge-volumes left the volume: %v", err)
	}
}

// TestVolumeWaitsForKey: a key missing from the items of a non-optional
// ConfigMap keeps the pod waiting, as the kubelet does, until an apply
// adds it.
func TestVolumeWaitsForKey(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	cm := func(data string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {" + data + "}\n---\n"
	}
	pod := podYAML("keyed", "  volumes:\n  - {name: cfg, configMap: {name: cfg, items: [{key: want, path: w}]}}\n",
		container("c", "echo got $(cat /cfg/w); sleep 3600", "    volumeMounts:\n    - {name: cfg, mountPath: /cfg}\n"))
	if out := e.must("apply", "-f", e.manifest("pod.yaml", cm("other: x")+pod)); !strings.Contains(out, "pod/keyed created") {
		t.Errorf("apply: %s", out)
	}
	p := e.pod("keyed")
	if len(p.Status.ContainerStatuses) != 1 || p.Status.ContainerStatuses[0].State.Waiting == nil || p.Status.Phase != "Pending" {
		t.Fatalf("status: %+v", p.Status)
	}
	if w := p.Status.ContainerStatuses[0].State.Waiting; w.Reason != "ContainerCreating" || w.Message != "configmap references non-existent config key: want" {
		t.Errorf("waiting: %+v", w)
	}
	e.must("apply", "-f", e.manifest("cm.yaml", cm("other: x, want: here")))
	e.waitLog(t, "keyed", "c", "got here")
	e.must("delete", "pod", "keyed", "--grace-period", "0")
}

// TestVolumeClaimTerminating: delete -f of a claim a pod uses leaves it
// Terminating (kubernetes.io/pvc-protection) until that pod is deleted;
// --purge-volumes is refused meanwhile and a new pod naming it waits.
func TestVolumeClaimTerminating(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	claimFile := e.manifest("claim.yaml", `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: held}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
`)
	vols := "  volumes:\n  - name: data\n    persistentVolumeClaim: {claimName: held}\n"
	mount := "    volumeMounts:\n    - {name: data, mountPath: /data}\n"
	e.must("apply", "-f", claimFile)
	e.must("apply", "-f", e.manifest("user.yaml", podYAML("user", vols, container("c", "echo kept > /data/f; echo written; sleep 3600", mount))))
	e.waitLog(t, "user", "c", "written")

	if out := e.must("delete", "-f", claimFile); !strings.Contains(out, `persistentvolumeclaim "held" deleted`) {
		t.Errorf("delete -f: %s", out)
	}
	if out := e.must("volume", "ls"); !strings.Contains(out, "Terminating") || !strings.Contains(out, "default/user") {
		t.Errorf("volume ls while the pod uses the deleted claim:\n%s", out)
	}
	if _, errOut, err := e.run("delete", "-f", claimFile, "--purge-volumes"); err == nil || !strings.Contains(errOut, "in use by pod default/user") {
		t.Errorf("--purge-volumes while in use: %v %s", err, errOut)
	}
	e.must("apply", "-f", e.manifest("late.yaml", podYAML("late", vols, container("c", "sleep 3600", mount))))
	if w := e.pod("late").Status.ContainerStatuses[0].State.Waiting; w == nil || w.Message != `persistentvolumeclaim "held" is being deleted` {
		t.Errorf("a new pod naming the Terminating claim: %+v", w)
	}

	// The last running pod gone, the claim is released; the data stays.
	e.must("delete", "pod", "user", "--grace-period", "0")
	if out := e.must("volume", "ls"); !strings.Contains(out, "Released") {
		t.Errorf("volume ls once the pod is gone:\n%s", out)
	}
	if b, err := os.ReadFile(filepath.Join(e.root, "volumes", "default_held", "_data", "f")); err != nil || string(b) != "kept\n" {
		t.Errorf("data after the release: %q %v", b, err)
	}
	e.must("delete", "pod", "late", "--grace-period", "0")
	e.must("volume", "rm", "held")
}
