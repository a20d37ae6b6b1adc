package runner

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	kc "github.com/podrun/podrun/kube/controllers"
	"github.com/podrun/podrun/runner/supervise"
)

// deployEnv is a supervisor's Env in memory: its owned objects, its pods
// (Running and Ready once created), and what the controller did.
type deployEnv struct {
	now     time.Time
	owned   map[string][]byte // by name
	pods    []corev1.Pod
	status  json.RawMessage
	events  []string
	created []string
	deleted []string
	failing error // CreatePods's error, when set
}

func (f *deployEnv) Pods() []corev1.Pod { return f.pods }
func (f *deployEnv) Now() time.Time     { return f.now }
func (f *deployEnv) CreatePods(_ context.Context, pods ...*corev1.Pod) error {
	if f.failing != nil {
		return f.failing
	}
	for _, p := range pods {
		p := p.DeepCopy()
		p.UID = types.UID("pod-" + p.Name)
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(f.now)}}
		f.pods = append(f.pods, *p)
		f.created = append(f.created, p.Name)
	}
	return nil
}
func (f *deployEnv) DeletePods(_ context.Context, names ...string) error {
	for _, n := range names {
		for i := range f.pods {
			if f.pods[i].Name == n {
				f.pods = append(f.pods[:i], f.pods[i+1:]...)
				break
			}
		}
	}
	f.deleted = append(f.deleted, names...)
	return nil
}
func (f *deployEnv) SetStatus(status any) error {
	data, err := json.Marshal(status)
	f.status = data
	return err
}
func (f *deployEnv) Event(typ, reason, message string) {
	f.events = append(f.events, reason+": "+message)
}
func (f *deployEnv) PutOwned(_ context.Context, kind, name string, obj any) ([]byte, error) {
	data, _, err := supervise.Stamp(f.owned[name], obj, f.now)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	json.Unmarshal(data, &m)
	raw, _ := json.Marshal(obj)
	var o map[string]any
	json.Unmarshal(raw, &o)
	if st, ok := o["status"]; ok {
		m["status"] = st
	}
	data, _ = json.Marshal(m)
	f.owned[name] = data
	return data, nil
}
func (f *deployEnv) DeleteOwned(_ context.Context, kind, name string) error {
	delete(f.owned, name)
	return nil
}

func (f *deployEnv) workload(t *testing.T, d *appsv1.Deployment) *supervise.Workload {
	obj, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := supervise.NewKey("deployment", d.Namespace, d.Name)
	w := &supervise.Workload{Key: k, UID: string(d.UID), Object: obj, Status: f.status}
	for name, data := range f.owned {
		var meta metav1.PartialObjectMetadata
		json.Unmarshal(data, &meta)
		w.Owned = append(w.Owned, supervise.OwnedObject{Kind: OwnedReplicaSet, Name: name, UID: string(meta.UID), Object: data})
	}
	return w
}

// TestDeploymentSync: the glue carries the Deployment controller out over
// steps: a ReplicaSet stored with its uid, pods named after it and owned
// by it, a status; then a step that changes nothing; then a new template
// rolled out one pod at a time.
func TestDeploymentSync(t *testing.T) {
	three := int32(3)
	surge, unavailable := intstr.FromInt32(1), intstr.FromInt32(0)
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "d-1", Generation: 1},
		Spec: appsv1.DeploymentSpec{
			Replicas: &three,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "nginx:1"}}},
			},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavailable}},
			RevisionHistoryLimit:    deployPtr(int32(10)),
			ProgressDeadlineSeconds: deployPtr(int32(600)),
		},
	}
	f := &deployEnv{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), owned: map[string][]byte{}}
	step := func() {
		t.Helper()
		f.now = f.now.Add(time.Second)
		if _, err := (deploymentController{}).Sync(context.Background(), f.workload(t, d), f); err != nil {
			t.Fatal(err)
		}
	}
	step()
	if len(f.owned) != 1 || len(f.created) != 3 {
		t.Fatalf("first step: owned %d, created %v", len(f.owned), f.created)
	}
	var rs appsv1.ReplicaSet
	for _, data := range f.owned {
		json.Unmarshal(data, &rs)
	}
	hash := rs.Labels[kc.LabelPodTemplateHash]
	for _, p := range f.pods {
		if !regexp.MustCompile(`^web-`+hash+`-\w{5}$`).MatchString(p.Name) || p.OwnerReferences[0].UID != rs.UID || rs.UID == "" {
			t.Errorf("pod %s owned by %+v; want web-%s-<5> owned by %s", p.Name, p.OwnerReferences, hash, rs.UID)
		}
	}
	step() // counts the ready pods
	var st appsv1.DeploymentStatus
	json.Unmarshal(f.status, &st)
	if st.ReadyReplicas != 3 || st.AvailableReplicas != 3 || st.UpdatedReplicas != 3 || st.ObservedGeneration != 1 {
		t.Errorf("status %+v", st)
	}
	before := len(f.created)
	step()
	if len(f.created) != before || len(f.deleted) != 0 {
		t.Errorf("a step with nothing to do created %v, deleted %v", f.created[before:], f.deleted)
	}

	d.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	d.Generation = 2
	for range 20 {
		step()
		if n := len(f.pods); n > 4 || n < 3 {
			t.Fatalf("%d pods during the rollout: surge 1, unavailable 0", n)
		}
	}
	if len(f.created) != before+3 || len(f.deleted) != 3 || len(f.owned) != 2 {
		t.Errorf("rollout: created %v, deleted %v, %d ReplicaSets", f.created[before:], f.deleted, len(f.owned))
	}
	json.Unmarshal(f.status, &st)
	if st.UpdatedReplicas != 3 || st.Replicas != 3 || st.ObservedGeneration != 2 {
		t.Errorf("after the rollout: %+v", st)
	}
}

// TestDeploymentSyncFailing: pods that cannot start fail the step, but
// the Deployment's status is recorded all the same.
func TestDeploymentSyncFailing(t *testing.T) {
	one := int32(1)
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "d-1", Generation: 1},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "nginx:1"}}},
			},
			ProgressDeadlineSeconds: deployPtr(int32(600)),
		},
	}
	f := &deployEnv{now: time.Now(), owned: map[string][]byte{}, failing: errors.New("port 80 is in use")}
	_, err := (deploymentController{}).Sync(context.Background(), f.workload(t, d), f)
	if err == nil || !strings.Contains(err.Error(), "port 80 is in use") {
		t.Errorf("Sync: %v", err)
	}
	var st appsv1.DeploymentStatus
	if json.Unmarshal(f.status, &st) != nil || st.ObservedGeneration != 1 || len(st.Conditions) == 0 {
		t.Errorf("status %s", f.status)
	}
}

func deployPtr[T any](v T) *T { return &v }
