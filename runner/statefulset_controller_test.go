package runner

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	kcontrollers "github.com/podrun/podrun/kube/controllers"
	"github.com/podrun/podrun/runner/supervise"
)

// recordingEnv is a step's Env that records what a controller did.
type recordingEnv struct {
	now     time.Time
	pods    []corev1.Pod
	created []*corev1.Pod
	deleted []string
	status  json.RawMessage
	events  []string
	owned   map[string]supervise.OwnedObject
	gone    []string
}

func (e *recordingEnv) Pods() []corev1.Pod { return e.pods }
func (e *recordingEnv) Now() time.Time     { return e.now }
func (e *recordingEnv) CreatePods(_ context.Context, pods ...*corev1.Pod) error {
	e.created = append(e.created, pods...)
	return nil
}
func (e *recordingEnv) DeletePods(_ context.Context, names ...string) error {
	e.deleted = append(e.deleted, names...)
	return nil
}
func (e *recordingEnv) SetStatus(s any) error {
	var err error
	e.status, err = json.Marshal(s)
	return err
}
func (e *recordingEnv) Event(typ, reason, message string) {
	e.events = append(e.events, typ+" "+reason+" "+message)
}
func (e *recordingEnv) PutOwned(_ context.Context, kind, name string, obj any) ([]byte, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	if e.owned == nil {
		e.owned = map[string]supervise.OwnedObject{}
	}
	e.owned[kind+"/"+name] = supervise.OwnedObject{Kind: kind, Name: name, UID: "uid-" + name, Object: data}
	return data, nil
}
func (e *recordingEnv) DeleteOwned(_ context.Context, kind, name string) error {
	delete(e.owned, kind+"/"+name)
	e.gone = append(e.gone, kind+"/"+name)
	return nil
}

// next is the Env of the step after e: what e stored, the pods given,
// nothing done yet.
func (e *recordingEnv) next(pods ...corev1.Pod) *recordingEnv {
	return &recordingEnv{now: e.now.Add(time.Second), pods: pods, status: e.status, owned: e.owned}
}

// workload is the Workload a supervisor hands Sync: obj as applied, the
// status and owned objects e recorded.
func (e *recordingEnv) workload(t *testing.T, kind string, obj metav1.Object) *supervise.Workload {
	t.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := supervise.NewKey(kind, obj.GetNamespace(), obj.GetName())
	w := &supervise.Workload{Key: k, UID: string(obj.GetUID()), Object: data, Status: e.status}
	for _, o := range e.owned {
		w.Owned = append(w.Owned, o)
	}
	return w
}

// readyPod is p Running and Ready since at.
func readyPod(p *corev1.Pod, at time.Time) corev1.Pod {
	q := *p.DeepCopy()
	q.Status.Phase = corev1.PodRunning
	q.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(at)}}
	return q
}

func testStatefulSet(replicas, partition int32, image string) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "StatefulSet"},
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default", UID: "sts-uid", Generation: 1},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            &replicas,
			ServiceName:         "dbs",
			PodManagementPolicy: appsv1.OrderedReadyPodManagement,
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: &partition}},
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "db"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Image: image}}},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Mi")}},
				},
			}},
		},
	}
}

func createdNames(pods []*corev1.Pod) []string {
	var names []string
	for _, p := range pods {
		names = append(names, p.Name)
	}
	return names
}

// TestStatefulSetSync drives the glue step by step: claims through the
// runner's claim store before each pod, one ordinal at a time, the
// template's revision kept as an owned ControllerRevision, and, during a
// partitioned rollout, an ordinal below the partition made again from
// the current revision's template found there.
func TestStatefulSetSync(t *testing.T) {
	r, err := New(Config{Root: t.TempDir(), RunRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	c := statefulSetController{}.withRunner(r)
	ctx := context.Background()
	step := func(e *recordingEnv, set *appsv1.StatefulSet) {
		t.Helper()
		if _, err := c.Sync(ctx, e.workload(t, "statefulset", set), e); err != nil {
			t.Fatal(err)
		}
	}
	v1 := testStatefulSet(2, 0, "db:1")
	e := &recordingEnv{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	step(e, v1)
	if got := createdNames(e.created); !slices.Equal(got, []string{"db-0"}) {
		t.Fatalf("first step created %v", got)
	}
	db0 := e.created[0]
	if db0.Spec.Hostname != "db-0" || db0.Spec.Subdomain != "dbs" || db0.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "data-db-0" {
		t.Errorf("db-0: %+v", db0.Spec)
	}
	if n, err := r.Claims().Get("default", "data-db-0"); err != nil || !n.Bound() {
		t.Errorf("claim data-db-0: %v", err)
	}
	if len(e.owned) != 1 {
		t.Errorf("owned %v, want one revision", e.owned)
	}
	rev1 := db0.Labels[kcontrollers.LabelControllerRevision]

	e = e.next(readyPod(db0, e.now))
	step(e, v1)
	if got := createdNames(e.created); !slices.Equal(got, []string{"db-1"}) {
		t.Fatalf("second step created %v", got)
	}
	db1 := e.created[0]
	if _, err := r.Claims().Get("default", "data-db-1"); err != nil {
		t.Errorf("claim data-db-1: %v", err)
	}

	// A new template with partition 1: db-1 is replaced, db-0 is not.
	v2 := testStatefulSet(2, 1, "db:2")
	v2.Generation = 2
	e = e.next(readyPod(db0, e.now), readyPod(db1, e.now))
	step(e, v2)
	if !slices.Equal(e.deleted, []string{"db-1"}) || len(e.created) != 0 {
		t.Fatalf("rollout step: deleted %v created %v", e.deleted, createdNames(e.created))
	}
	e = e.next(readyPod(db0, e.now))
	step(e, v2)
	if got := createdNames(e.created); !slices.Equal(got, []string{"db-1"}) || e.created[0].Spec.Containers[0].Image != "db:2" {
		t.Fatalf("db-1 made again: %v", e.created)
	}
	new1 := e.created[0]
	// db-0, deleted by hand, comes back from the current revision.
	e = e.next(readyPod(new1, e.now))
	step(e, v2)
	if got := createdNames(e.created); !slices.Equal(got, []string{"db-0"}) {
		t.Fatalf("db-0 made again: %v", got)
	}
	if p := e.created[0]; p.Spec.Containers[0].Image != "db:1" || p.Labels[kcontrollers.LabelControllerRevision] != rev1 {
		t.Errorf("db-0 below the partition: image %s revision %s, want db:1 %s", p.Spec.Containers[0].Image, p.Labels[kcontrollers.LabelControllerRevision], rev1)
	}
	if len(e.owned) != 2 {
		t.Errorf("owned %v, want both revisions", e.owned)
	}
}

// TestKeepRevisions: revisions neither current nor updated go beyond
// revisionHistoryLimit, oldest first.
func TestKeepRevisions(t *testing.T) {
	set := testStatefulSet(1, 0, "db:4")
	limit := int32(1)
	set.Spec.RevisionHistoryLimit = &limit
	set.Status.CurrentRevision, set.Status.UpdateRevision = "db-3", "db-4"
	e := &recordingEnv{}
	for i, name := range []string{"db-1", "db-2", "db-3", "db-4"} {
		e.PutOwned(context.Background(), revisionKind, name, appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: name}, Revision: int64(i + 1)})
	}
	if err := keepRevisions(context.Background(), e, e.workload(t, "statefulset", set), set); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(e.gone, []string{revisionKind + "/db-1"}) {
		t.Errorf("deleted %v", e.gone)
	}
}

// TestCascadeClaims: deleting a workload takes the claims that name it
// in an ownerReference, and only those; orphaning strips the reference.
func TestCascadeClaims(t *testing.T) {
	r, err := New(Config{Root: t.TempDir(), RunRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	claim := func(ns, name, owner string) *corev1.PersistentVolumeClaim {
		c := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		if owner != "" {
			c.OwnerReferences = []metav1.OwnerReference{{Kind: "StatefulSet", Name: "db", UID: types.UID("u-" + owner)}}
		}
		return c
	}
	bind := func() {
		for _, c := range []*corev1.PersistentVolumeClaim{
			claim("default", "data-db-0", "db"), claim("default", "data-db2-0", "db2"),
			claim("default", "mine", ""), claim("other", "data-db-0", "db"),
		} {
			if _, err := r.Claims().Bind(c); err != nil {
				t.Fatal(err)
			}
		}
	}
	bind()
	if err := r.cascadeClaims("default", []string{"u-db"}, true); err != nil {
		t.Fatal(err)
	}
	n, err := r.Claims().Get("default", "data-db-0")
	if err != nil || len(n.Claim.OwnerReferences) != 0 {
		t.Errorf("orphaned claim: %v %+v", err, n)
	}
	bind()
	if err := r.cascadeClaims("default", []string{"u-db"}, false); err != nil {
		t.Fatal(err)
	}
	vols, _ := r.Claims().List()
	var left []string
	for _, v := range vols {
		left = append(left, v.Namespace+"/"+v.Name)
	}
	if want := []string{"default/data-db2-0", "default/mine", "other/data-db-0"}; !slices.Equal(left, want) {
		t.Errorf("volumes left %v, want %v", left, want)
	}
}

// TestStatefulSetSyncParallel: Parallel makes every ordinal, and its
// claim, in one step; OnDelete leaves a pod of an old revision alone.
func TestStatefulSetSyncParallel(t *testing.T) {
	r, err := New(Config{Root: t.TempDir(), RunRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	c := statefulSetController{}.withRunner(r)
	ctx := context.Background()
	set := testStatefulSet(3, 0, "db:1")
	set.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	set.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
	e := &recordingEnv{now: time.Now()}
	if _, err := c.Sync(ctx, e.workload(t, "statefulset", set), e); err != nil {
		t.Fatal(err)
	}
	if got := createdNames(e.created); !slices.Equal(got, []string{"db-0", "db-1", "db-2"}) {
		t.Fatalf("created %v", got)
	}
	names, err := r.claimNames("default")
	if err != nil || len(names) != 3 {
		t.Errorf("claims %v: %v", names, err)
	}
	pods := make([]corev1.Pod, len(e.created))
	for i, p := range e.created {
		pods[i] = readyPod(p, e.now)
	}
	e = e.next(pods...)
	set.Spec.Template.Spec.Containers[0].Image = "db:2"
	if _, err := c.Sync(ctx, e.workload(t, "statefulset", set), e); err != nil {
		t.Fatal(err)
	}
	if len(e.created) != 0 || len(e.deleted) != 0 {
		t.Errorf("OnDelete: created %v, deleted %v", createdNames(e.created), e.deleted)
	}
}

// TestClaimOwners: a retention policy changed on an existing set is
// carried to its claims: whenDeleted Delete makes them name the set,
// Retain takes that away, and other owners stay.
func TestClaimOwners(t *testing.T) {
	r, err := New(Config{Root: t.TempDir(), RunRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	set := testStatefulSet(2, 0, "db:1")
	other := metav1.OwnerReference{Kind: "Thing", Name: "t", UID: "other"}
	for _, name := range []string{"data-db-0", "data-db-1", "data-db-2"} {
		c := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, OwnerReferences: []metav1.OwnerReference{other}}}
		if _, err := r.Claims().Bind(c); err != nil {
			t.Fatal(err)
		}
	}
	owners := func(name string) []string {
		n, err := r.Claims().Get("default", name)
		if err != nil {
			t.Fatal(err)
		}
		var uids []string
		for _, ref := range n.Claim.OwnerReferences {
			uids = append(uids, string(ref.UID))
		}
		return uids
	}
	set.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
		WhenDeleted: appsv1.DeletePersistentVolumeClaimRetentionPolicyType, WhenScaled: appsv1.RetainPersistentVolumeClaimRetentionPolicyType}
	if err := r.claimOwners(set); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]string{"data-db-0": {"other", "sts-uid"}, "data-db-1": {"other", "sts-uid"}, "data-db-2": {"other"}} {
		if got := owners(name); !slices.Equal(got, want) {
			t.Errorf("%s owned by %v, want %v", name, got, want)
		}
	}
	set.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	if err := r.claimOwners(set); err != nil {
		t.Fatal(err)
	}
	if got := owners("data-db-0"); !slices.Equal(got, []string{"other"}) {
		t.Errorf("data-db-0 owned by %v after Retain", got)
	}
}
