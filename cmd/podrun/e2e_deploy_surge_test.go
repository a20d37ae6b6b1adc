package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// TestDeploymentSurgeHostPort: a rolling update of one replica with a
// hostPort, under the default strategy (maxSurge 25% rounds up to 1,
// maxUnavailable 25% down to 0), makes a surge pod that stays Pending
// with the scheduler's message while its predecessor keeps the port and
// runs: the rollout is stuck, as on a one-node cluster. With
// maxUnavailable 1 the old pod goes first and the new one starts.
func TestDeploymentSurgeHostPort(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	port := e.portBase + 8
	manifest := func(version, strategy string) string {
		return e.manifest("web.yaml", fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: surge}
spec:
  replicas: 1
  selector:
    matchLabels: {app: surge}
%s  template:
    metadata:
      labels: {app: surge}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: localhost/podrun/busybox:demo
        env: [{name: VERSION, value: %s}]
        command: ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"]
        ports: [{containerPort: 80, hostPort: %d}]
`, strategy, version, port))
	}
	pods := func() (running, pending []corev1.Pod) {
		var list corev1.PodList
		if err := json.Unmarshal([]byte(e.must("get", "pods", "-o", "json")), &list); err != nil {
			t.Fatal(err)
		}
		for _, p := range list.Items {
			switch {
			case p.DeletionTimestamp != nil:
			case p.Status.Phase == corev1.PodRunning:
				running = append(running, p)
			case p.Status.Phase == corev1.PodPending:
				pending = append(pending, p)
			}
		}
		return running, pending
	}
	version := func(p corev1.Pod) string { return p.Spec.Containers[0].Env[0].Value }

	e.must("apply", "--wait", "--timeout", "60s", "-f", manifest("v1", ""))
	running, _ := pods()
	if len(running) != 1 {
		t.Fatalf("running %d pods", len(running))
	}
	old := running[0]

	e.must("apply", "-f", manifest("v2", ""))
	var surge corev1.Pod
	eventually(t, 30*time.Second, func() error {
		running, pending := pods()
		if len(pending) != 1 || len(running) != 1 || running[0].UID != old.UID {
			return fmt.Errorf("want the old pod running and one pending, have %d running, %d pending", len(running), len(pending))
		}
		surge = pending[0]
		c := condition(&surge, corev1.PodScheduled)
		if c == nil || c.Reason != corev1.PodReasonUnschedulable ||
			c.Message != "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports." {
			return fmt.Errorf("surge pod's condition: %+v", c)
		}
		return nil
	})
	if version(surge) != "v2" {
		t.Errorf("the pending pod is of %s", version(surge))
	}
	if out := e.must("describe", "pod", surge.Name); !strings.Contains(out, "FailedScheduling") || !strings.Contains(out, "didn't have free ports") {
		t.Errorf("describe of the surge pod:\n%s", out)
	}
	// Stuck, as on one node: a while later, still the same two.
	time.Sleep(3 * time.Second)
	if running, pending := pods(); len(running) != 1 || running[0].UID != old.UID || len(pending) != 1 || pending[0].UID != surge.UID {
		t.Errorf("the stuck rollout moved: %d running, %d pending", len(running), len(pending))
	}
	if out, _, err := e.run("rollout", "status", "deployment/surge", "--timeout", "2s"); err == nil {
		t.Errorf("rollout status of a stuck rollout succeeded:\n%s", out)
	}

	e.must("apply", "-f", manifest("v3", "  strategy:\n    rollingUpdate: {maxUnavailable: 1}\n"))
	eventually(t, 60*time.Second, func() error {
		running, pending := pods()
		if len(running) != 1 || len(pending) != 0 || version(running[0]) != "v3" {
			return fmt.Errorf("want one v3 pod running, have %d running, %d pending", len(running), len(pending))
		}
		return nil
	})
	e.must("rollout", "status", "deployment/surge", "--timeout", "30s")
	e.must("delete", "deploy", "surge")
}
