package kube

import (
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// immutable is the API server's reason for refusing a change.
const immutable = "field is immutable"

// ValidateWorkloadUpdate checks that next, re-applied over prev (as
// recorded), changes only what the API server lets an update change:
// never an apps/v1 selector, a StatefulSet only in replicas, ordinals,
// template, updateStrategy, persistentVolumeClaimRetentionPolicy and
// minReadySeconds, a Job not in its selector, completions, template,
// completionMode, podFailurePolicy, backoffLimitPerIndex, managedBy or
// successPolicy. Problems are located in next's file. A Job in next
// with workload's provisional uid is compared as if it had prev's.
func ValidateWorkloadUpdate(prev, next *Workload) ErrorList {
	if prev == nil || next == nil {
		return nil
	}
	var fes field.ErrorList
	switch n := next.Object.(type) {
	case *appsv1.Deployment:
		if p, ok := prev.Object.(*appsv1.Deployment); ok {
			fes = sameSelector(p.Spec.Selector, n.Spec.Selector)
		}
	case *appsv1.ReplicaSet:
		if p, ok := prev.Object.(*appsv1.ReplicaSet); ok {
			fes = sameSelector(p.Spec.Selector, n.Spec.Selector)
		}
	case *appsv1.DaemonSet:
		if p, ok := prev.Object.(*appsv1.DaemonSet); ok {
			fes = sameSelector(p.Spec.Selector, n.Spec.Selector)
		}
	case *appsv1.StatefulSet:
		if p, ok := prev.Object.(*appsv1.StatefulSet); ok {
			fes = statefulSetUpdate(&p.Spec, &n.Spec)
		}
	case *batchv1.Job:
		if p, ok := prev.Object.(*batchv1.Job); ok {
			fes = jobUpdate(p, n)
		}
	}
	o := Object{Source: next.Source, Lines: next.Lines}
	var errs ErrorList
	for _, fe := range fes {
		errs = append(errs, located(o, fe))
	}
	return errs
}

func sameSelector(prev, next *metav1.LabelSelector) field.ErrorList {
	if equality.Semantic.DeepEqual(prev, next) {
		return nil
	}
	return field.ErrorList{field.Invalid(specPath.Child("selector"), metav1.FormatLabelSelector(next), immutable)}
}

// statefulSetUpdate refuses a change to any field of a StatefulSet's
// spec but those an update may change, naming the first that changed.
func statefulSetUpdate(prev, next *appsv1.StatefulSetSpec) field.ErrorList {
	a, b := prev.DeepCopy(), next.DeepCopy()
	for _, s := range []*appsv1.StatefulSetSpec{a, b} {
		s.Replicas, s.Ordinals, s.Template = nil, nil, next.Template
		s.UpdateStrategy, s.PersistentVolumeClaimRetentionPolicy, s.MinReadySeconds = appsv1.StatefulSetUpdateStrategy{}, nil, 0
	}
	if equality.Semantic.DeepEqual(a, b) {
		return nil
	}
	p := specPath
	av, bv := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	for i := range av.NumField() {
		if !equality.Semantic.DeepEqual(av.Field(i).Interface(), bv.Field(i).Interface()) {
			p = specPath.Child(jsonName(av.Type().Field(i)))
			break
		}
	}
	return field.ErrorList{field.Forbidden(p, "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")}
}

// jobUpdate refuses a change to a field of a Job that cannot change once
// it is created. Completions of an Indexed Job may change along with
// parallelism (elastic Indexed Jobs).
func jobUpdate(prev, next *batchv1.Job) field.ErrorList {
	if next.UID == JobUID(next.Namespace, next.Name) && prev.UID != next.UID {
		next = next.DeepCopy()
		SetJobUID(next, prev.UID)
	}
	a, b := &prev.Spec, &next.Spec
	var fes field.ErrorList
	if !equality.Semantic.DeepEqual(a.Completions, b.Completions) {
		elastic := indexed(b) && b.Completions != nil && b.Parallelism != nil
		switch {
		case !elastic:
			fes = append(fes, field.Invalid(specPath.Child("completions"), ptrString(b.Completions), immutable))
		case *b.Completions != *b.Parallelism:
			fes = append(fes, field.Invalid(specPath.Child("completions"), *b.Completions, "can only be modified in tandem with spec.parallelism"))
		}
	}
	if !equality.Semantic.DeepEqual(a.Selector, b.Selector) {
		fes = append(fes, field.Invalid(specPath.Child("selector"), metav1.FormatLabelSelector(b.Selector), immutable))
	}
	for _, f := range []struct {
		name       string
		prev, next any
	}{
		{"template", a.Template, b.Template},
		{"completionMode", a.CompletionMode, b.CompletionMode},
		{"podFailurePolicy", a.PodFailurePolicy, b.PodFailurePolicy},
		{"backoffLimitPerIndex", a.BackoffLimitPerIndex, b.BackoffLimitPerIndex},
		{"managedBy", a.ManagedBy, b.ManagedBy},
		{"successPolicy", a.SuccessPolicy, b.SuccessPolicy},
	} {
		if !equality.Semantic.DeepEqual(f.prev, f.next) {
			fes = append(fes, field.Invalid(specPath.Child(f.name), field.OmitValueType{}, immutable))
		}
	}
	return fes
}

func ptrString(v *int32) any {
	if v == nil {
		return "null"
	}
	return *v
}
