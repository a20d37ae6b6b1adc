package controllers

import (
	"sort"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DeploymentResult is one step of the Deployment controller.
type DeploymentResult struct {
	// Deployment is the deployment with its new status and revision
	// annotation, to store.
	Deployment *appsv1.Deployment
	// Create holds a new ReplicaSet, named, labelled and owned; Update the
	// ReplicaSets whose replicas or annotations changed; Delete the names
	// of old ReplicaSets past revisionHistoryLimit.
	Create []*appsv1.ReplicaSet
	Update []*appsv1.ReplicaSet
	Delete []string
	// RequeueAt is when to decide again though no pod changes: when a
	// pod becomes available after minReadySeconds, or when the progress
	// deadline passes. Zero for never.
	RequeueAt time.Time
}

// deploymentSync is the working state of one step.
type deploymentSync struct {
	d       *appsv1.Deployment
	now     time.Time
	rses    []*appsv1.ReplicaSet // owned, oldest first, status counted from pods
	pods    map[*appsv1.ReplicaSet][]Pod
	changed map[*appsv1.ReplicaSet]bool
	created *appsv1.ReplicaSet
	deleted []string
	next    time.Time
}

// Deployment is one sync of the Deployment controller. rses are the
// ReplicaSets (those d does not own are ignored) and pods the pods they own,
// terminal and deleting ones included: the ReplicaSets' statuses are
// counted from them, so a supervisor need not store them first. It finds
// or creates the ReplicaSet of the current template, scales on a change of
// replicas (proportionally during a rollout), rolls out by the strategy,
// deletes history past revisionHistoryLimit once the rollout is complete,
// and computes the status with the Available and Progressing conditions.
// The supervisor then runs ReplicaSet for each ReplicaSet.
func Deployment(d *appsv1.Deployment, rses []*appsv1.ReplicaSet, pods []Pod, now time.Time) DeploymentResult {
	s := newDeploymentSync(d, rses, pods, now)
	switch {
	case s.d.DeletionTimestamp != nil:
		newRS, old := s.replicaSets(false)
		s.syncStatus(append(old, newRS), newRS)
	case s.d.Spec.Paused:
		s.pausedCondition()
		s.scaleOnly()
	default:
		s.pausedCondition()
		if s.isScalingEvent() {
			s.scaleOnly()
		} else if s.d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
			s.rolloutRecreate()
		} else {
			s.rolloutRolling()
		}
	}
	return s.result()
}

func newDeploymentSync(d *appsv1.Deployment, rses []*appsv1.ReplicaSet, pods []Pod, now time.Time) *deploymentSync {
	s := &deploymentSync{d: d.DeepCopy(), now: now, pods: map[*appsv1.ReplicaSet][]Pod{}, changed: map[*appsv1.ReplicaSet]bool{}}
	for _, rs := range rses {
		if !ownedBy(&rs.ObjectMeta, "Deployment", &d.ObjectMeta) {
			continue
		}
		rs = rs.DeepCopy()
		for _, p := range pods {
			if ownedBy(&p.Pod.ObjectMeta, "ReplicaSet", &rs.ObjectMeta) {
				s.pods[rs] = append(s.pods[rs], p)
			}
		}
		var next time.Time
		rs.Status, next = ReplicaSetStatus(rs, s.pods[rs], now)
		s.next = earliest(s.next, next)
		s.rses = append(s.rses, rs)
	}
	sortByCreation(s.rses)
	return s
}

func (s *deploymentSync) result() DeploymentResult {
	res := DeploymentResult{Deployment: s.d, Delete: s.deleted, RequeueAt: s.next}
	if s.created != nil {
		res.Create = []*appsv1.ReplicaSet{s.created}
	}
	for _, rs := range s.rses {
		if s.changed[rs] && rs != s.created {
			res.Update = append(res.Update, rs)
		}
	}
	return res
}

// sortByCreation sorts ReplicaSets oldest first, then by name, as the
// controller's ReplicaSetsByCreationTimestamp does.
func sortByCreation(rses []*appsv1.ReplicaSet) {
	sort.SliceStable(rses, func(i, j int) bool {
		a, b := rses[i], rses[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
}

// EqualIgnoreHash reports whether two pod templates are the same but for
// their pod-template-hash labels: how the controller finds the ReplicaSet
// of a Deployment's template.
func EqualIgnoreHash(a, b *corev1.PodTemplateSpec) bool {
	a, b = a.DeepCopy(), b.DeepCopy()
	delete(a.Labels, LabelPodTemplateHash)
	delete(b.Labels, LabelPodTemplateHash)
	if len(a.Labels) == 0 {
		a.Labels = nil
	}
	if len(b.Labels) == 0 {
		b.Labels = nil
	}
	return apiequality.Semantic.DeepEqual(a, b)
}

// revision is a ReplicaSet's revision annotation, 0 when absent or bad.
func revision(meta *metav1.ObjectMeta) int64 {
	v, err := strconv.ParseInt(meta.Annotations[AnnotationRevision], 10, 64)
	if err != nil {
		return 0
	}
	return v
}

// replicaSets splits the owned ReplicaSets into the new one (of the
// current template; created when create is set and there is none) and the
// old ones, and syncs the revision annotations, as the controller's
// getAllReplicaSetsAndSyncRevision does.
func (s *deploymentSync) replicaSets(create bool) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet) {
	var newRS *appsv1.ReplicaSet
	var old []*appsv1.ReplicaSet
	for _, rs := range s.rses {
		if newRS == nil && EqualIgnoreHash(&rs.Spec.Template, &s.d.Spec.Template) {
			newRS = rs
		} else {
			old = append(old, rs)
		}
	}
	var maxOld int64
	for _, rs := range old {
		maxOld = max(maxOld, revision(&rs.ObjectMeta))
	}
	newRevision := strconv.FormatInt(maxOld+1, 10)
	switch {
	case newRS != nil:
		changed := s.setNewRSAnnotations(newRS, newRevision, true)
		if newRS.Spec.MinReadySeconds != s.d.Spec.MinReadySeconds {
			newRS.Spec.MinReadySeconds, changed = s.d.Spec.MinReadySeconds, true
		}
		s.changed[newRS] = s.changed[newRS] || changed
		s.setRevision(newRS.Annotations[AnnotationRevision])
		if hasProgressDeadline(s.d) && condition(s.d.Status.Conditions, appsv1.DeploymentProgressing) == nil {
			s.setCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonFoundNewRS, "Found new replica set \""+newRS.Name+"\"")
		}
	case create:
		newRS = s.createReplicaSet(newRevision)
	}
	return newRS, old
}

// createReplicaSet builds the ReplicaSet of the current template, moving
// the collision count on while its name is taken by another template.
func (s *deploymentSync) createReplicaSet(newRevision string) *appsv1.ReplicaSet {
	d := s.d
	var hash string
	for {
		hash = TemplateHash(&d.Spec.Template, d.Status.CollisionCount)
		if !s.nameTaken(ReplicaSetName(d.Name, hash)) {
			break
		}
		c := int32(0)
		if d.Status.CollisionCount != nil {
			c = *d.Status.CollisionCount + 1
		}
		d.Status.CollisionCount = &c
	}
	template := *d.Spec.Template.DeepCopy()
	template.Labels = withLabel(template.Labels, LabelPodTemplateHash, hash)
	selector := d.Spec.Selector.DeepCopy()
	if selector == nil {
		selector = &metav1.LabelSelector{}
	}
	selector.MatchLabels = withLabel(selector.MatchLabels, LabelPodTemplateHash, hash)
	zero := int32(0)
	rs := &appsv1.ReplicaSet{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: metav1.ObjectMeta{
			Name: ReplicaSetName(d.Name, hash), Namespace: d.Namespace,
			Labels:            template.Labels,
			CreationTimestamp: metav1.NewTime(s.now),
			OwnerReferences:   []metav1.OwnerReference{OwnerReference("apps/v1", "Deployment", &d.ObjectMeta)},
		},
		Spec: appsv1.ReplicaSetSpec{Replicas: &zero, MinReadySeconds: d.Spec.MinReadySeconds, Selector: selector, Template: template},
	}
	replicas := newRSReplicas(d, s.rses, rs)
	rs.Spec.Replicas = &replicas
	s.setNewRSAnnotations(rs, newRevision, false)
	s.rses = append(s.rses, rs)
	s.created = rs
	s.setRevision(newRevision)
	if hasProgressDeadline(d) {
		s.setCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonNewRSCreated, "Created new replica set \""+rs.Name+"\"")
	}
	return rs
}

func (s *deploymentSync) nameTaken(name string) bool {
	for _, rs := range s.rses {
		if rs.Name == name {
			return true
		}
	}
	return false
}

func withLabel(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for key, val := range m {
		out[key] = val
	}
	out[k] = v
	return out
}

// skippedAnnotations are the Deployment's annotations not copied to its
// ReplicaSets.
var skippedAnnotations = map[string]bool{
	AnnotationLastApplied: true, AnnotationRevision: true, AnnotationRevisionHist: true,
	AnnotationDesiredReplica: true, AnnotationMaxReplicas: true,
	"deprecated.deployment.rollback.to": true,
}

// maxRevisionHistoryChars bounds the revision-history annotation, as the
// controller's default does.
const maxRevisionHistoryChars = 2000

// setNewRSAnnotations copies the Deployment's annotations to the new
// ReplicaSet and moves its revision on to newRevision when that is higher,
// keeping the revision it had in the revision history (a rollback); a
// ReplicaSet being created also gets the replicas annotations.
func (s *deploymentSync) setNewRSAnnotations(rs *appsv1.ReplicaSet, newRevision string, exists bool) bool {
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	changed := false
	for k, v := range s.d.Annotations {
		if !skippedAnnotations[k] && rs.Annotations[k] != v {
			rs.Annotations[k], changed = v, true
		}
	}
	oldRevision, had := rs.Annotations[AnnotationRevision]
	oldN, _ := strconv.ParseInt(oldRevision, 10, 64)
	newN, _ := strconv.ParseInt(newRevision, 10, 64)
	if oldN < newN {
		rs.Annotations[AnnotationRevision], changed = newRevision, true
		if had && oldRevision != "" {
			appendRevisionHistory(rs.Annotations, oldRevision)
		}
	}
	if !exists && s.setReplicasAnnotations(rs) {
		changed = true
	}
	return changed
}

func appendRevisionHistory(annotations map[string]string, revision string) {
	hist := annotations[AnnotationRevisionHist]
	if hist == "" {
		annotations[AnnotationRevisionHist] = revision
		return
	}
	revs := splitComma(hist)
	total := len(hist) + len(revision) + 1
	for total > maxRevisionHistoryChars && len(revs) > 0 {
		total -= len(revs[0]) + 1
		revs = revs[1:]
	}
	annotations[AnnotationRevisionHist] = joinComma(append(revs, revision))
}

// setReplicasAnnotations records on rs the Deployment's replicas and the
// most it may have with the surge; reports whether they changed.
func (s *deploymentSync) setReplicasAnnotations(rs *appsv1.ReplicaSet) bool {
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	desired := strconv.Itoa(int(replicas(s.d.Spec.Replicas)))
	most := strconv.Itoa(int(replicas(s.d.Spec.Replicas) + maxSurge(s.d)))
	if rs.Annotations[AnnotationDesiredReplica] == desired && rs.Annotations[AnnotationMaxReplicas] == most {
		return false
	}
	rs.Annotations[AnnotationDesiredReplica], rs.Annotations[AnnotationMaxReplicas] = desired, most
	return true
}

// setRevision sets the Deployment's revision annotation.
func (s *deploymentSync) setRevision(rev string) {
	if rev == "" || s.d.Annotations[AnnotationRevision] == rev {
		return
	}
	if s.d.Annotations == nil {
		s.d.Annotations = map[string]string{}
	}
	s.d.Annotations[AnnotationRevision] = rev
}

// scale sets rs's replicas to n and its replicas annotations; it reports
// whether the size changed.
func (s *deploymentSync) scale(rs *appsv1.ReplicaSet, n int32) bool {
	sized := replicas(rs.Spec.Replicas) != n
	annotated := s.setReplicasAnnotations(rs)
	if sized || annotated {
		rs.Spec.Replicas = &n
		s.changed[rs] = true
	}
	return sized
}
