package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestDaemonSetAdoptsOrphan: delete ds --cascade=false (kubectl's
// deprecated orphan) leaves the pod running without an owner; the
// DaemonSet applied again adopts it instead of making a second pod; delete
// -f --cascade=true (background) takes it.
func TestDaemonSetAdoptsOrphan(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	agent := e.manifest("agent.yaml", setYAML("DaemonSet", "agent", "", ""))
	e.must("apply", "-f", agent)
	var orphan corev1.Pod
	eventually(t, 60*time.Second, func() error {
		pods := e.podsOf("agent-")
		for _, p := range pods {
			if len(pods) == 1 && p.Status.Phase == corev1.PodRunning && podReady(&p) {
				orphan = p
				return nil
			}
		}
		return fmt.Errorf("pods of agent: %v", slices.Sorted(maps.Keys(pods)))
	})

	_, errOut, err := e.run("delete", "ds", "agent", "--cascade=false")
	if err != nil || !strings.Contains(errOut, "warning: --cascade=false is deprecated (boolean value) and can be replaced with --cascade=orphan.") {
		t.Fatalf("delete ds agent --cascade=false: %v\n%s", err, errOut)
	}
	p := e.pod(orphan.Name)
	if metav1.GetControllerOf(&p) != nil || p.UID != orphan.UID || p.Status.Phase != corev1.PodRunning {
		t.Fatalf("after an orphaning delete: owners %v, phase %s", p.OwnerReferences, p.Status.Phase)
	}

	e.must("apply", "-f", agent)
	eventually(t, 30*time.Second, func() error {
		p := e.pod(orphan.Name)
		if ref := metav1.GetControllerOf(&p); ref == nil || ref.Kind != "DaemonSet" || ref.Name != "agent" {
			return fmt.Errorf("not adopted: owners %v", p.OwnerReferences)
		}
		return nil
	})
	// A few syncs later, still the one pod, the same, counted by the set.
	eventually(t, 30*time.Second, func() error {
		if out := e.must("get", "ds", "agent"); !strings.Contains(strings.Join(strings.Fields(out), " "), "agent 1 1 1 1 1 <none>") {
			return fmt.Errorf("get ds agent:\n%s", out)
		}
		return nil
	})
	pods := e.podsOf("agent-")
	if p, ok := pods[orphan.Name]; len(pods) != 1 || !ok || p.UID != orphan.UID {
		t.Errorf("after adoption: %v, want only %s", slices.Sorted(maps.Keys(pods)), orphan.Name)
	}

	_, errOut, err = e.run("delete", "-f", agent, "--cascade=true")
	if err != nil || !strings.Contains(errOut, "warning: --cascade=true is deprecated (boolean value) and can be replaced with --cascade=background.") {
		t.Fatalf("delete -f --cascade=true: %v\n%s", err, errOut)
	}
	eventually(t, 30*time.Second, func() error {
		if left := e.podsOf("agent-"); len(left) != 0 {
			return fmt.Errorf("pods left: %v", slices.Sorted(maps.Keys(left)))
		}
		return nil
	})
}

// TestDeploymentAdoptsOrphans: the pods a delete --cascade=orphan of a
// Deployment leaves are adopted by its ReplicaSet when the Deployment is
// applied again, not doubled.
func TestDeploymentAdoptsOrphans(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	path := e.manifest("web.yaml", deploymentYAML("adopt", 2, "v1"))
	e.must("apply", "--wait", "--timeout", "60s", "-f", path)
	before := e.deployPods("adopt")
	if len(before) != 2 {
		t.Fatalf("pods %v", before)
	}
	e.must("delete", "deploy", "adopt", "--cascade=orphan")
	for name := range before {
		if p := e.pod(name); metav1.GetControllerOf(&p) != nil {
			t.Fatalf("%s still owned: %v", name, p.OwnerReferences)
		}
	}
	e.must("apply", "-f", path)
	eventually(t, 30*time.Second, func() error {
		for name := range before {
			p := e.pod(name)
			if ref := metav1.GetControllerOf(&p); ref == nil || ref.Kind != "ReplicaSet" {
				return fmt.Errorf("%s not adopted: %v", name, p.OwnerReferences)
			}
		}
		return nil
	})
	e.must("rollout", "status", "deployment/adopt", "--timeout", "30s")
	after := e.deployPods("adopt")
	if len(after) != 2 {
		t.Errorf("after adoption: %v", after)
	}
	for name, p := range before {
		if a, ok := after[name]; !ok || a.uid != p.uid {
			t.Errorf("%s was replaced", name)
		}
	}
	e.must("delete", "-f", path)
}
