package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/runner/supervise"
)

// deploymentYAML is a Deployment of replicas pods that sleep, with
// VERSION=version in their environment and a readiness probe that passes
// once the container has been up a moment; rolled one pod at a time with
// maxUnavailable 0.
func deploymentYAML(name string, replicas int, version string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
  labels: {app: %[1]s}
spec:
  replicas: %[2]d
  selector:
    matchLabels: {app: %[1]s}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: main
        image: localhost/podrun/busybox:demo
        env: [{name: VERSION, value: %[3]s}]
        command: ["sh", "-c", "trap 'exit 0' TERM; echo version $VERSION; sleep 1; touch /tmp/ready; sleep 600 & wait"]
        readinessProbe:
          exec: {command: [test, -f, /tmp/ready]}
          periodSeconds: 1
`, name, replicas, version)
}

// deployPod is what the test reads of one of a Deployment's pods.
type deployPod struct {
	uid, version, hash string
	ready              bool
	restarts           int32
}

// deployPods lists the pods labelled app=name that are not being deleted.
func (e *env) deployPods(name string) map[string]deployPod {
	e.t.Helper()
	var list corev1.PodList
	if err := json.Unmarshal([]byte(e.must("get", "pods", "-o", "json")), &list); err != nil {
		e.t.Fatal(err)
	}
	out := map[string]deployPod{}
	for _, p := range list.Items {
		if p.Labels["app"] != name || p.DeletionTimestamp != nil {
			continue
		}
		dp := deployPod{uid: string(p.UID), hash: p.Labels["pod-template-hash"]}
		for _, env := range p.Spec.Containers[0].Env {
			if env.Name == "VERSION" {
				dp.version = env.Value
			}
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				dp.ready = true
			}
		}
		for _, cs := range p.Status.ContainerStatuses {
			dp.restarts += cs.RestartCount
		}
		out[p.Name] = dp
	}
	return out
}

// waitDeployPods waits until the Deployment has n ready pods, all of
// version, and no other.
func waitDeployPods(t *testing.T, e *env, name string, n int, version string) map[string]deployPod {
	t.Helper()
	var pods map[string]deployPod
	eventually(t, 90*time.Second, func() error {
		pods = e.deployPods(name)
		if len(pods) != n {
			return fmt.Errorf("want %d pods of %s, have %v", n, version, pods)
		}
		for pn, p := range pods {
			if !p.ready || p.version != version {
				return fmt.Errorf("want %d ready pods of %s: %s is %+v", n, version, pn, p)
			}
		}
		return nil
	})
	return pods
}

// deployment reads a Deployment with its status, as get -o json shows it.
func (e *env) deployment(name string) appsv1.Deployment {
	e.t.Helper()
	var d appsv1.Deployment
	if err := json.Unmarshal([]byte(e.must("get", "deployment", name, "-o", "json")), &d); err != nil {
		e.t.Fatal(err)
	}
	return d
}

// supervisorLog prints a workload's supervisor log when the test failed.
func (e *env) supervisorLog(t *testing.T, kind, name string) {
	if !t.Failed() {
		return
	}
	if log, err := os.ReadFile(filepath.Join(e.runRoot, "workloads", kind, "default_"+name, supervise.LogFile)); err == nil {
		t.Logf("supervisor.log:\n%s", log)
	}
}

// TestDeployment: the Deployment test. Three replicas named
// <deployment>-<hash>-<5 chars>; a pod deleted by hand is replaced; an
// unchanged re-apply restarts nothing; scale to 5 and to 1; a template
// change rolled with maxUnavailable 0, some replica Ready at every
// sample; rollout undo back to the first template; kill -9 of the
// supervisor, then get, apply and delete converge; delete -f removes it
// all.
func TestDeployment(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	defer e.supervisorLog(t, "deployment", "web")
	v1 := e.manifest("web.yaml", deploymentYAML("web", 3, "v1"))
	t.Cleanup(func() { e.run("delete", "-f", v1) })
	if out := e.must("apply", "-f", v1); !strings.Contains(out, "deployment.apps/web created") {
		t.Errorf("apply said %q", out)
	}
	pods := waitDeployPods(t, e, "web", 3, "v1")
	var hash string
	for n, p := range pods {
		hash = p.hash
		if !regexp.MustCompile(`^web-[bcdfghjklmnpqrstvwxz2456789]+-[bcdfghjklmnpqrstvwxz2456789]{5}$`).MatchString(n) || !strings.HasPrefix(n, "web-"+hash+"-") {
			t.Errorf("pod %s: want web-<pod-template-hash %s>-<5 chars>", n, hash)
		}
	}
	eventually(t, 30*time.Second, func() error {
		st := e.deployment("web").Status
		if st.ReadyReplicas != 3 || st.AvailableReplicas != 3 || st.UpdatedReplicas != 3 || st.ObservedGeneration != 1 {
			return fmt.Errorf("status %+v", st)
		}
		return nil
	})
	if out := e.must("get", "rs"); !strings.Contains(out, "web-"+hash) {
		t.Errorf("get rs does not list the Deployment's ReplicaSet web-%s:\n%s", hash, out)
	}

	// A pod deleted by hand is replaced.
	victim := slices.Sorted(mapKeys(pods))[0]
	e.must("delete", "pod", victim, "--grace-period", "0")
	deleted := time.Now()
	eventually(t, 60*time.Second, func() error {
		now := e.deployPods("web")
		if _, back := now[victim]; back || len(now) != 3 {
			return fmt.Errorf("after deleting %s: %v", victim, now)
		}
		return nil
	})
	t.Logf("a pod deleted by hand was replaced %v after the delete returned", time.Since(deleted).Round(10*time.Millisecond))
	pods = waitDeployPods(t, e, "web", 3, "v1")

	// An unchanged re-apply keeps every pod's uid and restart count.
	if out := e.must("apply", "-f", v1); !strings.Contains(out, "deployment.apps/web unchanged") {
		t.Errorf("re-apply said %q", out)
	}
	time.Sleep(time.Second) // what a re-apply would start, it starts at once
	if after := e.deployPods("web"); fmt.Sprint(after) != fmt.Sprint(pods) {
		t.Errorf("an unchanged re-apply changed the pods: %v, then %v", pods, after)
	}

	// Scale to 5, then to 1.
	e.must("apply", "-f", e.manifest("web5.yaml", deploymentYAML("web", 5, "v1")))
	waitDeployPods(t, e, "web", 5, "v1")
	if out := e.must("scale", "deployment/web", "--replicas", "1"); out != "deployment.apps/web scaled\n" {
		t.Errorf("scale said %q", out)
	}
	waitDeployPods(t, e, "web", 1, "v1")
	e.must("apply", "-f", v1)
	waitDeployPods(t, e, "web", 3, "v1")

	// A template change rolls one pod at a time: some replica is Ready at
	// every sample.
	v2 := e.manifest("web-v2.yaml", deploymentYAML("web", 3, "v2"))
	rolled := sampleReady(t, e, "web", func() {
		e.must("apply", "-f", v2)
		waitDeployPods(t, e, "web", 3, "v2")
	})
	t.Logf("rolled out v2 with %d samples, each with a ready replica", rolled)
	if d := e.deployment("web"); d.Status.ObservedGeneration != d.Generation {
		t.Errorf("observedGeneration %d, generation %d", d.Status.ObservedGeneration, d.Generation)
	}

	if out := e.must("rollout", "history", "deployment/web"); !regexp.MustCompile(`(?s)REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n$`).MatchString(out) {
		t.Errorf("rollout history said %q", out)
	}

	// rollout undo goes back to the first template.
	e.must("rollout", "undo", "deployment/web")
	waitDeployPods(t, e, "web", 3, "v1")
	if out := e.must("rollout", "status", "deployment/web", "--timeout", "60s"); !strings.Contains(out, `deployment "web" successfully rolled out`) {
		t.Errorf("rollout status said %q", out)
	}

	// kill -9 of the supervisor: get, apply and delete converge.
	rec := e.workloadRecord("deployment", "web")
	if err := rec.Supervisor.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if rec.Supervisor.Alive() {
			return fmt.Errorf("supervisor %d still alive", rec.Supervisor.Pid)
		}
		return nil
	})
	if _, errOut, err := e.run("get", "deployments"); err != nil || !strings.Contains(errOut, "supervisor is gone") {
		t.Errorf("get after kill -9: %v, stderr %q", err, errOut)
	}
	e.must("apply", "-f", e.manifest("web2.yaml", deploymentYAML("web", 2, "v1")))
	waitDeployPods(t, e, "web", 2, "v1")

	// delete -f removes the Deployment, its ReplicaSets and its pods.
	e.must("delete", "-f", v1)
	if left := e.deployPods("web"); len(left) != 0 {
		t.Errorf("pods left after delete: %v", left)
	}
	if out, _, _ := e.run("get", "rs"); strings.Contains(out, "web-") {
		t.Errorf("ReplicaSets left after delete:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(e.runRoot, "workloads", "deployment", "default_web")); !os.IsNotExist(err) {
		t.Errorf("workload directory left: %v", err)
	}
}

// sampleReady runs change while sampling the Deployment's pods, and fails
// the test if a sample finds no ready replica; it returns the samples.
func sampleReady(t *testing.T, e *env, name string, change func()) int {
	t.Helper()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var samples int
	var bad []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			out, _, err := e.run("get", "pods", "-o", "json")
			if err != nil {
				continue
			}
			var list corev1.PodList
			if json.Unmarshal([]byte(out), &list) != nil {
				continue
			}
			samples++
			ready := 0
			for _, p := range list.Items {
				for _, c := range p.Status.Conditions {
					if p.Labels["app"] == name && p.DeletionTimestamp == nil && c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
						ready++
					}
				}
			}
			if ready == 0 {
				bad = append(bad, time.Now().Format(time.StampMilli))
			}
		}
	}()
	change()
	close(stop)
	wg.Wait()
	if len(bad) > 0 {
		t.Errorf("no replica ready at %d of %d samples: %v", len(bad), samples, bad)
	}
	return samples
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestDeploymentCommands: apply --wait and wait for a Deployment, get's
// columns, describe, logs of a Deployment and of a selector; a standalone
// ReplicaSet and its scale; and a Deployment that never becomes ready
// failing apply --wait and rollout status on its progress deadline.
func TestDeploymentCommands(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	defer e.supervisorLog(t, "deployment", "api")
	path := e.manifest("api.yaml", deploymentYAML("api", 2, "v1"))
	t.Cleanup(func() { e.run("delete", "-f", path) })
	if out := e.must("apply", "--wait", "--timeout", "90s", "-f", path); !strings.Contains(out, "deployment.apps/api condition met") {
		t.Errorf("apply --wait said %q", out)
	}
	if st := e.deployment("api").Status; st.AvailableReplicas != 2 || st.UpdatedReplicas != 2 {
		t.Errorf("after apply --wait: %+v", st)
	}
	// A changed selector is refused, as the API server refuses it.
	moved := e.manifest("api-moved.yaml", strings.Replace(deploymentYAML("api", 2, "v1"), "matchLabels: {app: api}", "matchExpressions: [{key: app, operator: In, values: [api]}]", 1))
	if _, errOut, err := e.run("apply", "-f", moved); err == nil || !strings.Contains(errOut, "api-moved.yaml:8: spec.selector: Invalid value: \"app in (api)\": field is immutable") {
		t.Errorf("apply of a changed selector: %v, %q", err, errOut)
	}
	if out := e.must("wait", "--for=condition=Available", "deployment/api"); out != "deployment.apps/api condition met\n" {
		t.Errorf("wait said %q", out)
	}
	if out := e.must("get", "deploy"); !regexp.MustCompile(`NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\napi\s+2/2\s+2\s+2\s+\S+\n`).MatchString(out) {
		t.Errorf("get deploy:\n%s", out)
	}
	if out := e.must("get", "rs"); !regexp.MustCompile(`NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\napi-\w+\s+2\s+2\s+2\s+\S+\n`).MatchString(out) {
		t.Errorf("get rs:\n%s", out)
	}
	desc := e.must("describe", "deployment", "api")
	for _, want := range []string{
		`Replicas:\s+2 desired \| 2 updated \| 2 total \| 2 available \| 0 unavailable\n`,
		`RollingUpdateStrategy:\s+0 max unavailable, 1 max surge\n`,
		`Available\s+True\s+MinimumReplicasAvailable\n`,
		`Progressing\s+True\s+NewReplicaSetAvailable\n`,
		`NewReplicaSet:\s+api-\w+ \(2/2 replicas created\)\n`,
		`Normal\s+ScalingReplicaSet\s+.*Scaled up replica set api-\w+ from 0 to 2\n`,
	} {
		if !regexp.MustCompile(want).MatchString(desc) {
			t.Errorf("describe deployment lacks %q:\n%s", want, desc)
		}
	}
	if out := e.must("logs", "deployment/api"); out != "version v1\n" {
		t.Errorf("logs deployment/api said %q", out)
	}
	out := e.must("logs", "-l", "app=api")
	if lines := regexp.MustCompile(`(?m)^\[pod/api-\w+-\w{5}/main\] version v1$`).FindAllString(out, -1); len(lines) != 2 {
		t.Errorf("logs -l app=api said %q", out)
	}

	// rollout restart replaces every pod; Recreate stops every old pod
	// before it starts a new one.
	before := e.deployPods("api")
	if out := e.must("rollout", "restart", "deployment/api"); out != "deployment.apps/api restarted\n" {
		t.Errorf("rollout restart said %q", out)
	}
	e.must("rollout", "status", "deployment/api", "--timeout", "90s")
	for n, p := range waitDeployPods(t, e, "api", 2, "v1") {
		if _, old := before[n]; old || p.hash == before[slices.Sorted(mapKeys(before))[0]].hash {
			t.Errorf("pod %s outlived rollout restart", n)
		}
	}
	recreate := e.manifest("api-recreate.yaml", strings.Replace(deploymentYAML("api", 2, "v2"),
		"    type: RollingUpdate\n    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}\n", "    type: Recreate\n", 1))
	var mixed []string
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			out, _, err := e.run("get", "pods", "-o", "json")
			var list corev1.PodList
			if err != nil || json.Unmarshal([]byte(out), &list) != nil {
				continue
			}
			versions := map[string]bool{}
			for _, p := range list.Items {
				if p.Labels["app"] == "api" {
					versions[p.Spec.Containers[0].Env[0].Value] = true
				}
			}
			if len(versions) > 1 {
				mixed = append(mixed, time.Now().Format(time.StampMilli))
			}
		}
	}()
	e.must("apply", "-f", recreate)
	waitDeployPods(t, e, "api", 2, "v2")
	close(stop)
	<-sampled
	if len(mixed) > 0 {
		t.Errorf("Recreate ran old and new pods together at %v", mixed)
	}

	// A standalone ReplicaSet names its pods <rs>-<5 chars>, and scales.
	rsPath := e.manifest("rs.yaml", strings.NewReplacer("kind: Deployment", "kind: ReplicaSet",
		"  strategy:\n    type: RollingUpdate\n    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}\n", "").Replace(deploymentYAML("solo", 2, "v1")))
	t.Cleanup(func() { e.run("delete", "-f", rsPath) })
	e.must("apply", "-f", rsPath)
	for n := range waitDeployPods(t, e, "solo", 2, "v1") {
		if !regexp.MustCompile(`^solo-\w{5}$`).MatchString(n) {
			t.Errorf("pod %s: want solo-<5 chars>", n)
		}
	}
	if out := e.must("logs", "rs/solo"); out != "version v1\n" {
		t.Errorf("logs rs/solo said %q", out)
	}
	e.must("scale", "rs/solo", "--replicas", "3")
	waitDeployPods(t, e, "solo", 3, "v1")
	if desc := e.must("describe", "rs", "solo"); !regexp.MustCompile(`Replicas:\s+3 current / 3 desired`).MatchString(desc) || !strings.Contains(desc, "SuccessfulCreate") {
		t.Errorf("describe rs:\n%s", desc)
	}
	var apiRS string
	for _, p := range e.deployPods("api") {
		apiRS = "api-" + p.hash
	}
	if _, errOut, err := e.run("scale", "rs/"+apiRS, "--replicas", "1"); err == nil || !strings.Contains(errOut, "replicaset "+apiRS+" is owned by deployment api") {
		t.Errorf("scaling a Deployment's ReplicaSet: %v, %q", err, errOut)
	}
	e.must("delete", "-f", rsPath)

	// A Deployment that never becomes ready: its progress deadline passes.
	stuck := e.manifest("stuck.yaml", strings.Replace(deploymentYAML("stuck", 1, "v1"),
		"  strategy:", "  progressDeadlineSeconds: 2\n  strategy:", 1)+"          initialDelaySeconds: 600\n")
	t.Cleanup(func() { e.run("delete", "-f", stuck) })
	_, errOut, err := e.run("apply", "--wait", "--timeout", "60s", "-f", stuck)
	if err == nil || !strings.Contains(errOut, `deployment "stuck" exceeded its progress deadline`) {
		t.Errorf("apply --wait of a stuck deployment: %v, %q", err, errOut)
	}
	if _, errOut, err := e.run("rollout", "status", "deployment/stuck"); err == nil || !strings.Contains(errOut, "exceeded its progress deadline") {
		t.Errorf("rollout status of a stuck deployment: %v, %q", err, errOut)
	}
	e.must("delete", "-f", stuck)
	e.must("delete", "-f", path)
	if out := e.must("wait", "--for=delete", "deployment/api", "deployment/stuck"); out != "deployment.apps/api condition met\ndeployment.apps/stuck condition met\n" {
		t.Errorf("wait --for=delete said %q", out)
	}
}

// TestDeploymentNamesCannotLeaveTheirDirectory: a workload's name is a
// path in the store, checked by every verb that takes one before it
// opens anything.
func TestDeploymentNamesCannotLeaveTheirDirectory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bad := "../../../../canary"
	for _, args := range [][]string{
		{"scale", "deployment/" + bad, "--replicas", "1"},
		{"rollout", "status", "deployment/" + bad},
		{"rollout", "undo", "deployment/" + bad},
		{"rollout", "restart", "deployment/" + bad},
		{"rollout", "history", "deployment/" + bad},
		{"describe", "deployment", bad},
		{"logs", "deployment/" + bad},
		{"wait", "--for=condition=Available", "deployment/" + bad, "--timeout", "1s"},
		{"scale", "deployment/web", "--replicas", "1", "-n", "../.."},
	} {
		_, errOut, err := e.run(args...)
		if err == nil || !strings.Contains(errOut, "invalid") {
			t.Errorf("podrun %s: %v, %q; want it refused", strings.Join(args, " "), err, errOut)
		}
	}
	if _, err := os.Stat(e.root); !os.IsNotExist(err) {
		t.Errorf("a refused name opened the store: %v", err)
	}
}
