package controllers

import (
	"fmt"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
)

// AnnotationChangeCause is the annotation rollout history shows.
const AnnotationChangeCause = "kubernetes.io/change-cause"

// Revision is one line of `rollout history`.
type Revision struct {
	Revision    int64
	ReplicaSet  string
	ChangeCause string
}

// History is the Deployment's revisions, oldest first, from the
// ReplicaSets it owns.
func History(d *appsv1.Deployment, rses []*appsv1.ReplicaSet) []Revision {
	var out []Revision
	for _, rs := range rses {
		if ownedBy(&rs.ObjectMeta, "Deployment", &d.ObjectMeta) {
			out = append(out, Revision{revision(&rs.ObjectMeta), rs.Name, rs.Annotations[AnnotationChangeCause]})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Revision < out[j].Revision })
	return out
}

// Rollback is kubectl's rollout undo: the Deployment with the template of
// the ReplicaSet of toRevision (0 for the one before the current), without
// its pod-template-hash label, and that ReplicaSet's annotations, its
// generation moved on as the API server does for a new spec. The
// controller then finds that ReplicaSet as the new one and gives it the
// next revision. Errors: ErrPaused, ErrNoRolloutHistory,
// ErrRevisionNotFound, ErrRollbackSkipped.
func Rollback(d *appsv1.Deployment, rses []*appsv1.ReplicaSet, toRevision int64) (*appsv1.Deployment, error) {
	if d.Spec.Paused {
		return nil, fmt.Errorf("rolling back deployment %q: %w", d.Name, ErrPaused)
	}
	var target, latest *appsv1.ReplicaSet
	var maxRev, prevRev int64 = -1, -1
	for _, rs := range rses {
		if !ownedBy(&rs.ObjectMeta, "Deployment", &d.ObjectMeta) {
			continue
		}
		v := revision(&rs.ObjectMeta)
		if toRevision > 0 {
			if v == toRevision {
				target = rs
			}
			continue
		}
		if v > maxRev {
			prevRev, maxRev = maxRev, v
			target, latest = latest, rs
		} else if v > prevRev {
			prevRev, target = v, rs
		}
	}
	switch {
	case toRevision > 0 && target == nil:
		return nil, fmt.Errorf("rolling back deployment %q to revision %d: %w", d.Name, toRevision, ErrRevisionNotFound)
	case toRevision == 0 && prevRev == -1:
		return nil, fmt.Errorf("rolling back deployment %q: %w", d.Name, ErrNoRolloutHistory)
	}
	if EqualIgnoreHash(&target.Spec.Template, &d.Spec.Template) {
		return nil, fmt.Errorf("rolling back deployment %q to revision %d: %w", d.Name, revision(&target.ObjectMeta), ErrRollbackSkipped)
	}
	out := d.DeepCopy()
	out.Spec.Template = *target.Spec.Template.DeepCopy()
	delete(out.Spec.Template.Labels, LabelPodTemplateHash)
	for k, v := range target.Annotations {
		if skippedAnnotations[k] {
			continue
		}
		if out.Annotations == nil {
			out.Annotations = map[string]string{}
		}
		out.Annotations[k] = v
	}
	out.Generation++
	return out, nil
}

// Restart is kubectl's rollout restart: the Deployment with now as its
// template's restartedAt annotation, which rolls every pod out, its
// generation moved on.
func Restart(d *appsv1.Deployment, now time.Time) (*appsv1.Deployment, error) {
	if d.Spec.Paused {
		return nil, fmt.Errorf("restarting deployment %q: %w", d.Name, ErrPaused)
	}
	out := d.DeepCopy()
	if out.Spec.Template.Annotations == nil {
		out.Spec.Template.Annotations = map[string]string{}
	}
	out.Spec.Template.Annotations[AnnotationRestartedAt] = now.Format(time.RFC3339)
	out.Generation++
	return out, nil
}
