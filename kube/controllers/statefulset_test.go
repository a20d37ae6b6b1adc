package controllers

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func testSet(n int32, image string) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns", UID: "set-uid", Generation: 1},
		Spec: appsv1.StatefulSetSpec{
			Replicas: &n, ServiceName: "db-headless", Template: template(image),
			Selector:             &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}},
			UpdateStrategy:       appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType},
		},
	}
}

// setCluster runs the StatefulSet controller as a supervisor would, keeping
// each revision's template; a pod is Running at once and Ready one step
// after it is created, unless ready is false.
type setCluster struct {
	set       *appsv1.StatefulSet
	pods      []Pod
	claims    map[string]bool
	templates map[string]*corev1.PodTemplateSpec
	last      StatefulSetResult
	ready     bool
	events    []string
}

func newSetCluster(set *appsv1.StatefulSet) *setCluster {
	return &setCluster{set: set, claims: map[string]bool{}, templates: map[string]*corev1.PodTemplateSpec{}, ready: true}
}

func (c *setCluster) step() {
	for i := range c.pods {
		if c.ready && c.pods[i].Pod.Status.Phase == corev1.PodRunning {
			c.pods[i].Ready = true
		}
	}
	var current *corev1.PodTemplateSpec
	if rev := c.set.Status.CurrentRevision; rev != "" && rev != StatefulSetRevision(c.set) {
		current = c.templates[rev]
	}
	res := StatefulSet(c.set, current, c.pods, c.claims, t0)
	c.last = res
	c.set = res.StatefulSet
	c.templates[res.UpdateRevision] = c.set.Spec.Template.DeepCopy()
	for _, cl := range res.CreateClaims {
		c.claims[cl.Name] = true
	}
	for _, n := range res.DeleteClaims {
		delete(c.claims, n)
		c.events = append(c.events, "release "+n)
	}
	gone := map[string]bool{}
	for _, n := range res.Delete {
		gone[n] = true
		c.events = append(c.events, "delete "+n)
	}
	kept := c.pods[:0]
	for _, p := range c.pods {
		if !gone[p.Pod.Name] {
			kept = append(kept, p)
		}
	}
	c.pods = kept
	for _, p := range res.Create {
		p.Status.Phase = corev1.PodRunning
		c.pods = append(c.pods, Pod{Pod: p})
		c.events = append(c.events, "create "+p.Name+" "+p.Spec.Containers[0].Image)
	}
}

func (c *setCluster) settle(steps int) {
	for range steps {
		c.step()
	}
	c.step()
}

func TestStatefulSetOrderedReady(t *testing.T) {
	c := newSetCluster(testSet(3, "v1"))
	c.step()
	if len(c.last.Create) != 1 || c.last.Create[0].Name != "db-0" {
		t.Fatalf("first step creates %v", c.last.Create)
	}
	c.ready = false
	c.step()
	if len(c.last.Create) != 0 {
		t.Errorf("created db-1 while db-0 is not ready")
	}
	c.ready = true
	c.settle(6)
	c.set.Spec.Replicas = ptr(int32(1))
	c.settle(6)
	c.set.Spec.Template = template("v2")
	c.set.Spec.Replicas = ptr(int32(3))
	c.settle(10)
	want := []string{
		"create db-0 v1", "create db-1 v1", "create db-2 v1",
		"delete db-2", "delete db-1",
		"create db-1 v2", "create db-2 v2", "delete db-0", "create db-0 v2",
	}
	if diff := cmp.Diff(want, c.events); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	st := c.set.Status
	if st.CurrentRevision != st.UpdateRevision || st.UpdatedReplicas != 3 || st.ReadyReplicas != 3 {
		t.Errorf("status %+v", st)
	}
}

func TestStatefulSetPodIdentity(t *testing.T) {
	set := testSet(2, "v1")
	set.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	set.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{WhenDeleted: appsv1.DeletePersistentVolumeClaimRetentionPolicyType}
	res := StatefulSet(set, nil, nil, map[string]bool{"data-db-1": true}, t0)
	if len(res.Create) != 2 {
		t.Fatalf("Parallel creates %d pods, want 2", len(res.Create))
	}
	p := res.Create[1]
	if p.Name != "db-1" || p.Spec.Hostname != "db-1" || p.Spec.Subdomain != "db-headless" ||
		p.Labels[LabelStatefulSetPodName] != "db-1" || p.Labels[LabelPodIndex] != "1" || p.Labels[LabelControllerRevision] != res.UpdateRevision {
		t.Errorf("pod %+v", p.ObjectMeta)
	}
	if v := p.Spec.Volumes; len(v) != 1 || v[0].Name != "data" || v[0].PersistentVolumeClaim.ClaimName != "data-db-1" {
		t.Errorf("volumes %+v", v)
	}
	if len(res.CreateClaims) != 1 || res.CreateClaims[0].Name != "data-db-0" || res.CreateClaims[0].Labels["app"] != "web" {
		t.Fatalf("claims %+v", res.CreateClaims)
	}
	if refs := res.CreateClaims[0].OwnerReferences; len(refs) != 1 || refs[0].UID != "set-uid" || refs[0].Controller != nil {
		t.Errorf("whenDeleted Delete: claim owners %+v", refs)
	}
}

func TestStatefulSetPartitionAndOnDelete(t *testing.T) {
	set := testSet(3, "v1")
	c := newSetCluster(set)
	c.settle(6)
	c.set.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr(int32(2))}
	c.set.Spec.Template = template("v2")
	c.events = nil
	c.settle(6)
	if diff := cmp.Diff([]string{"delete db-2", "create db-2 v2"}, c.events); diff != "" {
		t.Errorf("partition 2 (-want +got):\n%s", diff)
	}
	if st := c.set.Status; st.CurrentReplicas != 2 || st.UpdatedReplicas != 1 || st.CurrentRevision == st.UpdateRevision {
		t.Errorf("status %+v", st)
	}
	// A pod below the partition deleted by hand comes back at the current revision.
	c.removePod("db-0")
	c.events = nil
	c.settle(2)
	if diff := cmp.Diff([]string{"create db-0 v1"}, c.events); diff != "" {
		t.Errorf("recreated below the partition (-want +got):\n%s", diff)
	}

	c.set.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
	c.set.Spec.Template = template("v3")
	c.events = nil
	c.settle(4)
	if len(c.events) != 0 {
		t.Errorf("OnDelete replaced pods: %v", c.events)
	}
	c.removePod("db-1")
	c.settle(2)
	if diff := cmp.Diff([]string{"create db-1 v3"}, c.events); diff != "" {
		t.Errorf("OnDelete, a pod deleted by hand (-want +got):\n%s", diff)
	}
}

func (c *setCluster) removePod(name string) {
	for i, p := range c.pods {
		if p.Pod.Name == name {
			c.pods = append(c.pods[:i], c.pods[i+1:]...)
			return
		}
	}
}

func TestStatefulSetReplacesFinishedAndReleasesClaims(t *testing.T) {
	set := testSet(2, "v1")
	set.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{WhenScaled: appsv1.DeletePersistentVolumeClaimRetentionPolicyType}
	c := newSetCluster(set)
	c.settle(4)
	c.pods[0].Pod.Status.Phase = corev1.PodFailed
	c.events = nil
	c.settle(2)
	if diff := cmp.Diff([]string{"delete db-0", "create db-0 v1"}, c.events); diff != "" {
		t.Errorf("failed pod (-want +got):\n%s", diff)
	}
	c.set.Spec.Replicas = ptr(int32(1))
	c.events = nil
	c.settle(3)
	if diff := cmp.Diff([]string{"delete db-1", "release data-db-1"}, c.events); diff != "" {
		t.Errorf("scale down (-want +got):\n%s", diff)
	}
}

func TestStatefulSetOrdinalsStart(t *testing.T) {
	set := testSet(2, "v1")
	set.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: 5}
	set.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	stray := pod("db-0", corev1.PodRunning, 0)
	res := StatefulSet(set, nil, []Pod{stray, pod("db-x", corev1.PodRunning, 0)}, nil, t0)
	var created []string
	for _, p := range res.Create {
		created = append(created, p.Name+"/"+p.Labels[LabelPodIndex])
	}
	if diff := cmp.Diff([]string{"db-5/5", "db-6/6"}, created); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"db-0"}, res.Delete); diff != "" {
		t.Errorf("deleted (-want +got):\n%s", diff)
	}
}

func TestStatefulSetScaleDownWaitsForHealth(t *testing.T) {
	set := testSet(1, "v1")
	rev := StatefulSetRevision(set)
	sp := func(name string, ready bool) Pod {
		p := pod(name, corev1.PodRunning, 0)
		p.Pod.Labels = map[string]string{LabelControllerRevision: rev}
		p.Ready = ready
		return p
	}
	tests := []struct {
		name    string
		pods    []Pod
		deletes []string
	}{
		{"highest first, one at a time", []Pod{sp("db-0", true), sp("db-1", true), sp("db-2", true)}, []string{"db-2"}},
		{"an unhealthy pod below waits", []Pod{sp("db-0", false), sp("db-1", true), sp("db-2", true)}, nil},
		{"the unhealthy one may go first", []Pod{sp("db-0", true), sp("db-1", true), sp("db-2", false)}, []string{"db-2"}},
		{"one stopping: wait", []Pod{sp("db-0", true), sp("db-1", true), {Pod: sp("db-2", true).Pod, Deleting: true}}, nil},
	}
	for _, tt := range tests {
		res := StatefulSet(set, nil, tt.pods, nil, t0)
		if diff := cmp.Diff(tt.deletes, res.Delete); diff != "" {
			t.Errorf("%s: deletes (-want +got):\n%s", tt.name, diff)
		}
	}
	set.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	res := StatefulSet(set, nil, []Pod{sp("db-0", false), sp("db-1", true), sp("db-2", true)}, nil, t0)
	if diff := cmp.Diff([]string{"db-2", "db-1"}, res.Delete); diff != "" {
		t.Errorf("Parallel: deletes (-want +got):\n%s", diff)
	}
}
