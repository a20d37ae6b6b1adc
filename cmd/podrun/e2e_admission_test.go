package main

import (
	"strings"
	"testing"
)

// TestAdmissionLimitsAndQuota: LimitRanges, ResourceQuotas and
// ServiceAccounts act on pods as the API server's admission plugins do,
// at render and at apply alike: a LimitRange's defaults fill a pod's
// resources, a quota of two pods admits two of three pods applied side
// by side, and a pod naming a ServiceAccount nobody applied is refused.
func TestAdmissionLimitsAndQuota(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	policy := e.manifest("policy.yaml", `apiVersion: v1
kind: LimitRange
metadata:
  name: mem
spec:
  limits:
  - type: Container
    default:
      memory: 64Mi
    defaultRequest:
      memory: 32Mi
    max:
      memory: 128Mi
---
apiVersion: v1
kind: ResourceQuota
metadata:
  name: two-pods
spec:
  hard:
    pods: "2"
`)
	var pods strings.Builder
	for _, name := range []string{"a", "b", "c"} {
		pods.WriteString(podYAML(name, "", container("c", "sleep 600", "")) + "---\n")
	}
	three := e.manifest("pods.yaml", pods.String())
	big := e.manifest("big.yaml", podYAML("big", "",
		container("c", "sleep 600", "    resources: {limits: {memory: 256Mi}}\n")))
	robot := e.manifest("robot.yaml", podYAML("robot", "  serviceAccountName: robot\n", container("c", "sleep 600", "")))

	// render sees the policy of its input as apply would store it.
	_, errOut, err := e.run("render", "-f", policy, "-f", three, "-o", t.TempDir())
	if err == nil || !strings.Contains(errOut, `pods "c" is forbidden: exceeded quota: two-pods, requested: pods=1, used: pods=2, limited: pods=2`) {
		t.Errorf("render of three pods under a two-pod quota: %v\n%s", err, errOut)
	}
	_, errOut, err = e.run("render", "-f", policy, "-f", big, "-o", t.TempDir())
	if err == nil || !strings.Contains(errOut, "big.yaml:1: pod default/big: ") ||
		!strings.Contains(errOut, "maximum memory usage per Container is 128Mi, but limit is 256Mi") {
		t.Errorf("render of a pod over the LimitRange's max: %v\n%s", err, errOut)
	}
	_, errOut, err = e.run("render", "-f", robot, "-o", t.TempDir())
	if err == nil || !strings.Contains(errOut, `serviceaccount "robot" not found`) {
		t.Errorf("render of a pod naming a ServiceAccount nobody applied: %v\n%s", err, errOut)
	}

	e.must("apply", "-f", policy)
	_, errOut, err = e.run("apply", "-f", three)
	if err == nil || strings.Count(errOut, "exceeded quota: two-pods") != 1 {
		t.Errorf("apply of three pods under a two-pod quota refused %d: %v\n%s", strings.Count(errOut, "exceeded quota"), err, errOut)
	}
	created := 0
	for _, name := range []string{"a", "b", "c"} {
		if _, _, err := e.run("get", "pod", name); err == nil {
			created++
			p := e.pod(name)
			c := p.Spec.Containers[0]
			if got := c.Resources.Limits.Memory().String(); got != "64Mi" {
				t.Errorf("pod %s: memory limit %s, want the LimitRange's default 64Mi", name, got)
			}
			if got := c.Resources.Requests.Memory().String(); got != "32Mi" {
				t.Errorf("pod %s: memory request %s, want the LimitRange's defaultRequest 32Mi", name, got)
			}
			if !strings.Contains(p.Annotations["kubernetes.io/limit-ranger"], "memory") {
				t.Errorf("pod %s: annotations %v lack LimitRanger's note", name, p.Annotations)
			}
		}
	}
	if created != 2 {
		t.Errorf("%d pods created under a two-pod quota, want 2", created)
	}
	_, errOut, err = e.run("apply", "-f", robot)
	if err == nil || !strings.Contains(errOut, `serviceaccount "robot" not found`) {
		t.Errorf("apply of a pod naming a ServiceAccount nobody applied: %v\n%s", err, errOut)
	}
	e.must("delete", "-f", three, "--grace-period", "1")
	e.must("delete", "-f", policy)
	e.must("apply", "-f", e.manifest("sa.yaml", "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: robot\n"), "-f", robot)
	e.must("delete", "-f", robot, "--grace-period", "1")
}
