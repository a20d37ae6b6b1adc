package controllers

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func testDeployment(n int32, image string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", Generation: 1},
		Spec: appsv1.DeploymentSpec{
			Replicas:                &n,
			Selector:                &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template:                template(image),
			Strategy:                appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType},
			RevisionHistoryLimit:    ptr(int32(10)),
			ProgressDeadlineSeconds: ptr(int32(600)),
		},
	}
}

func withStrategy(d *appsv1.Deployment, surge, unavailable intstr.IntOrString) *appsv1.Deployment {
	d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavailable}
	return d
}

func TestFenceposts(t *testing.T) {
	i, s := intstr.FromInt32, intstr.FromString
	tests := []struct {
		name                string
		surge, unavailable  *intstr.IntOrString
		desired             int32
		wantSurge, wantUnav int32
	}{
		{"defaults of 4", nil, nil, 4, 1, 1},
		{"defaults of 10: surge rounds up, unavailable down", nil, nil, 10, 3, 2},
		{"defaults of 1", nil, nil, 1, 1, 0},
		{"numbers", ptr(i(2)), ptr(i(0)), 3, 2, 0},
		{"both zero: one unavailable", ptr(i(0)), ptr(i(0)), 3, 0, 1},
		{"both zero percent", ptr(s("0%")), ptr(s("0%")), 3, 0, 1},
		{"percent rounding", ptr(s("10%")), ptr(s("10%")), 15, 2, 1},
		{"of zero replicas", nil, nil, 0, 0, 1},
	}
	for _, tt := range tests {
		gs, gu := Fenceposts(tt.surge, tt.unavailable, tt.desired)
		if gs != tt.wantSurge || gu != tt.wantUnav {
			t.Errorf("%s: got surge %d unavailable %d, want %d %d", tt.name, gs, gu, tt.wantSurge, tt.wantUnav)
		}
	}
}

func TestDeploymentCreatesReplicaSet(t *testing.T) {
	d := testDeployment(3, "nginx:1")
	d.UID = "d-uid"
	d.Annotations = map[string]string{"team": "a", AnnotationLastApplied: "{}"}
	res := Deployment(d, nil, nil, t0)
	if len(res.Create) != 1 {
		t.Fatalf("creates %d ReplicaSets, want 1", len(res.Create))
	}
	rs := res.Create[0]
	hash := TemplateHash(&d.Spec.Template, nil)
	if rs.Name != "web-"+hash || rs.Namespace != "ns" {
		t.Errorf("name %s/%s, want ns/web-%s", rs.Namespace, rs.Name, hash)
	}
	wantLabels := map[string]string{"app": "web", LabelPodTemplateHash: hash}
	if diff := cmp.Diff(wantLabels, rs.Spec.Template.Labels); diff != "" {
		t.Errorf("template labels (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantLabels, rs.Spec.Selector.MatchLabels); diff != "" {
		t.Errorf("selector (-want +got):\n%s", diff)
	}
	if d.Spec.Selector.MatchLabels[LabelPodTemplateHash] != "" || d.Spec.Template.Labels[LabelPodTemplateHash] != "" {
		t.Errorf("the Deployment passed in was changed")
	}
	wantAnn := map[string]string{"team": "a", AnnotationRevision: "1", AnnotationDesiredReplica: "3", AnnotationMaxReplicas: "4"}
	if diff := cmp.Diff(wantAnn, rs.Annotations); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
	if *rs.Spec.Replicas != 3 {
		t.Errorf("replicas %d, want 3", *rs.Spec.Replicas)
	}
	if ref := metav1.GetControllerOf(rs); ref == nil || ref.UID != "d-uid" || ref.Kind != "Deployment" || !*ref.BlockOwnerDeletion {
		t.Errorf("owner %+v", rs.OwnerReferences)
	}
	if res.Deployment.Annotations[AnnotationRevision] != "1" {
		t.Errorf("deployment revision %q, want 1", res.Deployment.Annotations[AnnotationRevision])
	}
	c := condition(res.Deployment.Status.Conditions, appsv1.DeploymentProgressing)
	if c == nil || c.Reason != ReasonNewRSCreated || c.Message != `Created new replica set "web-`+hash+`"` {
		t.Errorf("Progressing = %+v", c)
	}
	if a := condition(res.Deployment.Status.Conditions, appsv1.DeploymentAvailable); a == nil || a.Status != corev1.ConditionFalse || a.Reason != ReasonMinimumReplicasUnavailable {
		t.Errorf("Available = %+v", a)
	}
}

func TestDeploymentHashCollision(t *testing.T) {
	d := testDeployment(1, "nginx:1")
	other := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-" + TemplateHash(&d.Spec.Template, nil),
			OwnerReferences: []metav1.OwnerReference{OwnerReference("apps/v1", "Deployment", &d.ObjectMeta)}},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr(int32(0)), Template: template("other")},
	}
	res := Deployment(d, []*appsv1.ReplicaSet{other}, nil, t0)
	if len(res.Create) != 1 || res.Create[0].Name == other.Name {
		t.Fatalf("creates %v", res.Create)
	}
	if cc := res.Deployment.Status.CollisionCount; cc == nil || *cc != 0 {
		t.Errorf("collisionCount %v, want 0", cc)
	}
	if want := "web-" + TemplateHash(&d.Spec.Template, ptr(int32(0))); res.Create[0].Name != want {
		t.Errorf("name %s, want %s", res.Create[0].Name, want)
	}
}

func TestDeploymentRollingUpdate(t *testing.T) {
	tests := []struct {
		name               string
		replicas           int32
		surge, unavailable intstr.IntOrString
	}{
		{"one at a time, never below replicas", 3, intstr.FromInt32(1), intstr.FromInt32(0)},
		{"defaults of 25%", 4, intstr.FromString("25%"), intstr.FromString("25%")},
		{"no surge", 3, intstr.FromInt32(0), intstr.FromInt32(1)},
		{"wide surge", 5, intstr.FromString("100%"), intstr.FromInt32(0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(t, withStrategy(testDeployment(tt.replicas, "v1"), tt.surge, tt.unavailable))
			c.run(20, nil)
			surge, unav := Fenceposts(&tt.surge, &tt.unavailable, tt.replicas)
			c.d.Spec.Template = template("v2")
			c.d.Generation++
			c.run(40, func() {
				live1, ready1 := c.podsOf("v1")
				live2, ready2 := c.podsOf("v2")
				if live1+live2 > int(tt.replicas+surge) {
					t.Fatalf("%d pods at %v, more than %d+%d", live1+live2, c.now, tt.replicas, surge)
				}
				if ready1+ready2 < int(tt.replicas-unav) {
					t.Fatalf("%d ready pods at %v, fewer than %d-%d", ready1+ready2, c.now, tt.replicas, unav)
				}
			})
			if live, ready := c.podsOf("v2"); live != int(tt.replicas) || ready != live {
				t.Errorf("v2: %d live, %d ready, want %d", live, ready, tt.replicas)
			}
			if live, _ := c.podsOf("v1"); live != 0 {
				t.Errorf("v1: %d pods left", live)
			}
			if c.d.Annotations[AnnotationRevision] != "2" {
				t.Errorf("revision %q, want 2", c.d.Annotations[AnnotationRevision])
			}
			p := condition(c.d.Status.Conditions, appsv1.DeploymentProgressing)
			if p == nil || p.Reason != ReasonNewRSAvailable || p.Status != corev1.ConditionTrue {
				t.Errorf("Progressing %+v", p)
			}
			want := appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: tt.replicas, UpdatedReplicas: tt.replicas, ReadyReplicas: tt.replicas, AvailableReplicas: tt.replicas}
			got := c.d.Status
			got.Conditions = nil
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeploymentUnchangedChangesNothing(t *testing.T) {
	c := newCluster(t, testDeployment(3, "v1"))
	c.run(20, nil)
	pods := len(c.pods)
	for range 3 {
		c.step()
		if len(c.last.Create)+len(c.last.Update)+len(c.last.Delete) != 0 || len(c.pods) != pods {
			t.Fatalf("a settled Deployment acted: %+v", c.last)
		}
	}
}

func TestDeploymentRecreate(t *testing.T) {
	d := testDeployment(3, "v1")
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	c := newCluster(t, d)
	c.run(20, nil)
	c.d.Spec.Template = template("v2")
	c.d.Generation++
	c.run(20, func() {
		live1, _ := c.podsOf("v1")
		live2, _ := c.podsOf("v2")
		if live1 > 0 && live2 > 0 {
			t.Fatalf("old and new pods together at %v", c.now)
		}
		if live2 > 0 && len(c.rses) < 2 {
			t.Fatalf("new pods without a new ReplicaSet")
		}
	})
	if live, _ := c.podsOf("v2"); live != 3 {
		t.Errorf("v2: %d pods, want 3", live)
	}
}

func TestDeploymentRecreateWaitsForStoppingPods(t *testing.T) {
	d := testDeployment(1, "v2")
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	old := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-old", UID: "old",
			OwnerReferences: []metav1.OwnerReference{OwnerReference("apps/v1", "Deployment", &d.ObjectMeta)}},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr(int32(0)), Template: template("v1")},
	}
	stopping := owned(pod("web-old-x", corev1.PodRunning, 0), "ReplicaSet", "web-old")
	stopping.Deleting = true
	if res := Deployment(d, []*appsv1.ReplicaSet{old}, []Pod{stopping}, t0); len(res.Create) != 0 {
		t.Errorf("created a new ReplicaSet while an old pod stops")
	}
	stopping.Pod.Status.Phase = corev1.PodSucceeded
	if res := Deployment(d, []*appsv1.ReplicaSet{old}, []Pod{stopping}, t0); len(res.Create) != 1 || *res.Create[0].Spec.Replicas != 1 {
		t.Errorf("no new ReplicaSet once old pods finished: %+v", res.Create)
	}
}

func TestDeploymentScale(t *testing.T) {
	c := newCluster(t, testDeployment(3, "v1"))
	c.run(20, nil)
	for _, n := range []int32{5, 1, 0, 2} {
		c.d.Spec.Replicas = ptr(n)
		c.d.Generation++
		c.run(20, nil)
		if live, _ := c.podsOf("v1"); live != int(n) || len(c.rses) != 1 {
			t.Errorf("scaled to %d: %d pods, %d ReplicaSets", n, live, len(c.rses))
		}
	}
}

func TestDeploymentProportionalScaling(t *testing.T) {
	d := withStrategy(testDeployment(20, "v2"), intstr.FromInt32(3), intstr.FromInt32(2))
	d.Status.Replicas = 13
	ann := map[string]string{AnnotationDesiredReplica: "10", AnnotationMaxReplicas: "13"}
	rs := func(name, image string, n int32, created int, rev string) *appsv1.ReplicaSet {
		a := map[string]string{AnnotationRevision: rev}
		for k, v := range ann {
			a[k] = v
		}
		return &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: a, CreationTimestamp: metav1.NewTime(at(created)),
				OwnerReferences: []metav1.OwnerReference{OwnerReference("apps/v1", "Deployment", &d.ObjectMeta)}},
			Spec: appsv1.ReplicaSetSpec{Replicas: ptr(n), Template: template(image)},
		}
	}
	sizes := func(res DeploymentResult, desired, most string) map[string]int32 {
		got := map[string]int32{}
		for _, u := range res.Update {
			got[u.Name] = *u.Spec.Replicas
			if u.Annotations[AnnotationDesiredReplica] != desired || u.Annotations[AnnotationMaxReplicas] != most {
				t.Errorf("%s annotations %v", u.Name, u.Annotations)
			}
		}
		return got
	}
	// Up from 10 to 20: 10 more within the surge, shared 8:5.
	res := Deployment(d, []*appsv1.ReplicaSet{rs("web-old", "v1", 8, 0, "1"), rs("web-new", "v2", 5, 10, "2")}, nil, at(20))
	if diff := cmp.Diff(map[string]int32{"web-old": 14, "web-new": 9}, sizes(res, "20", "23")); diff != "" {
		t.Errorf("scaled up (-want +got):\n%s", diff)
	}
	// Down from 10 to 5: 5 fewer, the larger giving more.
	d.Spec.Replicas = ptr(int32(5))
	res = Deployment(d, []*appsv1.ReplicaSet{rs("web-old", "v1", 8, 0, "1"), rs("web-new", "v2", 5, 10, "2")}, nil, at(20))
	if diff := cmp.Diff(map[string]int32{"web-old": 5, "web-new": 3}, sizes(res, "5", "8")); diff != "" {
		t.Errorf("scaled down (-want +got):\n%s", diff)
	}
}

func TestRevisionHistoryAnnotation(t *testing.T) {
	a := map[string]string{}
	for _, rev := range []string{"1", "3", "5"} {
		appendRevisionHistory(a, rev)
	}
	if a[AnnotationRevisionHist] != "1,3,5" {
		t.Errorf("history %q, want 1,3,5", a[AnnotationRevisionHist])
	}
	for i := 10; i < 1000; i++ {
		appendRevisionHistory(a, itoa(int32(i)))
	}
	if h := a[AnnotationRevisionHist]; len(h) > maxRevisionHistoryChars || h[len(h)-4:] != ",999" {
		t.Errorf("history of %d characters ending %q", len(h), h[len(h)-4:])
	}
}

func TestDeploymentRevisionHistoryLimit(t *testing.T) {
	c := newCluster(t, testDeployment(1, "v1"))
	c.d.Spec.RevisionHistoryLimit = ptr(int32(1))
	c.run(20, nil)
	for _, image := range []string{"v2", "v3", "v4"} {
		c.d.Spec.Template = template(image)
		c.d.Generation++
		c.run(30, nil)
	}
	c.step()
	var revs []string
	for _, rs := range c.rses {
		revs = append(revs, rs.Annotations[AnnotationRevision]+"="+rs.Spec.Template.Spec.Containers[0].Image)
	}
	if diff := cmp.Diff([]string{"3=v3", "4=v4"}, revs); diff != "" {
		t.Errorf("ReplicaSets kept (-want +got):\n%s", diff)
	}
}

func TestDeploymentProgressDeadline(t *testing.T) {
	c := newCluster(t, testDeployment(2, "v1"))
	c.run(20, nil)
	c.notReady = "v2"
	c.d.Spec.Template = template("v2")
	c.d.Generation++
	for range 5 {
		c.step()
	}
	p := condition(c.d.Status.Conditions, appsv1.DeploymentProgressing)
	if p == nil || p.Reason != ReasonRSUpdated || p.Status != corev1.ConditionTrue {
		t.Fatalf("Progressing %+v", p)
	}
	deadline := p.LastUpdateTime.Add(600e9)
	if want := deadline.Add(1e9); !c.last.RequeueAt.Equal(want) {
		t.Errorf("RequeueAt %v, want %v", c.last.RequeueAt, want)
	}
	c.now = deadline
	c.step()
	if p := condition(c.d.Status.Conditions, appsv1.DeploymentProgressing); p.Reason == ReasonProgressDeadlineExceeded {
		t.Errorf("timed out at the deadline itself")
	}
	c.now = deadline.Add(1e9)
	c.step()
	p = condition(c.d.Status.Conditions, appsv1.DeploymentProgressing)
	if p.Reason != ReasonProgressDeadlineExceeded || p.Status != corev1.ConditionFalse || p.Message != `ReplicaSet "`+c.rses[1].Name+`" has timed out progressing.` {
		t.Errorf("Progressing %+v", p)
	}
	if a := condition(c.d.Status.Conditions, appsv1.DeploymentAvailable); a.Status != corev1.ConditionTrue {
		t.Errorf("the old pods keep it Available: %+v", a)
	}
}

func TestDeploymentPaused(t *testing.T) {
	c := newCluster(t, testDeployment(2, "v1"))
	c.run(20, nil)
	c.d.Spec.Paused = true
	c.d.Spec.Template = template("v2")
	c.step()
	if len(c.last.Create) != 0 {
		t.Errorf("a paused Deployment rolled out")
	}
	if p := condition(c.d.Status.Conditions, appsv1.DeploymentProgressing); p.Reason != ReasonDeploymentPaused || p.Status != corev1.ConditionUnknown {
		t.Errorf("Progressing %+v", p)
	}
	c.d.Spec.Paused = false
	c.run(20, nil)
	if live, _ := c.podsOf("v2"); live != 2 {
		t.Errorf("resumed: %d new pods, want 2", live)
	}
}

func TestRollbackAndRestart(t *testing.T) {
	c := newCluster(t, testDeployment(2, "v1"))
	c.run(20, nil)
	if _, err := Rollback(c.d, c.rses, 0); !errors.Is(err, ErrNoRolloutHistory) {
		t.Errorf("undo with one revision: %v", err)
	}
	c.d.Spec.Template = template("v2")
	c.d.Generation++
	c.run(20, nil)
	if _, err := Rollback(c.d, c.rses, 7); !errors.Is(err, ErrRevisionNotFound) {
		t.Errorf("undo to 7: %v", err)
	}
	if _, err := Rollback(c.d, c.rses, 2); !errors.Is(err, ErrRollbackSkipped) {
		t.Errorf("undo to the current revision: %v", err)
	}
	d, err := Rollback(c.d, c.rses, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d.Spec.Template.Spec.Containers[0].Image != "v1" || d.Spec.Template.Labels[LabelPodTemplateHash] != "" || d.Generation != c.d.Generation+1 {
		t.Fatalf("rolled back to %+v", d.Spec.Template)
	}
	c.d = d
	c.run(20, func() {
		if len(c.last.Create) != 0 {
			t.Fatalf("undo created a ReplicaSet instead of reusing revision 1's")
		}
	})
	v1 := c.rses[0]
	if v1.Annotations[AnnotationRevision] != "3" || v1.Annotations[AnnotationRevisionHist] != "1" || c.d.Annotations[AnnotationRevision] != "3" {
		t.Errorf("revision %q history %q deployment %q, want 3, 1, 3", v1.Annotations[AnnotationRevision], v1.Annotations[AnnotationRevisionHist], c.d.Annotations[AnnotationRevision])
	}
	if h := History(c.d, c.rses); len(h) != 2 || h[0].Revision != 2 || h[1].Revision != 3 {
		t.Errorf("history %+v", h)
	}

	d, err = Restart(c.d, at(99))
	if err != nil {
		t.Fatal(err)
	}
	if d.Spec.Template.Annotations[AnnotationRestartedAt] != "2026-01-02T03:05:39Z" {
		t.Errorf("restartedAt %q", d.Spec.Template.Annotations[AnnotationRestartedAt])
	}
	c.d = d
	c.run(20, nil)
	if len(c.rses) != 3 || c.d.Annotations[AnnotationRevision] != "4" {
		t.Errorf("restart: %d ReplicaSets, revision %q", len(c.rses), c.d.Annotations[AnnotationRevision])
	}
	c.d.Spec.Paused = true
	if _, err := Restart(c.d, t0); !errors.Is(err, ErrPaused) {
		t.Errorf("restart of a paused Deployment: %v", err)
	}
}
