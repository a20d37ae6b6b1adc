package runner

import (
	"context"
	"encoding/json"
	"math/rand"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kcontrollers "github.com/podrun/podrun/kube/controllers"
)

func testDaemonSet(selector map[string]string) *appsv1.DaemonSet {
	return &appsv1.DaemonSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "default", UID: "ds-uid", Generation: 1},
		Spec: appsv1.DaemonSetSpec{
			Selector:       &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
				Spec:       corev1.PodSpec{NodeSelector: selector, Containers: []corev1.Container{{Name: "a", Image: "agent"}}},
			},
		},
	}
}

// TestDaemonSetSync: one pod on a node that fits, pinned to it; none on
// one that does not, with one FailedPlacement event however many steps.
func TestDaemonSetSync(t *testing.T) {
	node := kcontrollers.Node{Name: "here", Labels: map[string]string{"kubernetes.io/hostname": "here", "kubernetes.io/os": "linux"}}
	c := daemonSetController{node: func() (kcontrollers.Node, error) { return node, nil }, rand: rand.New(rand.NewSource(1))}
	ctx := context.Background()

	e := &recordingEnv{now: time.Now()}
	ds := testDaemonSet(map[string]string{"kubernetes.io/os": "linux"})
	if _, err := c.Sync(ctx, e.workload(t, "daemonset", ds), e); err != nil {
		t.Fatal(err)
	}
	if len(e.created) != 1 || !strings.HasPrefix(e.created[0].Name, "agent-") || len(e.created[0].Name) != len("agent-")+5 {
		t.Fatalf("created %v", createdNames(e.created))
	}
	terms := e.created[0].Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if terms[0].MatchFields[0].Values[0] != "here" {
		t.Errorf("not pinned to the node: %+v", terms)
	}

	e = &recordingEnv{now: time.Now()}
	ds = testDaemonSet(map[string]string{"disktype": "ssd"})
	for range 2 {
		if _, err := c.Sync(ctx, e.workload(t, "daemonset", ds), e); err != nil {
			t.Fatal(err)
		}
	}
	if len(e.created) != 0 || len(e.events) != 1 || !strings.Contains(e.events[0], `FailedPlacement failed to place pod on "here"`) {
		t.Errorf("created %v, events %q", createdNames(e.created), e.events)
	}
	var st appsv1.DaemonSetStatus
	if err := json.Unmarshal(e.status, &st); err != nil || st.DesiredNumberScheduled != 0 || st.ObservedGeneration != 1 {
		t.Errorf("status %s: %v", e.status, err)
	}
}

func TestThisNode(t *testing.T) {
	n, err := thisNode()
	if err != nil {
		t.Fatal(err)
	}
	if n.Name == "" || n.Labels["kubernetes.io/hostname"] != n.Name || n.Labels["kubernetes.io/os"] != "linux" || n.Labels["kubernetes.io/arch"] == "" || len(n.Taints) != 0 {
		t.Errorf("node %+v", n)
	}
}
