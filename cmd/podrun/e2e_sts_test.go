package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/runner/supervise"
)

// statefulSetYAML is a StatefulSet of n pods whose container appends its
// host name to its claim's file at every start, then becomes ready after
// two seconds. extra goes under spec.
func statefulSetYAML(name string, n int, extra string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: %[1]s
spec:
  serviceName: %[1]s-svc
  replicas: %[2]d
  selector:
    matchLabels: {app: %[1]s}
%[3]s  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: localhost/podrun/busybox:demo
        command: ["sh", "-c", "hostname >> /data/host; sleep 2; touch /tmp/ready; trap 'exit 0' TERM; sleep 600 & wait"]
        readinessProbe:
          exec: {command: [test, -f, /tmp/ready]}
          periodSeconds: 1
        volumeMounts:
        - {name: data, mountPath: /data}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Mi}}
`, name, n, extra)
}

// podsOf lists the pods whose names begin with prefix, by name.
func (e *env) podsOf(prefix string) map[string]corev1.Pod {
	e.t.Helper()
	var list corev1.PodList
	if err := json.Unmarshal([]byte(e.must("get", "pods", "-o", "json")), &list); err != nil {
		e.t.Fatal(err)
	}
	out := map[string]corev1.Pod{}
	for _, p := range list.Items {
		if strings.HasPrefix(p.Name, prefix) {
			out[p.Name] = p
		}
	}
	return out
}

// readyPods waits until exactly names run and are ready, and returns them.
func readyPods(t *testing.T, e *env, prefix string, names ...string) map[string]corev1.Pod {
	t.Helper()
	var pods map[string]corev1.Pod
	eventually(t, 90*time.Second, func() error {
		pods = e.podsOf(prefix)
		var have []string
		for n, p := range pods {
			if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning && podReady(&p) {
				have = append(have, n)
			}
		}
		slices.Sort(have)
		if !slices.Equal(have, names) || len(pods) != len(names) {
			return fmt.Errorf("want %v ready, have %v ready of %d", names, have, len(pods))
		}
		return nil
	})
	return pods
}

// readySince is when the pod's Ready condition became true, nil while it
// is not.
func podReadySince(p *corev1.Pod) *time.Time {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return &c.LastTransitionTime.Time
		}
	}
	return nil
}

// workloadRecord reads the record of workload kind/name.
func (e *env) workloadRecord(kind, name string) supervise.Record {
	e.t.Helper()
	var rec supervise.Record
	data, err := os.ReadFile(filepath.Join(e.runRoot, "workloads", kind, "default_"+name, supervise.RecordFile))
	if err != nil {
		e.t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		e.t.Fatal(err)
	}
	return rec
}

// TestStatefulSetClaims: the StatefulSet of 2, each pod writing its
// host name to its own claim. Pods are named by ordinal, labelled, with
// their host name and subdomain; OrderedReady starts db-1 only once db-0
// is ready (from the pods' own timestamps); the claims outlive the
// StatefulSet, and once it is applied again each ordinal reads back its
// own data.
func TestStatefulSetClaims(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	path := e.manifest("db.yaml", statefulSetYAML("db", 2, ""))
	if out := e.must("apply", "-f", path); !strings.Contains(out, "statefulset.apps/db created") {
		t.Errorf("apply said %q", out)
	}
	pods := readyPods(t, e, "db-", "db-0", "db-1")
	for i, name := range []string{"db-0", "db-1"} {
		p := pods[name]
		for k, v := range map[string]string{
			"statefulset.kubernetes.io/pod-name": name, "apps.kubernetes.io/pod-index": fmt.Sprint(i), "app": "db",
		} {
			if p.Labels[k] != v {
				t.Errorf("%s: label %s=%q, want %q", name, k, p.Labels[k], v)
			}
		}
		if p.Labels["controller-revision-hash"] == "" {
			t.Errorf("%s: no controller-revision-hash label: %v", name, p.Labels)
		}
		if p.Spec.Hostname != name || p.Spec.Subdomain != "db-svc" {
			t.Errorf("%s: hostname %q subdomain %q", name, p.Spec.Hostname, p.Spec.Subdomain)
		}
		if got := strings.TrimSpace(e.must("exec", name, "--", "hostname")); got != name {
			t.Errorf("%s: hostname inside says %q", name, got)
		}
		if got := e.must("exec", name, "--", "cat", "/etc/hostname"); got != name+"\n" {
			t.Errorf("%s: /etc/hostname says %q", name, got)
		}
		if hosts := e.must("exec", name, "--", "cat", "/etc/hosts"); !strings.Contains(hosts, name+".db-svc.default.svc.cluster.local") {
			t.Errorf("%s: /etc/hosts has no FQDN:\n%s", name, hosts)
		}
	}
	// OrderedReady, from the pods' own record: db-1 started once db-0
	// was ready (second precision: not before).
	p0 := pods["db-0"]
	ready0 := podReadySince(&p0)
	start1 := pods["db-1"].Status.StartTime.Time
	if start1.Before(*ready0) {
		t.Errorf("db-1 started at %s, before db-0 was ready at %s", start1, ready0)
	}
	if out := e.must("get", "sts"); !regexp.MustCompile(`(?m)^db\s+2/2\s`).MatchString(out) {
		t.Errorf("get sts:\n%s", out)
	}
	vols := e.must("volume", "ls")
	for _, claim := range []string{"data-db-0", "data-db-1"} {
		if !strings.Contains(vols, claim) {
			t.Errorf("volume ls has no %s:\n%s", claim, vols)
		}
	}

	e.must("delete", "-f", path)
	if left := e.podsOf("db-"); len(left) != 0 {
		t.Errorf("pods left after delete: %v", slices.Sorted(maps.Keys(left)))
	}
	if vols := e.must("volume", "ls"); !strings.Contains(vols, "data-db-0") || !strings.Contains(vols, "data-db-1") {
		t.Errorf("the claims did not outlive the StatefulSet:\n%s", vols)
	}
	e.must("apply", "-f", path)
	readyPods(t, e, "db-", "db-0", "db-1")
	for _, name := range []string{"db-0", "db-1"} {
		got := e.must("exec", name, "--", "cat", "/data/host")
		if want := name + "\n" + name + "\n"; got != want {
			t.Errorf("%s reads back %q from its claim, want %q", name, got, want)
		}
	}
	e.must("delete", "-f", path)
}

// setYAML is a workload of kind (StatefulSet or DaemonSet) whose pods
// sleep, ready once started; extra goes under spec, templateExtra under
// the template's spec.
func setYAML(kind, name string, extra, templateExtra string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: %[1]s
metadata:
  name: %[2]s
spec:
  selector:
    matchLabels: {app: %[2]s}
%[3]s  template:
    metadata:
      labels: {app: %[2]s}
    spec:
      terminationGracePeriodSeconds: 1
%[4]s      containers:
      - name: main
        image: localhost/podrun/busybox:demo
        command: ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"]
`, kind, name, extra, templateExtra)
}

// eventIndex is the index of the first event of rec whose message
// contains text, -1 if none does.
func eventIndex(rec supervise.Record, text string) int {
	return slices.IndexFunc(rec.Events, func(ev state.Event) bool { return strings.Contains(ev.Message, text) })
}

// TestStatefulSetScaleDown: scaling a StatefulSet of 3 down to 1 deletes
// the highest ordinal first, one at a time; a pod deleted by hand comes
// back under the same ordinal; --cascade=orphan leaves the pods running,
// no longer owned, and the set applied again adopts them.
func TestStatefulSetScaleDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	three := e.manifest("web.yaml", setYAML("StatefulSet", "web", "  replicas: 3\n  serviceName: web\n", ""))
	e.must("apply", "-f", three)
	first := readyPods(t, e, "web-", "web-0", "web-1", "web-2")["web-0"]
	if out := e.must("apply", "-f", three); !strings.Contains(out, "statefulset.apps/web unchanged") {
		t.Errorf("apply again said %q", out)
	}

	e.must("apply", "-f", e.manifest("web.yaml", setYAML("StatefulSet", "web", "  replicas: 1\n  serviceName: web\n", "")))
	eventually(t, 60*time.Second, func() error {
		pods := e.podsOf("web-")
		if _, ok := pods["web-1"]; !ok {
			if _, ok := pods["web-2"]; ok {
				t.Fatalf("web-1 is gone while web-2 is still there")
			}
		}
		if len(pods) != 1 {
			return fmt.Errorf("want web-0 alone, have %v", slices.Sorted(maps.Keys(pods)))
		}
		return nil
	})
	// The step records its events once its deletions are done.
	eventually(t, 30*time.Second, func() error {
		rec := e.workloadRecord("statefulset", "web")
		d2, d1 := eventIndex(rec, "delete Pod web-2 "), eventIndex(rec, "delete Pod web-1 ")
		if d2 < 0 || d1 < 0 || d2 > d1 {
			return fmt.Errorf("want web-2 deleted before web-1, events: %+v", rec.Events)
		}
		return nil
	})

	old := readyPods(t, e, "web-", "web-0")["web-0"]
	if old.UID != first.UID || old.Status.ContainerStatuses[0].RestartCount != 0 {
		t.Errorf("web-0 was replaced or restarted by an unchanged apply and a scale down")
	}
	e.must("delete", "pod", "web-0")
	eventually(t, 60*time.Second, func() error {
		p, ok := e.podsOf("web-")["web-0"]
		if !ok || p.UID == old.UID || !podReady(&p) {
			return fmt.Errorf("web-0 not back yet")
		}
		return nil
	})

	if out := e.must("delete", "sts", "web", "--cascade=orphan"); !strings.Contains(out, `statefulset.apps "web" deleted`) {
		t.Errorf("delete said %q", out)
	}
	p := e.pod("web-0")
	if p.Status.Phase != corev1.PodRunning || len(p.OwnerReferences) != 0 {
		t.Errorf("orphaned web-0: phase %s, ownerReferences %v", p.Status.Phase, p.OwnerReferences)
	}
	if _, _, err := e.run("get", "sts", "web"); err == nil {
		t.Error("the StatefulSet is still there")
	}
	// Applied again, the set adopts its orphan, as a cluster's would.
	e.must("apply", "-f", e.manifest("web.yaml", setYAML("StatefulSet", "web", "  replicas: 1\n  serviceName: web\n", "")))
	eventually(t, 30*time.Second, func() error {
		q := e.pod("web-0")
		if q.UID != p.UID || len(q.OwnerReferences) != 1 || q.OwnerReferences[0].Kind != "StatefulSet" {
			return fmt.Errorf("web-0 not adopted: uid %s (was %s), ownerReferences %v", q.UID, p.UID, q.OwnerReferences)
		}
		return nil
	})
	e.must("delete", "sts", "web")
	if left := e.podsOf("web-"); len(left) != 0 {
		t.Errorf("pods left: %v", slices.Sorted(maps.Keys(left)))
	}
}

// TestDaemonSet: a DaemonSet runs one pod on this node; one whose
// nodeSelector this node lacks runs none, and its status and events say
// so; delete -f of one DaemonSet leaves another, of a similar name,
// alone; a changed template rolls the one pod.
func TestDaemonSet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	agent := e.manifest("agent.yaml", setYAML("DaemonSet", "agent", "", ""))
	e.must("apply", "-f", agent)
	e.must("apply", "-f", e.manifest("agent-2.yaml", setYAML("DaemonSet", "agent-2", "", "")))
	ssd := e.manifest("ssd.yaml", setYAML("DaemonSet", "ssd", "", "      nodeSelector: {disktype: ssd}\n"))
	e.must("apply", "-f", ssd)

	var name string
	var other corev1.Pod // agent-2's
	eventually(t, 60*time.Second, func() error {
		var ready, ready2 []string
		pods := e.podsOf("agent-")
		for n, p := range pods {
			switch {
			case p.Status.Phase != corev1.PodRunning || !podReady(&p):
			case strings.HasPrefix(n, "agent-2-"):
				ready2 = append(ready2, n)
			default:
				ready = append(ready, n)
			}
		}
		if len(ready) != 1 || len(ready2) != 1 || len(pods) != 2 {
			return fmt.Errorf("want one pod of agent and one of agent-2 ready, have %v and %v", ready, ready2)
		}
		name, other = ready[0], pods[ready2[0]]
		return nil
	})
	eventually(t, 30*time.Second, func() error {
		if out := e.must("describe", "daemonset", "agent"); !regexp.MustCompile(`(?s)Desired Number of Nodes Scheduled:\s+1\n.*Pods Status:\s+1 Running`).MatchString(out) {
			return fmt.Errorf("describe daemonset agent:\n%s", out)
		}
		return nil
	})
	if !regexp.MustCompile(`^agent-[bcdfghjklmnpqrstvwxz2456789]{5}$`).MatchString(name) {
		t.Errorf("pod name %q", name)
	}
	p := e.pod(name)
	if p.Labels["controller-revision-hash"] == "" || p.Labels["pod-template-generation"] != "1" {
		t.Errorf("labels %v", p.Labels)
	}
	eventually(t, 30*time.Second, func() error {
		out := e.must("get", "ds")
		for _, want := range []string{`(?m)^agent\s+1\s+1\s+1\s+1\s+1\s+<none>\s`, `(?m)^ssd\s+0\s+0\s+0\s+0\s+0\s+disktype=ssd\s`} {
			if !regexp.MustCompile(want).MatchString(out) {
				return fmt.Errorf("get ds has no line %s:\n%s", want, out)
			}
		}
		return nil
	})
	var ds appsv1.DaemonSet
	if err := json.Unmarshal([]byte(e.must("get", "ds", "ssd", "-o", "json")), &ds); err != nil {
		t.Fatal(err)
	}
	if ds.Status.DesiredNumberScheduled != 0 || ds.Status.ObservedGeneration != 1 {
		t.Errorf("ssd status %+v", ds.Status)
	}
	if rec := e.workloadRecord("daemonset", "ssd"); eventIndex(rec, "didn't match Pod's node affinity/selector") < 0 {
		t.Errorf("no FailedPlacement event: %+v", rec.Events)
	}
	if pods := e.podsOf("ssd-"); len(pods) != 0 {
		t.Errorf("ssd runs pods: %v", slices.Sorted(maps.Keys(pods)))
	}

	e.must("delete", "-f", agent)
	pods := e.podsOf("agent-")
	if p, ok := pods[other.Name]; !ok || len(pods) != 1 || p.UID != other.UID || p.DeletionTimestamp != nil {
		t.Errorf("after delete -f agent.yaml: %v, want %s untouched", slices.Sorted(maps.Keys(pods)), other.Name)
	}
	if out := e.must("get", "ds"); strings.Contains(out, "agent ") || !strings.Contains(out, "agent-2") {
		t.Errorf("get ds after delete:\n%s", out)
	}
	// RollingUpdate without a surge: the old pod goes, then the new one
	// comes, at the new revision.
	old := other
	e.must("apply", "-f", e.manifest("agent-2.yaml", setYAML("DaemonSet", "agent-2", "", "      enableServiceLinks: false\n")))
	eventually(t, 60*time.Second, func() error {
		pods := e.podsOf("agent-2-")
		if len(pods) != 1 {
			return fmt.Errorf("pods of agent-2: %v", slices.Sorted(maps.Keys(pods)))
		}
		for _, p := range pods {
			if p.Name == old.Name || p.Labels["controller-revision-hash"] == old.Labels["controller-revision-hash"] ||
				p.Labels["pod-template-generation"] != "2" || !podReady(&p) {
				return fmt.Errorf("agent-2 not rolled: %s %v", p.Name, p.Labels)
			}
		}
		return nil
	})
	e.must("delete", "ds", "agent-2", "ssd")
	if left := e.podsOf("agent-"); len(left) != 0 {
		t.Errorf("pods left: %v", slices.Sorted(maps.Keys(left)))
	}
}

// TestStatefulSetRetentionDelete: under persistentVolumeClaimRetentionPolicy
// Delete, scaling down deletes the claim of the ordinal scaled away and
// deleting the set deletes the rest, data and all.
func TestStatefulSetRetentionDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	policy := "  persistentVolumeClaimRetentionPolicy: {whenScaled: Delete, whenDeleted: Delete}\n"
	e.must("apply", "-f", e.manifest("kv.yaml", statefulSetYAML("kv", 2, policy)))
	readyPods(t, e, "kv-", "kv-0", "kv-1")
	if vols := e.must("volume", "ls"); !strings.Contains(vols, "data-kv-0") || !strings.Contains(vols, "data-kv-1") {
		t.Fatalf("volume ls:\n%s", vols)
	}
	e.must("apply", "-f", e.manifest("kv.yaml", statefulSetYAML("kv", 1, policy)))
	eventually(t, 60*time.Second, func() error {
		if vols := e.must("volume", "ls"); strings.Contains(vols, "data-kv-1") || !strings.Contains(vols, "data-kv-0") {
			return fmt.Errorf("want data-kv-0 alone:\n%s", vols)
		}
		return nil
	})
	e.must("delete", "statefulset", "kv")
	if vols := e.must("volume", "ls"); strings.Contains(vols, "data-kv-") {
		t.Errorf("claims left after the set was deleted:\n%s", vols)
	}
}

// revisionOf is the controller-revision-hash of each pod, by name.
func revisionOf(pods map[string]corev1.Pod) map[string]string {
	out := map[string]string{}
	for n, p := range pods {
		out[n] = p.Labels["controller-revision-hash"]
	}
	return out
}

// TestStatefulSetRollingUpdate: a changed template replaces the pods from
// the highest ordinal down to the partition, one at a time; lowering the
// partition to 0 replaces the rest, and the update revision becomes the
// current one.
func TestStatefulSetRollingUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	spec := func(partition int, version string) string {
		return setYAML("StatefulSet", "ru", fmt.Sprintf("  replicas: 3\n  serviceName: ru\n  updateStrategy:\n    rollingUpdate: {partition: %d}\n", partition),
			fmt.Sprintf("      enableServiceLinks: %s\n", version))
	}
	e.must("apply", "-f", e.manifest("ru.yaml", spec(1, "true")))
	before := revisionOf(readyPods(t, e, "ru-", "ru-0", "ru-1", "ru-2"))
	e.must("apply", "-f", e.manifest("ru.yaml", spec(1, "false")))
	var set appsv1.StatefulSet
	eventually(t, 60*time.Second, func() error {
		now := revisionOf(readyPods(t, e, "ru-", "ru-0", "ru-1", "ru-2"))
		if err := json.Unmarshal([]byte(e.must("get", "sts", "ru", "-o", "json")), &set); err != nil {
			return err
		}
		if now["ru-0"] != before["ru-0"] || now["ru-1"] == before["ru-1"] || now["ru-2"] == before["ru-2"] || set.Status.UpdatedReplicas != 2 {
			return fmt.Errorf("revisions %v (were %v), status %+v", now, before, set.Status)
		}
		return nil
	})
	eventually(t, 30*time.Second, func() error {
		rec := e.workloadRecord("statefulset", "ru")
		if d2, d1 := eventIndex(rec, "delete Pod ru-2 "), eventIndex(rec, "delete Pod ru-1 "); d2 < 0 || d1 < 0 || d2 > d1 || eventIndex(rec, "delete Pod ru-0 ") >= 0 {
			return fmt.Errorf("want ru-2 replaced before ru-1, and ru-0 kept: %+v", rec.Events)
		}
		return nil
	})
	if set.Status.CurrentRevision == set.Status.UpdateRevision {
		t.Errorf("status %+v: the rollout is not over", set.Status)
	}
	e.must("apply", "-f", e.manifest("ru.yaml", spec(0, "false")))
	eventually(t, 60*time.Second, func() error {
		now := revisionOf(readyPods(t, e, "ru-", "ru-0", "ru-1", "ru-2"))
		if err := json.Unmarshal([]byte(e.must("get", "sts", "ru", "-o", "json")), &set); err != nil {
			return err
		}
		if now["ru-0"] == before["ru-0"] || set.Status.CurrentRevision != set.Status.UpdateRevision || set.Status.UpdatedReplicas != 3 {
			return fmt.Errorf("revisions %v, status %+v", now, set.Status)
		}
		return nil
	})
	e.must("delete", "sts", "ru")
}

// TestApplyWaitStatefulSet: apply --wait returns once every ordinal is
// Running and Ready.
func TestApplyWaitStatefulSet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	f := e.manifest("sts.yaml", statefulSetYAML("waited", 2, ""))
	out := e.must("apply", "--wait", "--timeout", "90s", "-f", f)
	if !strings.Contains(out, "statefulset.apps/waited condition met") {
		t.Errorf("apply --wait of a StatefulSet:\n%s", out)
	}
	for _, name := range []string{"waited-0", "waited-1"} {
		if p := e.pod(name); p.Status.Phase != corev1.PodRunning || !podReady(&p) {
			t.Errorf("pod %s after apply --wait: %s, ready %v", name, p.Status.Phase, podReady(&p))
		}
	}
	if out := e.must("get", "pods", "-l", "statefulset.kubernetes.io/pod-name=waited-1"); !strings.Contains(out, "waited-1") || strings.Contains(out, "waited-0") {
		t.Errorf("get pods -l picked:\n%s", out)
	}
	if out := e.must("get", "sts", "-l", "app=waited", "-o", "json"); !strings.Contains(out, `"items": []`) {
		t.Errorf("get sts -l of a label the StatefulSet itself lacks:\n%s", out)
	}
	if out := e.must("get", "sts", "-l", "!app", "-o", "json"); !strings.Contains(out, `"name": "waited"`) {
		t.Errorf("get sts -l '!app':\n%s", out)
	}
	if out := e.must("describe", "statefulset", "waited"); !regexp.MustCompile(`(?s)Replicas:\s+2 desired \| 2 total.*Pods Status:\s+2 Running / 0 Waiting.*Volume Claims:\n\s+Name:\s+data`).MatchString(out) {
		t.Errorf("describe statefulset waited:\n%s", out)
	}
	e.must("delete", "-f", f, "--purge-volumes")
}
