package controllers

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func testRS(n int32, minReady int32) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-abc", Namespace: "ns", UID: "rs-uid", Generation: 4},
		Spec:       appsv1.ReplicaSetSpec{Replicas: &n, MinReadySeconds: minReady, Template: template("nginx")},
	}
}

func TestReplicaSetScale(t *testing.T) {
	running := func(name string, created int) Pod { return pod(name, corev1.PodRunning, created) }
	tests := []struct {
		name    string
		want    int32
		pods    []Pod
		creates int
		deletes []string
	}{
		{"none: create all", 3, nil, 3, nil},
		{"enough", 2, []Pod{running("a", 0), running("b", 0)}, 0, nil},
		{"finished and deleting pods do not count", 2,
			[]Pod{running("a", 0), pod("b", corev1.PodFailed, 0), pod("c", corev1.PodSucceeded, 0), {Pod: running("d", 0).Pod, Deleting: true}}, 1, nil},
		{"unscheduled before scheduled", 1,
			[]Pod{{Pod: pod("a", corev1.PodPending, 0).Pod, Unscheduled: true}, pod("b", corev1.PodPending, 5)}, 0, []string{"a"}},
		{"pending before running", 1, []Pod{running("a", 5), pod("b", corev1.PodPending, 0)}, 0, []string{"b"}},
		{"not ready before ready", 1, []Pod{ready(running("a", 5), 6), running("b", 0)}, 0, []string{"b"}},
		{"lower deletion cost first", 1, []Pod{withCost(running("a", 9), "5"), withCost(running("b", 0), "-1")}, 0, []string{"b"}},
		{"a bad deletion cost is 0", 1, []Pod{withCost(running("a", 0), "x"), withCost(running("b", 9), "1")}, 0, []string{"a"}},
		{"ready for less time first", 1, []Pod{ready(running("a", 0), 10), ready(running("b", 0), 20)}, 0, []string{"b"}},
		{"more restarts first", 1, []Pod{withRestarts(running("a", 0), 1), withRestarts(running("b", 0), 3)}, 0, []string{"b"}},
		{"newer first", 2, []Pod{running("a", 0), running("b", 9), running("c", 5)}, 0, []string{"b"}},
		{"several, in order", 0, []Pod{running("a", 0), running("b", 9), pod("c", corev1.PodPending, 1)}, 0, []string{"c", "b", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := ReplicaSet(testRS(tt.want, 0), tt.pods, t0, seeded())
			if len(res.Create) != tt.creates {
				t.Errorf("creates %d pods, want %d", len(res.Create), tt.creates)
			}
			if diff := cmp.Diff(tt.deletes, res.Delete); diff != "" {
				t.Errorf("deletes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReplicaSetCreatesOwnedPods(t *testing.T) {
	rs := testRS(2, 0)
	res := ReplicaSet(rs, []Pod{pod("web-abc-bbbbb", corev1.PodRunning, 0)}, t0, seeded())
	if len(res.Create) != 1 {
		t.Fatalf("creates %d pods, want 1", len(res.Create))
	}
	p := res.Create[0]
	if p.Name == "web-abc-bbbbb" || len(p.Name) != len("web-abc-")+5 || p.Namespace != "ns" || p.Labels["app"] != "web" {
		t.Errorf("pod meta = %+v", p.ObjectMeta)
	}
	if ref := metav1.GetControllerOf(p); ref == nil || ref.UID != "rs-uid" || ref.Kind != "ReplicaSet" {
		t.Errorf("owner = %+v", p.OwnerReferences)
	}
	p.Spec.Containers[0].Image = "changed"
	if rs.Spec.Template.Spec.Containers[0].Image != "nginx" {
		t.Errorf("the pod shares its spec with the template")
	}
}

func TestReplicaSetStatus(t *testing.T) {
	mislabelled := ready(pod("d", corev1.PodRunning, 0), 0)
	pods := []Pod{
		ready(pod("a", corev1.PodRunning, 0), 0),  // available at 10+
		ready(pod("b", corev1.PodRunning, 0), 25), // ready, available at 35+
		pod("c", corev1.PodPending, 0),
		pod("e", corev1.PodFailed, 0),
		mislabelled,
	}
	for _, p := range pods[:3] {
		p.Pod.Labels = map[string]string{"app": "web", "extra": "x"}
	}
	res := ReplicaSet(testRS(4, 10), pods, at(30), seeded())
	want := appsv1.ReplicaSetStatus{Replicas: 4, FullyLabeledReplicas: 3, ReadyReplicas: 3, AvailableReplicas: 2, ObservedGeneration: 4}
	if diff := cmp.Diff(want, res.Status); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	if want := at(35).Add(time.Nanosecond); !res.RequeueAt.Equal(want) {
		t.Errorf("RequeueAt = %v, want %v", res.RequeueAt, want)
	}
	if res := ReplicaSet(testRS(1, 10), []Pod{ready(pod("a", corev1.PodRunning, 0), 20)}, at(30), seeded()); res.Status.AvailableReplicas != 0 {
		t.Errorf("a pod ready for exactly minReadySeconds is available; the controller wants strictly more")
	}
}

func withCost(p Pod, cost string) Pod {
	p.Pod.Annotations = map[string]string{AnnotationDeletionCost: cost}
	return p
}

func TestReplicaSetAdoptions(t *testing.T) {
	rs := testRS(2, 0)
	rs.Labels = map[string]string{LabelPodTemplateHash: "abc"}
	rs.Spec.Template.Labels = map[string]string{"app": "web", LabelPodTemplateHash: "abc"}
	rs.Spec.Selector = &metav1.LabelSelector{MatchLabels: rs.Spec.Template.Labels}
	made := ReplicaSet(rs, nil, t0, seeded()).Create[0]
	orphan := func(name string, mutate func(*corev1.Pod)) corev1.Pod {
		p := *made.DeepCopy()
		p.Name, p.OwnerReferences = name, nil
		p.Status.Phase = corev1.PodRunning
		if mutate != nil {
			mutate(&p)
		}
		return p
	}
	orphans := []corev1.Pod{
		orphan("mine", nil),
		orphan("owned", func(p *corev1.Pod) { p.OwnerReferences = made.OwnerReferences }),
		orphan("other-hash", func(p *corev1.Pod) { p.Labels = map[string]string{"app": "web", LabelPodTemplateHash: "def"} }),
		orphan("failed", func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }),
	}
	got := ReplicaSetAdoptions(rs, orphans)
	if len(got) != 1 || got[0].Name != "mine" {
		t.Fatalf("adopted %v, want mine only", got)
	}
	if diff := cmp.Diff(made.Spec, got[0].Spec); diff != "" {
		t.Errorf("spec (-made +adopted):\n%s", diff)
	}
	if ref := metav1.GetControllerOf(got[0]); ref == nil || ref.UID != rs.UID {
		t.Errorf("owner %v", got[0].OwnerReferences)
	}
	delete(rs.Labels, LabelPodTemplateHash)
	if got := ReplicaSetAdoptions(rs, orphans); len(got) != 0 {
		t.Errorf("a standalone ReplicaSet adopted %v", got)
	}
}
