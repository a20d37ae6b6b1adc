package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// TestDeploymentHostPortOneNode: two replicas asking for one hostPort on
// a one-node cluster: one runs, the other stays Pending with the
// scheduler's reason and message, and starts once the first is deleted,
// as on a cluster of one node.
func TestDeploymentHostPortOneNode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	port := e.portBase + 7
	f := e.manifest("web.yaml", fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: localhost/podrun/busybox:demo
        command: ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"]
        ports: [{containerPort: 80, hostPort: %d}]
`, port))
	e.must("apply", "-f", f)
	var running, pending corev1.Pod
	eventually(t, 30*time.Second, func() error {
		var list corev1.PodList
		if err := json.Unmarshal([]byte(e.must("get", "pods", "-o", "json")), &list); err != nil {
			return err
		}
		running, pending = corev1.Pod{}, corev1.Pod{}
		for _, p := range list.Items {
			switch p.Status.Phase {
			case corev1.PodRunning:
				running = p
			case corev1.PodPending:
				if c := condition(&p, corev1.PodScheduled); c != nil && c.Reason == corev1.PodReasonUnschedulable {
					pending = p
				}
			}
		}
		if len(list.Items) != 2 || running.Name == "" || pending.Name == "" {
			return fmt.Errorf("want one pod Running and one Pending Unschedulable, got %d pods", len(list.Items))
		}
		return nil
	})
	if c := condition(&pending, corev1.PodScheduled); !strings.Contains(c.Message, "didn't have free ports for the requested pod ports") {
		t.Errorf("pending pod's condition: %+v", c)
	}
	if out := e.must("describe", "pod", pending.Name); !strings.Contains(out, "FailedScheduling") {
		t.Errorf("describe of the pending pod lacks FailedScheduling:\n%s", out)
	}
	e.must("delete", "pod", running.Name, "--grace-period", "1")
	eventually(t, 30*time.Second, func() error {
		if p := e.pod(pending.Name); p.Status.Phase != corev1.PodRunning {
			return fmt.Errorf("pod %s is %s", p.Name, p.Status.Phase)
		}
		return nil
	})
	e.must("delete", "-f", f)
}

// condition is the pod's condition of type typ, or nil.
func condition(p *corev1.Pod, typ corev1.PodConditionType) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == typ {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}
