package controllers

import (
	"math"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The reasons of a Deployment's conditions, as the controller words them.
const (
	ReasonMinimumReplicasAvailable   = "MinimumReplicasAvailable"
	ReasonMinimumReplicasUnavailable = "MinimumReplicasUnavailable"
	ReasonNewRSCreated               = "NewReplicaSetCreated"
	ReasonFoundNewRS                 = "FoundNewReplicaSet"
	ReasonRSUpdated                  = "ReplicaSetUpdated"
	ReasonNewRSAvailable             = "NewReplicaSetAvailable"
	ReasonProgressDeadlineExceeded   = "ProgressDeadlineExceeded"
	ReasonDeploymentPaused           = "DeploymentPaused"
	ReasonDeploymentResumed          = "DeploymentResumed"
)

func hasProgressDeadline(d *appsv1.Deployment) bool {
	return d.Spec.ProgressDeadlineSeconds != nil && *d.Spec.ProgressDeadlineSeconds != math.MaxInt32
}

func condition(conds []appsv1.DeploymentCondition, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}

// setCondition sets a condition of the Deployment as the controller's
// SetDeploymentCondition does: one with the same status and reason is
// left alone, and the transition time is kept while the status is.
func (s *deploymentSync) setCondition(t appsv1.DeploymentConditionType, status corev1.ConditionStatus, reason, message string) {
	now := metav1.NewTime(s.now)
	c := appsv1.DeploymentCondition{Type: t, Status: status, Reason: reason, Message: message, LastUpdateTime: now, LastTransitionTime: now}
	setDeploymentCondition(&s.d.Status, c)
}

func setDeploymentCondition(st *appsv1.DeploymentStatus, c appsv1.DeploymentCondition) {
	cur := condition(st.Conditions, c.Type)
	if cur != nil && cur.Status == c.Status && cur.Reason == c.Reason {
		return
	}
	if cur != nil && cur.Status == c.Status {
		c.LastTransitionTime = cur.LastTransitionTime
	}
	removeCondition(st, c.Type)
	st.Conditions = append(st.Conditions, c)
}

func removeCondition(st *appsv1.DeploymentStatus, t appsv1.DeploymentConditionType) {
	var kept []appsv1.DeploymentCondition
	for _, c := range st.Conditions {
		if c.Type != t {
			kept = append(kept, c)
		}
	}
	st.Conditions = kept
}

// pausedCondition marks a paused Deployment's progress Unknown, and a
// resumed one's, as the controller's checkPausedConditions does.
func (s *deploymentSync) pausedCondition() {
	if !hasProgressDeadline(s.d) {
		return
	}
	cur := condition(s.d.Status.Conditions, appsv1.DeploymentProgressing)
	if cur != nil && cur.Reason == ReasonProgressDeadlineExceeded {
		return
	}
	paused := cur != nil && cur.Reason == ReasonDeploymentPaused
	switch {
	case s.d.Spec.Paused && !paused:
		s.setCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, ReasonDeploymentPaused, "Deployment is paused")
	case !s.d.Spec.Paused && paused:
		s.setCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, ReasonDeploymentResumed, "Deployment is resumed")
	}
}

// calculateStatus counts the Deployment's status from its ReplicaSets and
// sets its Available condition.
func (s *deploymentSync) calculateStatus(all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) appsv1.DeploymentStatus {
	st := appsv1.DeploymentStatus{
		ObservedGeneration: s.d.Generation,
		CollisionCount:     s.d.Status.CollisionCount,
		Conditions:         append([]appsv1.DeploymentCondition(nil), s.d.Status.Conditions...),
	}
	for _, rs := range all {
		st.Replicas += rs.Status.Replicas
		st.ReadyReplicas += rs.Status.ReadyReplicas
		st.AvailableReplicas += rs.Status.AvailableReplicas
	}
	if newRS != nil {
		st.UpdatedReplicas = newRS.Status.Replicas
	}
	st.UnavailableReplicas = max(replicas(s.d.Spec.Replicas)-st.AvailableReplicas, 0)
	now := metav1.NewTime(s.now)
	c := appsv1.DeploymentCondition{Type: appsv1.DeploymentAvailable, LastUpdateTime: now, LastTransitionTime: now}
	if st.AvailableReplicas >= replicas(s.d.Spec.Replicas)-maxUnavailable(s.d) {
		c.Status, c.Reason, c.Message = corev1.ConditionTrue, ReasonMinimumReplicasAvailable, "Deployment has minimum availability."
	} else {
		c.Status, c.Reason, c.Message = corev1.ConditionFalse, ReasonMinimumReplicasUnavailable, "Deployment does not have minimum availability."
	}
	setDeploymentCondition(&st, c)
	return st
}

// syncStatus stores the counted status.
func (s *deploymentSync) syncStatus(all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) {
	s.d.Status = s.calculateStatus(all, newRS)
}

// rolloutStatus stores the counted status with the Progressing condition:
// NewReplicaSetAvailable once complete, ReplicaSetUpdated while the counts
// move, ProgressDeadlineExceeded when they have not moved for
// progressDeadlineSeconds; and when to look again for that deadline.
func (s *deploymentSync) rolloutStatus(all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) {
	st := s.calculateStatus(all, newRS)
	if !hasProgressDeadline(s.d) {
		removeCondition(&st, appsv1.DeploymentProgressing)
	}
	cur := condition(s.d.Status.Conditions, appsv1.DeploymentProgressing)
	complete := st.Replicas == st.UpdatedReplicas && cur != nil && cur.Reason == ReasonNewRSAvailable
	if hasProgressDeadline(s.d) && !complete {
		what := "Deployment \"" + s.d.Name + "\""
		if newRS != nil {
			what = "ReplicaSet \"" + newRS.Name + "\""
		}
		now := metav1.NewTime(s.now)
		c := appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, LastUpdateTime: now, LastTransitionTime: now}
		switch {
		case deploymentComplete(s.d, &st):
			c.Status, c.Reason, c.Message = corev1.ConditionTrue, ReasonNewRSAvailable, what+" has successfully progressed."
			setDeploymentCondition(&st, c)
		case deploymentProgressing(s.d, &st):
			c.Status, c.Reason, c.Message = corev1.ConditionTrue, ReasonRSUpdated, what+" is progressing."
			if cur != nil && cur.Status == corev1.ConditionTrue {
				c.LastTransitionTime = cur.LastTransitionTime
			}
			removeCondition(&st, appsv1.DeploymentProgressing)
			st.Conditions = append(st.Conditions, c)
		case s.timedOut(&st):
			c.Status, c.Reason, c.Message = corev1.ConditionFalse, ReasonProgressDeadlineExceeded, what+" has timed out progressing."
			setDeploymentCondition(&st, c)
		}
	}
	s.d.Status = st
	s.requeueStuck(cur, &st)
}

// requeueStuck asks to be called again when the progress deadline passes.
func (s *deploymentSync) requeueStuck(cur *appsv1.DeploymentCondition, st *appsv1.DeploymentStatus) {
	if !hasProgressDeadline(s.d) || cur == nil || deploymentComplete(s.d, st) || cur.Reason == ReasonProgressDeadlineExceeded {
		return
	}
	c := condition(st.Conditions, appsv1.DeploymentProgressing)
	if c == nil {
		return
	}
	at := c.LastUpdateTime.Add(seconds(*s.d.Spec.ProgressDeadlineSeconds)).Add(time.Second)
	s.next = earliest(s.next, at)
}

// deploymentComplete reports whether every replica is updated and
// available, and no old one is left.
func deploymentComplete(d *appsv1.Deployment, st *appsv1.DeploymentStatus) bool {
	n := replicas(d.Spec.Replicas)
	return st.UpdatedReplicas == n && st.Replicas == n && st.AvailableReplicas == n && st.ObservedGeneration >= d.Generation
}

// deploymentProgressing reports whether the rollout moved since the stored
// status: more updated, fewer old, more ready or more available pods.
func deploymentProgressing(d *appsv1.Deployment, st *appsv1.DeploymentStatus) bool {
	old := d.Status
	return st.UpdatedReplicas > old.UpdatedReplicas ||
		st.Replicas-st.UpdatedReplicas < old.Replicas-old.UpdatedReplicas ||
		st.ReadyReplicas > old.ReadyReplicas || st.AvailableReplicas > old.AvailableReplicas
}

// timedOut reports whether the Progressing condition was last updated
// more than progressDeadlineSeconds ago.
func (s *deploymentSync) timedOut(st *appsv1.DeploymentStatus) bool {
	c := condition(st.Conditions, appsv1.DeploymentProgressing)
	if !hasProgressDeadline(s.d) || c == nil || c.Reason == ReasonNewRSAvailable {
		return false
	}
	if c.Reason == ReasonProgressDeadlineExceeded {
		return true
	}
	return c.LastUpdateTime.Add(seconds(*s.d.Spec.ProgressDeadlineSeconds)).Before(s.now)
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

func parseInt32(s string) (int32, error) {
	n, err := strconv.ParseInt(s, 10, 32)
	return int32(n), err
}
