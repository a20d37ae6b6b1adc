package main

// Integration tests of issue 4: what a container's process, identity and
// environment are, read from inside busybox containers.

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// settled waits until every container of pod default/name has
// terminated or waits for a reason of its own, and returns the pod.
func (e *env) settled(t *testing.T, name string) corev1.Pod {
	t.Helper()
	return e.settledNS(t, "default", name)
}

func status(pod corev1.Pod, name string) corev1.ContainerStatus {
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == name {
			return cs
		}
	}
	return corev1.ContainerStatus{}
}

// wantLines fails for every line of want missing from out.
func wantLines(t *testing.T, what, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, out)
		}
	}
}

const specObjects = `apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {MODE: fast, LEVEL: "3"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {PASSWORD: hunter2}
---
`

// TestSpecEnvironment: ConfigMaps and Secrets from the same file in the
// -n namespace, envFrom with a prefix, valueFrom of every kind, $(VAR)
// in env and args; a missing ConfigMap leaves only its container waiting.
func TestSpecEnvironment(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	envs := `    envFrom:
    - {prefix: CFG_, configMapRef: {name: settings}}
    - {secretRef: {name: absent, optional: true}}
    env:
    - {name: MODE, value: env-wins}
    - {name: GREETING, value: "hi $(NAME) $$(NAME) $(LATER) $(CFG_MODE)"}
    - {name: NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: LATER, value: later}
    - {name: NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
    - {name: APP, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}}
    - {name: IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: PASS, valueFrom: {secretKeyRef: {name: creds, key: PASSWORD}}}
    - {name: MEM_MI, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
    - {name: CPU_M, valueFrom: {resourceFieldRef: {resource: requests.cpu, divisor: 1m}}}
    - {name: OPT, valueFrom: {configMapKeyRef: {name: settings, key: NOPE, optional: true}}}
    resources:
      limits: {memory: 64Mi}
      requests: {cpu: 100m}
`
	manifest := specObjects + strings.Replace(podYAML("envpod", "  restartPolicy: Never\n",
		container("main", "env | sort; echo args: \"$0\" \"$1\"", "    args: [\"$(NAME)\", \"$(MODE)\"]\n"+envs),
		container("broken", "echo never", "    env:\n    - {name: X, valueFrom: {configMapKeyRef: {name: missing, key: k}}}\n")),
		"  name: envpod\n", "  name: envpod\n  labels: {app: demo}\n", 1)
	path := e.manifest("pod.yaml", manifest)
	out := e.must("apply", "-n", "team", "-f", path)
	wantLines(t, "apply", out, "configmap/settings created", "secret/creds created", "pod/envpod created")
	pod := e.settledNS(t, "team", "envpod")
	broken := status(pod, "broken")
	if w := broken.State.Waiting; w == nil || w.Reason != "CreateContainerConfigError" || w.Message != `configmap "missing" not found` {
		t.Errorf("broken container: %+v", broken.State)
	}
	if st := status(pod, "main").State.Terminated; st == nil || st.ExitCode != 0 {
		t.Errorf("main container: %+v", status(pod, "main").State)
	}
	logs := e.must("logs", "-n", "team", "envpod", "-c", "main")
	wantLines(t, "env", logs,
		"CFG_MODE=fast\n", "CFG_LEVEL=3\n", "MODE=env-wins\n",
		"GREETING=hi $(NAME) $(NAME) $(LATER) fast\n",
		"NAME=envpod\n", "NS=team\n", "APP=demo\n", "IP="+pod.Status.PodIP+"\n",
		"PASS=hunter2\n", "MEM_MI=64\n", "CPU_M=100\n", "args: envpod env-wins\n")
	if strings.Contains(logs, "OPT=") {
		t.Errorf("an absent optional key made a variable:\n%s", logs)
	}

	// A pod of another namespace does not see team's objects.
	other := e.manifest("other.yaml", podYAML("other", "  restartPolicy: Never\n",
		container("c", "true", "    envFrom: [{configMapRef: {name: settings}}]\n")))
	e.must("apply", "-f", other)
	if w := status(e.settled(t, "other"), "c").State.Waiting; w == nil || w.Message != `configmap "settings" not found` {
		t.Errorf("other namespace: %+v", w)
	}

	// Applying a changed ConfigMap replaces it; delete -f removes them.
	changed := e.manifest("changed.yaml", strings.Replace(specObjects, "fast", "slow", 1))
	wantLines(t, "apply", e.must("apply", "-n", "team", "-f", changed), "configmap/settings configured", "secret/creds unchanged")
	wantLines(t, "delete", e.must("delete", "-n", "team", "-f", path), `pod "envpod" deleted`, `configmap "settings" deleted`, `secret "creds" deleted`)
	e.must("delete", "pod", "other")
}

func (e *env) settledNS(t *testing.T, ns, name string) corev1.Pod {
	t.Helper()
	var pod corev1.Pod
	eventually(t, 20*time.Second, func() error {
		out, _, err := e.run("get", "pod", name, "-n", ns, "-o", "json")
		if err != nil {
			return err
		}
		pod = corev1.Pod{}
		if err := json.Unmarshal([]byte(out), &pod); err != nil {
			return err
		}
		if len(pod.Status.ContainerStatuses) == 0 {
			return errorf("no container statuses")
		}
		for _, cs := range pod.Status.ContainerStatuses {
			if w := cs.State.Waiting; cs.State.Terminated == nil && (w == nil || w.Reason == "ContainerCreating" || w.Reason == "PodInitializing") {
				return errorf("container %s: %+v", cs.Name, cs.State)
			}
			// Between a container's exit and the monitor recording it,
			// status reports it as the kubelet reports a lost container.
			if st := cs.State.Terminated; st != nil && st.Reason == "ContainerStatusUnknown" {
				return errorf("container %s: exit not recorded yet", cs.Name)
			}
		}
		return nil
	})
	return pod
}

// TestSpecSecurity: users and groups, capabilities, no_new_privs,
// seccomp, a read-only root and runAsNonRoot, seen from inside.
func TestSpecSecurity(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	procStatus := "grep -E '^(CapBnd|CapEff|NoNewPrivs|Seccomp):' /proc/self/status"
	path := e.manifest("pod.yaml", podYAML("secure", `  restartPolicy: Never
  securityContext:
    runAsUser: 1000
    runAsGroup: 3000
    supplementalGroups: [4000]
    fsGroup: 2000
`,
		container("user", "id; "+procStatus+"; touch /tmp/x && echo rootfs-writable", `    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
`),
		container("root", "id -u; "+procStatus, `    securityContext:
      runAsUser: 0
      capabilities: {drop: [ALL], add: [NET_ADMIN, chown]}
      seccompProfile: {type: Unconfined}
`),
		container("priv", "id -u; "+procStatus+"; ls /dev/ | grep -c . ", `    securityContext:
      runAsUser: 0
      privileged: true
`),
		container("nonroot", "true", `    securityContext:
      runAsUser: 0
      runAsNonRoot: true
`)))
	e.must("apply", "-f", path)
	pod := e.settled(t, "secure")
	user := e.must("logs", "secure", "-c", "user")
	wantLines(t, "user", user, "uid=1000 gid=3000 groups=2000,3000,4000", "NoNewPrivs:\t1", "Seccomp:\t2", "CapEff:\t0000000000000000")
	if strings.Contains(user, "rootfs-writable") {
		t.Errorf("wrote to a read-only root file system:\n%s", user)
	}
	root := e.must("logs", "secure", "-c", "root")
	// NET_ADMIN is bit 12, CHOWN bit 0.
	wantLines(t, "root", root, "0\n", "CapBnd:\t0000000000001001", "CapEff:\t0000000000001001", "NoNewPrivs:\t0", "Seccomp:\t0")
	priv := e.must("logs", "secure", "-c", "priv")
	// A privileged container gets every capability podrun holds.
	wantLines(t, "priv", priv, "Seccomp:\t0", "CapEff:\t"+ownCapBnd(t))
	nonroot := status(pod, "nonroot").State.Waiting
	if nonroot == nil || nonroot.Reason != "CreateContainerConfigError" || !strings.Contains(nonroot.Message, "container's runAsUser breaks non-root policy") {
		t.Errorf("nonroot: %+v", status(pod, "nonroot").State)
	}
	e.must("delete", "pod", "secure")
}

// ownCapBnd is this process's bounding set, as /proc/self/status shows it.
func ownCapBnd(t *testing.T) string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatal("no CapBnd in /proc/self/status")
	return ""
}

// TestSpecPodShape: sysctls, a shared process namespace, hostAliases and
// DNS settings, seen from inside; unsafe sysctls refused.
func TestSpecPodShape(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	path := e.manifest("pod.yaml", podYAML("shape", `  restartPolicy: Never
  shareProcessNamespace: true
  hostname: box
  subdomain: sub
  hostAliases: [{ip: 10.1.2.3, hostnames: [alias.example, alias2]}]
  dnsPolicy: None
  dnsConfig: {nameservers: [10.9.9.9], searches: [example.test], options: [{name: ndots, value: "2"}]}
  securityContext:
    sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "99"}]
`,
		container("sleeper", "exec sleep 30", ""),
		container("look", "sleep 1; sysctl -n net.ipv4.ip_unprivileged_port_start; pidof sleep; cat /proc/1/cmdline; echo; cat /etc/hosts /etc/resolv.conf; hostname", "")))
	e.must("apply", "-f", path)
	eventually(t, 20*time.Second, func() error {
		if st := status(e.pod("shape"), "look").State.Terminated; st == nil {
			return errorf("look has not finished")
		}
		return nil
	})
	out := e.must("logs", "shape", "-c", "look")
	wantLines(t, "look", out, "99\n", "/pause", "10.1.2.3\talias.example\talias2\n",
		"box.sub.default.svc.cluster.local\tbox", "nameserver 10.9.9.9\n", "search example.test\n", "options ndots:2\n", "\nbox\n")
	if lines := strings.Split(out, "\n"); len(lines) < 2 || strings.TrimSpace(lines[1]) == "" {
		t.Errorf("pidof found no sleep in the shared process namespace:\n%s", out)
	}
	e.must("delete", "pod", "shape", "--grace-period", "0")

	// Without shareProcessNamespace, the other container's sleep is invisible.
	apart := e.manifest("apart.yaml", podYAML("apart", "  restartPolicy: Never\n",
		container("sleeper", "exec sleep 30", ""),
		container("look", "sleep 1; pidof sleep || echo none", "")))
	e.must("apply", "-f", apart)
	eventually(t, 20*time.Second, func() error {
		if st := status(e.pod("apart"), "look").State.Terminated; st == nil {
			return errorf("look has not finished")
		}
		return nil
	})
	if out := e.must("logs", "apart", "-c", "look"); out != "none\n" {
		t.Errorf("pidof across unshared pid namespaces: %q", out)
	}
	e.must("delete", "pod", "apart", "--grace-period", "0")

	unsafe := e.manifest("unsafe.yaml", podYAML("unsafe", "  securityContext:\n    sysctls: [{name: net.core.somaxconn, value: \"1024\"}]\n",
		container("c", "sleep 1", "")))
	_, errOut, err := e.run("apply", "-f", unsafe)
	if err == nil || !strings.Contains(errOut, `SysctlForbidden: forbidden sysctl: "net.core.somaxconn" not allowlisted`) {
		t.Errorf("unsafe sysctl: %v\n%s", err, errOut)
	}
	// Scheduler fields the one node satisfies are honoured silently, those
	// podrun does not weigh accepted with one warning line; a field podrun
	// cannot honour is refused, named with its line.
	data := podYAML("unsafe", "  preemptionPolicy: Never\n  nodeSelector: {kubernetes.io/os: linux}\n  tolerations: [{operator: Exists}]\n  securityContext:\n    sysctls: [{name: net.core.somaxconn, value: \"1024\"}]\n",
		container("c", "sleep 1", ""))
	allowed := e.manifest("allowed.yaml", data)
	out, errOut, err = e.run("apply", "--allowed-unsafe-sysctls", "net.core.*", "-f", allowed)
	if err != nil || !strings.Contains(errOut, "Warning: "+allowed+":6: spec.preemptionPolicy: ignored") {
		t.Errorf("apply with scheduler fields: %v\n%s%s", err, out, errOut)
	}
	e.must("delete", "pod", "unsafe", "--grace-period", "0")
	selinux := e.manifest("selinux.yaml", podYAML("selinux", "", container("c", "sleep 1", "    securityContext: {seLinuxOptions: {level: s0}}\n")))
	if _, errOut, err := e.run("apply", "-f", selinux); err == nil || !strings.Contains(errOut, selinux+":10: spec.containers[0].securityContext.seLinuxOptions: Forbidden: not supported by podrun yet") {
		t.Errorf("seLinuxOptions: %v\n%s", err, errOut)
	}
}

// TestSpecOOMAndTermination: a memory hog is OOMKilled; termination
// messages from the file (written by a non-root user) and from the logs.
func TestSpecOOMAndTermination(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	path := e.manifest("pod.yaml", podYAML("ends", "  restartPolicy: Never\n",
		"  - name: hog\n    image: localhost/podrun/busybox:demo\n    command: [dd, if=/dev/zero, of=/dev/null, bs=64M, count=1]\n    resources: {limits: {memory: 16Mi}}\n",
		container("message", "echo all done > /tmp/msg", "    terminationMessagePath: /tmp/msg\n    securityContext: {runAsUser: 65534}\n"),
		container("fallback", "echo first; echo last words; exit 2", "    terminationMessagePolicy: FallbackToLogsOnError\n"),
		container("quiet", "echo not a message; exit 0", "    terminationMessagePolicy: FallbackToLogsOnError\n"),
		container("stdin", "timeout 1 cat; echo status $?", "    stdin: true\n"),
		container("nostdin", "cat; echo status $?", "")))
	e.must("apply", "-f", path)
	pod := e.settled(t, "ends")
	want := map[string]struct {
		code            int32
		reason, message string
	}{
		"hog":      {137, "OOMKilled", ""},
		"message":  {0, "Completed", "all done\n"},
		"fallback": {2, "Error", "first\nlast words\n"},
		"quiet":    {0, "Completed", ""},
	}
	// stdin: true is an open pipe that never ends; without it, /dev/null.
	if out := e.must("logs", "ends", "-c", "stdin"); out == "status 0\n" {
		t.Errorf("stdin: cat saw the end of its input: %q", out)
	}
	if out := e.must("logs", "ends", "-c", "nostdin"); out != "status 0\n" {
		t.Errorf("no stdin: %q", out)
	}
	for name, w := range want {
		st := status(pod, name).State.Terminated
		if st == nil || st.ExitCode != w.code || st.Reason != w.reason || st.Message != w.message {
			t.Errorf("container %s: %+v, want %d %s %q", name, status(pod, name).State, w.code, w.reason, w.message)
		}
	}
	e.must("delete", "pod", "ends")
}
