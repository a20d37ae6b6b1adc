package controllers

import (
	"maps"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// BurstReplicas is the most pods the ReplicaSet controller creates or
// deletes in one sync.
const BurstReplicas = 500

// PodActions are the pods to create, named and owned, and the names of the
// pods to delete, in the order they should go.
type PodActions struct {
	Create []*corev1.Pod
	Delete []string
}

// ReplicaSetResult is one step of the ReplicaSet controller.
type ReplicaSetResult struct {
	PodActions
	Status appsv1.ReplicaSetStatus
	// RequeueAt is when to decide again though nothing changes: when a
	// ready pod becomes available after minReadySeconds. Zero for never.
	RequeueAt time.Time
}

// ReplicaSet is one sync of the ReplicaSet controller: with pods, the pods
// rs owns (terminal and deleting ones included), it creates the pods
// missing from spec.replicas or deletes the surplus, ranked as the
// controller ranks them, and returns rs's status, counted before the
// actions, as the controller counts it.
func ReplicaSet(rs *appsv1.ReplicaSet, pods []Pod, now time.Time, r Rand) ReplicaSetResult {
	var res ReplicaSetResult
	var active []*Pod
	for i := range pods {
		if pods[i].active() {
			active = append(active, &pods[i])
		}
	}
	want := int(replicas(rs.Spec.Replicas))
	switch diff := len(active) - want; {
	case diff < 0:
		taken := podNames(pods)
		owner := OwnerReference("apps/v1", "ReplicaSet", &rs.ObjectMeta)
		for range min(-diff, BurstReplicas) {
			name := GenerateName(rs.Name+"-", r, taken)
			taken[name] = true
			res.Create = append(res.Create, podFromTemplate(&rs.Spec.Template, rs.Namespace, name, owner))
		}
	case diff > 0:
		res.Delete = toDelete(active, min(diff, BurstReplicas))
	}
	res.Status, res.RequeueAt = ReplicaSetStatus(rs, pods, now)
	return res
}

// ReplicaSetStatus is the status the ReplicaSet controller writes for rs
// owning pods: its active pods, those carrying all the template's labels,
// the ready ones and those available for minReadySeconds; its conditions
// are kept. The time returned is when the next ready pod becomes
// available, zero for none.
func ReplicaSetStatus(rs *appsv1.ReplicaSet, pods []Pod, now time.Time) (appsv1.ReplicaSetStatus, time.Time) {
	st := appsv1.ReplicaSetStatus{ObservedGeneration: rs.Generation, Conditions: rs.Status.Conditions}
	templateLabels := labels.Set(rs.Spec.Template.Labels).AsSelectorPreValidated()
	var next time.Time
	for i := range pods {
		p := &pods[i]
		if !p.active() {
			continue
		}
		st.Replicas++
		if templateLabels.Matches(labels.Set(p.Pod.Labels)) {
			st.FullyLabeledReplicas++
		}
		if p.Ready {
			st.ReadyReplicas++
		}
		if p.available(rs.Spec.MinReadySeconds, now) {
			st.AvailableReplicas++
		}
		next = earliest(next, p.availableAt(rs.Spec.MinReadySeconds, now))
	}
	return st, next
}

// replicas is a spec.replicas, defaulted to 1 as the API server does.
func replicas(n *int32) int32 {
	if n == nil {
		return 1
	}
	return *n
}

// ReplicaSetAdoptions are the orphans (pods no controller owns) a
// Deployment's ReplicaSet adopts, as the controller claims the pods its
// selector matches: each running one whose pod-template-hash is the
// set's, and so made from its template, returned as the pod to make again
// under its own name, with its labels and annotations, the template's
// spec and the set's ownerReference. Made again with the same spec, a
// running pod is adopted, not replaced; surplus pods are then deleted as
// any. A standalone ReplicaSet, without a pod-template-hash, adopts none:
// nothing tells that an orphan's spec is its template's.
func ReplicaSetAdoptions(rs *appsv1.ReplicaSet, orphans []corev1.Pod) []*corev1.Pod {
	hash := rs.Labels[LabelPodTemplateHash]
	sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if hash == "" || err != nil || sel.Empty() {
		return nil
	}
	var out []*corev1.Pod
	for _, o := range orphans {
		if metav1.GetControllerOfNoCopy(&o) != nil || o.DeletionTimestamp != nil || o.Namespace != rs.Namespace ||
			o.Status.Phase == corev1.PodSucceeded || o.Status.Phase == corev1.PodFailed ||
			!sel.Matches(labels.Set(o.Labels)) || o.Labels[LabelPodTemplateHash] != hash {
			continue
		}
		p := podFromTemplate(&rs.Spec.Template, rs.Namespace, o.Name, OwnerReference("apps/v1", "ReplicaSet", &rs.ObjectMeta))
		p.Labels, p.Annotations = maps.Clone(o.Labels), maps.Clone(o.Annotations)
		out = append(out, p)
	}
	return out
}
