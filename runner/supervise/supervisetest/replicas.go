// Package supervisetest holds a workload controller for tests only: it
// keeps Replicas pods of a template alive, nothing more, so that the
// supervisor's mechanics can be proven end to end before the real kinds'
// controllers (kube/controllers) are plugged in. podrun offers its kind
// only when Env is set to "1"; leave it unset.
package supervisetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podrun/podrun/runner/supervise"
)

// Env gates the test-only kind in the podrun binary.
const Env = "PODRUN_TEST_WORKLOADS"

// Kind is the test kind's name in the workload store.
const Kind = "testreplicas"

// Object is the test kind: apiVersion test.podrun.io/v1, kind TestReplicas.
type Object struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              Spec   `json:"spec"`
	Status            Status `json:"status,omitzero"`
}

// Spec says how many pods of the template to keep.
type Spec struct {
	Replicas int                    `json:"replicas"`
	Template corev1.PodTemplateSpec `json:"template"`
}

// Status counts the pods.
type Status struct {
	Replicas           int   `json:"replicas"`
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// Replicas is the test controller.
type Replicas struct{}

// Sync creates the pods missing, named <name>-<5 random characters>, and
// deletes the surplus, newest first; pods being deleted or finished do not
// count.
func (Replicas) Sync(ctx context.Context, w *supervise.Workload, env supervise.Env) (time.Duration, error) {
	var obj Object
	if err := w.Decode(&obj); err != nil {
		return 0, err
	}
	var active []corev1.Pod
	taken := map[string]bool{}
	for _, p := range env.Pods() {
		taken[p.Name] = true
		if p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			active = append(active, p)
		}
	}
	if err := env.SetStatus(Status{Replicas: len(active), ObservedGeneration: obj.Generation}); err != nil {
		return 0, err
	}
	switch diff := obj.Spec.Replicas - len(active); {
	case diff > 0:
		var pods []*corev1.Pod
		for range diff {
			pods = append(pods, newPod(&obj, taken))
		}
		env.Event("Normal", "SuccessfulCreate", fmt.Sprintf("Created %d pods", len(pods)))
		return 0, env.CreatePods(ctx, pods...)
	case diff < 0:
		var names []string
		for i := len(active) - 1; i >= len(active)+diff; i-- {
			names = append(names, active[i].Name)
		}
		env.Event("Normal", "SuccessfulDelete", fmt.Sprintf("Deleted %d pods", len(names)))
		return 0, env.DeletePods(ctx, names...)
	}
	return 0, nil
}

func newPod(obj *Object, taken map[string]bool) *corev1.Pod {
	name := obj.Name + "-" + suffix()
	for taken[name] {
		name = obj.Name + "-" + suffix()
	}
	taken[name] = true
	t := obj.Spec.Template.DeepCopy()
	yes := true
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: obj.Namespace, Labels: t.Labels, Annotations: t.Annotations,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "test.podrun.io/v1", Kind: "TestReplicas", Name: obj.Name, UID: obj.UID,
				Controller: &yes, BlockOwnerDeletion: &yes,
			}},
		},
		Spec: t.Spec,
	}
}

const alphabet = "bcdfghjklmnpqrstvwxz2456789"

func suffix() string {
	b := make([]byte, 5)
	for i := range b {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[n.Int64()]
	}
	return string(b)
}
