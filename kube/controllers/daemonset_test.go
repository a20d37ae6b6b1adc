package controllers

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var thisNode = Node{Name: "here", Labels: map[string]string{"kubernetes.io/hostname": "here", "disk": "ssd", "cores": "8"}}

func TestNodeFits(t *testing.T) {
	tainted := thisNode
	tainted.Taints = []corev1.Taint{{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}, {Key: "soft", Effect: corev1.TaintEffectPreferNoSchedule}}
	term := func(reqs ...corev1.NodeSelectorRequirement) *corev1.Affinity {
		return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: reqs}}}}}
	}
	req := func(key string, op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorRequirement {
		return corev1.NodeSelectorRequirement{Key: key, Operator: op, Values: values}
	}
	tests := []struct {
		name string
		node Node
		spec corev1.PodSpec
		fits bool
	}{
		{"nothing asked", thisNode, corev1.PodSpec{}, true},
		{"selector met", thisNode, corev1.PodSpec{NodeSelector: map[string]string{"disk": "ssd"}}, true},
		{"selector not met", thisNode, corev1.PodSpec{NodeSelector: map[string]string{"disk": "hdd"}}, false},
		{"In", thisNode, corev1.PodSpec{Affinity: term(req("disk", corev1.NodeSelectorOpIn, "ssd", "nvme"))}, true},
		{"NotIn", thisNode, corev1.PodSpec{Affinity: term(req("disk", corev1.NodeSelectorOpNotIn, "ssd"))}, false},
		{"Exists and DoesNotExist", thisNode, corev1.PodSpec{Affinity: term(req("disk", corev1.NodeSelectorOpExists), req("gpu", corev1.NodeSelectorOpDoesNotExist))}, true},
		{"Gt", thisNode, corev1.PodSpec{Affinity: term(req("cores", corev1.NodeSelectorOpGt, "4"))}, true},
		{"Lt", thisNode, corev1.PodSpec{Affinity: term(req("cores", corev1.NodeSelectorOpLt, "4"))}, false},
		{"untolerated taint", tainted, corev1.PodSpec{}, false},
		{"tolerated by value", tainted, corev1.PodSpec{Tolerations: []corev1.Toleration{{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}}}, true},
		{"wrong value", tainted, corev1.PodSpec{Tolerations: []corev1.Toleration{{Key: "dedicated", Value: "web"}}}, false},
		{"Exists on every key", tainted, corev1.PodSpec{Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}}}, true},
	}
	for _, tt := range tests {
		if fits, why := tt.node.Fits(&tt.spec); fits != tt.fits || fits != (why == "") {
			t.Errorf("%s: fits %v (%q), want %v", tt.name, fits, why, tt.fits)
		}
	}
}

func testDaemonSet(image string) *appsv1.DaemonSet {
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "ns", UID: "ds-uid", Generation: 2},
		Spec: appsv1.DaemonSetSpec{
			Template:       template(image),
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType},
		},
	}
}

func daemonPod(ds *appsv1.DaemonSet, name string, ready bool) Pod {
	p := pod(name, corev1.PodRunning, 0)
	p.Pod.Labels = map[string]string{LabelControllerRevision: DaemonSetRevision(ds)}
	p.Ready = ready
	return p
}

func TestDaemonSet(t *testing.T) {
	v1, v2 := testDaemonSet("v1"), testDaemonSet("v2")
	surge := testDaemonSet("v2")
	surge.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxSurge: ptr(intstr.FromString("100%")), MaxUnavailable: ptr(intstr.FromInt32(0))}
	onDelete := testDaemonSet("v2")
	onDelete.Spec.UpdateStrategy.Type = appsv1.OnDeleteDaemonSetStrategyType
	elsewhere := testDaemonSet("v1")
	elsewhere.Spec.Template.Spec.NodeSelector = map[string]string{"disk": "hdd"}
	tests := []struct {
		name    string
		ds      *appsv1.DaemonSet
		pods    []Pod
		creates int
		deletes []string
	}{
		{"none: one", v1, nil, 1, nil},
		{"one: nothing", v1, []Pod{daemonPod(v1, "a", true)}, 0, nil},
		{"two: the newer goes", v1, []Pod{daemonPod(v1, "a", true), withCreation(daemonPod(v1, "b", true), 5)}, 0, []string{"b"}},
		{"failed: replaced", v1, []Pod{func() Pod { p := daemonPod(v1, "a", false); p.Pod.Status.Phase = corev1.PodFailed; return p }()}, 1, []string{"a"}},
		{"not for this node", elsewhere, []Pod{daemonPod(v1, "a", true)}, 0, []string{"a"}},
		{"rolling, no surge: old first", v2, []Pod{daemonPod(v1, "a", true)}, 0, []string{"a"}},
		{"rolling, surge: new first", surge, []Pod{daemonPod(v1, "a", true)}, 1, nil},
		{"rolling, surge: old kept until new is ready", surge, []Pod{daemonPod(v1, "a", true), withCreation(daemonPod(surge, "b", false), 5)}, 0, nil},
		{"rolling, surge: then old goes", surge, []Pod{daemonPod(v1, "a", true), withCreation(daemonPod(surge, "b", true), 5)}, 0, []string{"a"}},
		{"OnDelete keeps the old", onDelete, []Pod{daemonPod(v1, "a", true)}, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := DaemonSet(tt.ds, thisNode, tt.pods, t0, seeded())
			if len(res.Create) != tt.creates {
				t.Errorf("creates %d, want %d", len(res.Create), tt.creates)
			}
			if diff := cmp.Diff(tt.deletes, res.Delete); diff != "" {
				t.Errorf("deletes (-want +got):\n%s", diff)
			}
		})
	}
}

func withCreation(p Pod, s int) Pod {
	p.Pod.CreationTimestamp = metav1.NewTime(at(s))
	return p
}

func TestDaemonSetPodAndStatus(t *testing.T) {
	ds := testDaemonSet("v1")
	ds.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "disk", Operator: corev1.NodeSelectorOpIn, Values: []string{"ssd"}}}}}}}}
	res := DaemonSet(ds, thisNode, nil, t0, seeded())
	p := res.Create[0]
	if len(p.Name) != len("agent-")+5 || p.Labels[LabelControllerRevision] != DaemonSetRevision(ds) || p.Labels[LabelPodTemplateGeneration] != "2" {
		t.Errorf("pod %+v", p.ObjectMeta)
	}
	terms := p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) != 1 || terms[0].MatchFields[0].Values[0] != "here" {
		t.Errorf("affinity %+v", terms)
	}
	if len(p.Spec.Tolerations) != len(daemonTolerations) {
		t.Errorf("tolerations %+v", p.Spec.Tolerations)
	}
	if ds.Spec.Template.Spec.Tolerations != nil {
		t.Errorf("the DaemonSet passed in was changed")
	}
	st := DaemonSet(ds, thisNode, []Pod{daemonPod(ds, "a", true)}, t0, seeded()).DaemonSet.Status
	want := appsv1.DaemonSetStatus{ObservedGeneration: 2, DesiredNumberScheduled: 1, CurrentNumberScheduled: 1, NumberReady: 1, NumberAvailable: 1, UpdatedNumberScheduled: 1}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	ds.Spec.Template.Spec.NodeSelector = map[string]string{"disk": "hdd"}
	res = DaemonSet(ds, thisNode, []Pod{daemonPod(ds, "a", true)}, t0, seeded())
	if res.Unschedulable == "" || res.DaemonSet.Status.NumberMisscheduled != 1 || res.DaemonSet.Status.DesiredNumberScheduled != 0 {
		t.Errorf("misscheduled: %q %+v", res.Unschedulable, res.DaemonSet.Status)
	}
}

func TestDaemonSetAdoptions(t *testing.T) {
	ds := testDaemonSet("img:1")
	ds.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	made := DaemonSet(ds, thisNode, nil, t0, seeded()).Create[0]
	orphan := func(name string, mutate func(*corev1.Pod)) corev1.Pod {
		p := *made.DeepCopy()
		p.Name, p.OwnerReferences = name, nil
		p.Status.Phase = corev1.PodRunning
		if mutate != nil {
			mutate(&p)
		}
		return p
	}
	older := testDaemonSet("img:0")
	orphans := []corev1.Pod{
		orphan("mine", nil),
		orphan("owned", func(p *corev1.Pod) { p.OwnerReferences = made.OwnerReferences }),
		orphan("other-labels", func(p *corev1.Pod) { p.Labels = map[string]string{"app": "db"} }),
		orphan("older-template", func(p *corev1.Pod) { p.Labels[LabelControllerRevision] = DaemonSetRevision(older) }),
		orphan("done", func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }),
		orphan("other-ns", func(p *corev1.Pod) { p.Namespace = "elsewhere" }),
	}
	got := DaemonSetAdoptions(ds, thisNode, orphans)
	if len(got) != 1 || got[0].Name != "mine" {
		t.Fatalf("adopted %v, want mine only", got)
	}
	if diff := cmp.Diff(made.Spec, got[0].Spec); diff != "" {
		t.Errorf("the adopted pod's spec differs from the one the set makes (-made +adopted):\n%s", diff)
	}
	if ref := metav1.GetControllerOf(got[0]); ref == nil || ref.UID != ds.UID || ref.Kind != "DaemonSet" {
		t.Errorf("owner %v", got[0].OwnerReferences)
	}
	ds.Spec.Selector = nil
	if got := DaemonSetAdoptions(ds, thisNode, orphans); len(got) != 0 {
		t.Errorf("without a selector, adopted %v", got)
	}
}
