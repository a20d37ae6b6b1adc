package controllers

import (
	"math"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Fenceposts resolves maxSurge and maxUnavailable of a rolling update
// over desired replicas as the controller does: a percentage of surge
// rounds up, of unavailable rounds down, their defaults are 25%, and when
// both come to 0 one pod may be unavailable.
func Fenceposts(surge, unavailable *intstr.IntOrString, desired int32) (int32, int32) {
	quarter := intstr.FromString("25%")
	if surge == nil {
		surge = &quarter
	}
	if unavailable == nil {
		unavailable = &quarter
	}
	s, err := intstr.GetScaledValueFromIntOrPercent(surge, int(desired), true)
	if err != nil {
		s = 0
	}
	u, err := intstr.GetScaledValueFromIntOrPercent(unavailable, int(desired), false)
	if err != nil {
		u = 0
	}
	if s == 0 && u == 0 {
		u = 1
	}
	return int32(s), int32(u)
}

func rolling(d *appsv1.Deployment) *appsv1.RollingUpdateDeployment {
	if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		return nil
	}
	if d.Spec.Strategy.RollingUpdate == nil {
		return &appsv1.RollingUpdateDeployment{}
	}
	return d.Spec.Strategy.RollingUpdate
}

// maxSurge is how many pods over replicas a rolling update may run.
func maxSurge(d *appsv1.Deployment) int32 {
	ru := rolling(d)
	if ru == nil {
		return 0
	}
	s, _ := Fenceposts(ru.MaxSurge, ru.MaxUnavailable, replicas(d.Spec.Replicas))
	return s
}

// maxUnavailable is how many of replicas may be unavailable during a
// rolling update, never more than replicas.
func maxUnavailable(d *appsv1.Deployment) int32 {
	ru := rolling(d)
	n := replicas(d.Spec.Replicas)
	if ru == nil || n == 0 {
		return 0
	}
	_, u := Fenceposts(ru.MaxSurge, ru.MaxUnavailable, n)
	return min(u, n)
}

func specReplicas(rses []*appsv1.ReplicaSet) (n int32) {
	for _, rs := range rses {
		if rs != nil {
			n += replicas(rs.Spec.Replicas)
		}
	}
	return n
}

func activeReplicaSets(rses []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	var out []*appsv1.ReplicaSet
	for _, rs := range rses {
		if rs != nil && replicas(rs.Spec.Replicas) > 0 {
			out = append(out, rs)
		}
	}
	return out
}

func nonNil(old []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	all := append([]*appsv1.ReplicaSet(nil), old...)
	if newRS != nil {
		all = append(all, newRS)
	}
	return all
}

// newRSReplicas is how many replicas the new ReplicaSet may have now: all
// of them for Recreate; for a rolling update, as many more as the surge
// allows over all ReplicaSets, up to replicas.
func newRSReplicas(d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) int32 {
	want := replicas(d.Spec.Replicas)
	if rolling(d) == nil {
		return want
	}
	current := specReplicas(all)
	most := want + maxSurge(d)
	if current >= most {
		return replicas(newRS.Spec.Replicas)
	}
	up := min(most-current, want-replicas(newRS.Spec.Replicas))
	return replicas(newRS.Spec.Replicas) + up
}

// rolloutRolling is one step of a rolling update: scale the new
// ReplicaSet up within the surge, else the old ones down within the
// unavailability, unhealthy pods first.
func (s *deploymentSync) rolloutRolling() {
	newRS, old := s.replicaSets(true)
	all := nonNil(old, newRS)
	if s.reconcileNew(all, newRS) || s.reconcileOld(all, activeReplicaSets(old), newRS) {
		s.rolloutStatus(all, newRS)
		return
	}
	if deploymentComplete(s.d, &s.d.Status) {
		s.cleanup(old)
	}
	s.rolloutStatus(all, newRS)
}

func (s *deploymentSync) reconcileNew(all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) bool {
	want := replicas(s.d.Spec.Replicas)
	switch have := replicas(newRS.Spec.Replicas); {
	case have == want:
		return false
	case have > want:
		return s.scale(newRS, want)
	}
	return s.scale(newRS, newRSReplicas(s.d, all, newRS))
}

func (s *deploymentSync) reconcileOld(all, old []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) bool {
	if specReplicas(old) == 0 {
		return false
	}
	minAvailable := replicas(s.d.Spec.Replicas) - maxUnavailable(s.d)
	newUnavailable := replicas(newRS.Spec.Replicas) - newRS.Status.AvailableReplicas
	most := specReplicas(all) - minAvailable - newUnavailable
	if most <= 0 {
		return false
	}
	cleaned := s.cleanupUnhealthy(old, most)
	return cleaned+s.scaleDownOld(all, old) > 0
}

// cleanupUnhealthy scales old ReplicaSets down by their unavailable pods,
// oldest first, up to most.
func (s *deploymentSync) cleanupUnhealthy(old []*appsv1.ReplicaSet, most int32) int32 {
	sortByCreation(old)
	var total int32
	for _, rs := range old {
		if total >= most {
			break
		}
		have := replicas(rs.Spec.Replicas)
		unhealthy := have - rs.Status.AvailableReplicas
		if have == 0 || unhealthy <= 0 {
			continue
		}
		n := min(most-total, unhealthy)
		s.scale(rs, have-n)
		total += n
	}
	return total
}

// scaleDownOld scales old ReplicaSets down, oldest first, by as many
// available pods as exceed replicas less maxUnavailable.
func (s *deploymentSync) scaleDownOld(all, old []*appsv1.ReplicaSet) int32 {
	minAvailable := replicas(s.d.Spec.Replicas) - maxUnavailable(s.d)
	var available int32
	for _, rs := range all {
		available += rs.Status.AvailableReplicas
	}
	if available <= minAvailable {
		return 0
	}
	sortByCreation(old)
	want := available - minAvailable
	var total int32
	for _, rs := range old {
		if total >= want {
			break
		}
		have := replicas(rs.Spec.Replicas)
		if have == 0 {
			continue
		}
		n := min(have, want-total)
		s.scale(rs, have-n)
		total += n
	}
	return total
}

// rolloutRecreate is one step of a Recreate rollout: scale the old
// ReplicaSets to zero, wait until none of their pods runs, then create
// and scale up the new one.
func (s *deploymentSync) rolloutRecreate() {
	newRS, old := s.replicaSets(false)
	all := nonNil(old, newRS)
	scaled := false
	for _, rs := range activeReplicaSets(old) {
		scaled = s.scale(rs, 0) || scaled
	}
	if scaled || s.oldPodsRunning(old) {
		s.rolloutStatus(all, newRS)
		return
	}
	if newRS == nil {
		newRS, old = s.replicaSets(true)
		all = nonNil(old, newRS)
	}
	s.scale(newRS, replicas(s.d.Spec.Replicas))
	if deploymentComplete(s.d, &s.d.Status) {
		s.cleanup(old)
	}
	s.rolloutStatus(all, newRS)
}

// oldPodsRunning reports whether an old ReplicaSet still has a pod that
// has not finished, stopping ones included.
func (s *deploymentSync) oldPodsRunning(old []*appsv1.ReplicaSet) bool {
	for _, rs := range old {
		if rs.Status.Replicas > 0 {
			return true
		}
		for _, p := range s.pods[rs] {
			if !p.terminal() {
				return true
			}
		}
	}
	return false
}

// isScalingEvent reports whether replicas changed since the active
// ReplicaSets were last scaled: their desired-replicas annotation differs.
func (s *deploymentSync) isScalingEvent() bool {
	newRS, old := s.replicaSetsReadOnly()
	for _, rs := range activeReplicaSets(nonNil(old, newRS)) {
		desired, ok := rs.Annotations[AnnotationDesiredReplica]
		if ok && desired != itoa(replicas(s.d.Spec.Replicas)) {
			return true
		}
	}
	return false
}

// replicaSetsReadOnly splits the ReplicaSets as replicaSets does, changing
// nothing.
func (s *deploymentSync) replicaSetsReadOnly() (*appsv1.ReplicaSet, []*appsv1.ReplicaSet) {
	var newRS *appsv1.ReplicaSet
	var old []*appsv1.ReplicaSet
	for _, rs := range s.rses {
		if newRS == nil && EqualIgnoreHash(&rs.Spec.Template, &s.d.Spec.Template) {
			newRS = rs
		} else {
			old = append(old, rs)
		}
	}
	return newRS, old
}

// scaleOnly is the controller's sync: scale for a change of replicas or
// while paused, without rolling out, and count the status.
func (s *deploymentSync) scaleOnly() {
	newRS, old := s.replicaSets(false)
	s.scaleAll(newRS, old)
	if s.d.Spec.Paused {
		s.cleanup(old)
	}
	s.syncStatus(nonNil(old, newRS), newRS)
}

// scaleAll scales one active ReplicaSet to replicas; the old ones to zero
// once the new one is saturated; or, mid-rollout, every active one in
// proportion to its size.
func (s *deploymentSync) scaleAll(newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) {
	want := replicas(s.d.Spec.Replicas)
	if rs := activeOrLatest(newRS, old); rs != nil {
		if replicas(rs.Spec.Replicas) != want {
			s.scale(rs, want)
		}
		return
	}
	if s.saturated(newRS) {
		for _, rs := range activeReplicaSets(old) {
			s.scale(rs, 0)
		}
		return
	}
	if rolling(s.d) == nil {
		return
	}
	all := activeReplicaSets(nonNil(old, newRS))
	allowed := int32(0)
	if want > 0 {
		allowed = want + maxSurge(s.d)
	}
	toAdd := allowed - specReplicas(all)
	switch {
	case toAdd > 0:
		sort.SliceStable(all, func(i, j int) bool { return largerNewer(all[i], all[j]) })
	case toAdd < 0:
		sort.SliceStable(all, func(i, j int) bool { return largerOlder(all[i], all[j]) })
	}
	sizes := make([]int32, len(all))
	var added int32
	for i, rs := range all {
		sizes[i] = replicas(rs.Spec.Replicas)
		if toAdd != 0 {
			p := s.proportion(rs, toAdd, added)
			sizes[i] += p
			added += p
		}
	}
	for i, rs := range all {
		if i == 0 && toAdd != 0 {
			sizes[0] = max(sizes[0]+toAdd-added, 0)
		}
		s.scale(rs, sizes[i])
	}
}

func largerNewer(a, b *appsv1.ReplicaSet) bool {
	if ra, rb := replicas(a.Spec.Replicas), replicas(b.Spec.Replicas); ra != rb {
		return ra > rb
	}
	return b.CreationTimestamp.Before(&a.CreationTimestamp)
}

func largerOlder(a, b *appsv1.ReplicaSet) bool {
	if ra, rb := replicas(a.Spec.Replicas), replicas(b.Spec.Replicas); ra != rb {
		return ra > rb
	}
	return a.CreationTimestamp.Before(&b.CreationTimestamp)
}

// proportion is rs's share of toAdd replicas, by its size against the
// Deployment's size when it was last scaled (its max-replicas annotation).
func (s *deploymentSync) proportion(rs *appsv1.ReplicaSet, toAdd, added int32) int32 {
	have := replicas(rs.Spec.Replicas)
	if have == 0 || toAdd == 0 || toAdd == added {
		return 0
	}
	var fraction int32
	if want := replicas(s.d.Spec.Replicas); want == 0 {
		fraction = -have
	} else {
		annotated, err := parseInt32(rs.Annotations[AnnotationMaxReplicas])
		if err != nil || annotated == 0 {
			annotated = s.d.Status.Replicas
		}
		if annotated == 0 {
			return 0
		}
		size := float64(have) * float64(want+maxSurge(s.d)) / float64(annotated)
		fraction = int32(math.Round(size)) - have
	}
	allowed := toAdd - added
	if toAdd > 0 {
		return min(fraction, allowed)
	}
	return max(fraction, allowed)
}

// activeOrLatest is the only active ReplicaSet, or the newest one when
// none is active; nil when several are.
func activeOrLatest(newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	if newRS == nil && len(old) == 0 {
		return nil
	}
	active := activeReplicaSets(nonNil(old, newRS))
	switch len(active) {
	case 0:
		if newRS != nil {
			return newRS
		}
		return old[len(old)-1]
	case 1:
		return active[0]
	}
	return nil
}

// saturated reports whether the new ReplicaSet has all the Deployment's
// replicas, all available.
func (s *deploymentSync) saturated(rs *appsv1.ReplicaSet) bool {
	if rs == nil {
		return false
	}
	want := replicas(s.d.Spec.Replicas)
	return rs.Annotations[AnnotationDesiredReplica] == itoa(want) &&
		rs.Status.AvailableReplicas == want && replicas(rs.Spec.Replicas) == want
}

// cleanup deletes the old ReplicaSets past revisionHistoryLimit, lowest
// revision first, that have no pods and are not being deleted.
func (s *deploymentSync) cleanup(old []*appsv1.ReplicaSet) {
	limit := s.d.Spec.RevisionHistoryLimit
	if limit == nil {
		return
	}
	var cleanable []*appsv1.ReplicaSet
	for _, rs := range old {
		if rs.DeletionTimestamp == nil {
			cleanable = append(cleanable, rs)
		}
	}
	diff := len(cleanable) - int(*limit)
	if diff <= 0 {
		return
	}
	sort.SliceStable(cleanable, func(i, j int) bool {
		ri, rj := revision(&cleanable[i].ObjectMeta), revision(&cleanable[j].ObjectMeta)
		if ri != rj {
			return ri < rj
		}
		return cleanable[i].CreationTimestamp.Before(&cleanable[j].CreationTimestamp)
	})
	for _, rs := range cleanable[:diff] {
		if rs.Status.Replicas != 0 || replicas(rs.Spec.Replicas) != 0 || s.changed[rs] {
			continue
		}
		s.deleted = append(s.deleted, rs.Name)
	}
}

func splitComma(s string) []string { return strings.Split(s, ",") }
func joinComma(s []string) string  { return strings.Join(s, ",") }
