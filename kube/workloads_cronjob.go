package kube

import (
	"fmt"
	"maps"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
)

// manualAnnotation marks a Job made by kubectl create job --from=cronjob/.
const manualAnnotation = "cronjob.kubernetes.io/instantiate"

// ScheduledJob is the Job a CronJob's controller creates for the run
// scheduled at t, as the API server stores it: named
// "<cronjob>-<minutes since the epoch>", with the job template's labels
// and annotations and the scheduled time in the cronjob-scheduled-
// timestamp annotation (in the CronJob's time zone, UTC when it has
// none), owned by cj, defaulted, its selector generated for uid. cj is a
// Workload's, validated and defaulted.
func ScheduledJob(cj *batchv1.CronJob, t time.Time, uid types.UID) *batchv1.Job {
	loc := time.UTC
	if tz := cj.Spec.TimeZone; tz != nil {
		if l, err := time.LoadLocation(*tz); err == nil {
			loc = l
		}
	}
	name := fmt.Sprintf("%s-%d", cj.Name, t.Unix()/60)
	j := jobFromTemplate(cj, name, uid)
	j.Annotations[batchv1.CronJobScheduledTimestampAnnotation] = t.In(loc).Format(time.RFC3339)
	j.CreationTimestamp = metav1.NewTime(t)
	return j
}

// ManualJob is the Job that kubectl create job NAME --from=cronjob/CJ
// creates, as the API server stores it: like ScheduledJob's, named name
// and annotated as made by hand. A name the API server would refuse is
// an error.
func ManualJob(cj *batchv1.CronJob, name string, uid types.UID) (*batchv1.Job, error) {
	msgs := apivalidation.NameIsDNSSubdomain(name, false)
	if len(msgs) == 0 && len(name) > validation.LabelValueMaxLength {
		// The Job's name is the value of its pods' job-name label.
		msgs = []string{validation.MaxLenError(validation.LabelValueMaxLength)}
	}
	if len(msgs) > 0 {
		return nil, fmt.Errorf("making job %q of cronjob %q: invalid name: %s", name, cj.Name, msgs[0])
	}
	j := jobFromTemplate(cj, name, uid)
	j.Annotations[manualAnnotation] = "manual"
	return j, nil
}

// jobFromTemplate makes the Job of cj's template named name, with the
// defaults and the generated selector the API server gives it.
func jobFromTemplate(cj *batchv1.CronJob, name string, uid types.UID) *batchv1.Job {
	tmpl := cj.Spec.JobTemplate
	j := &batchv1.Job{
		TypeMeta: metav1.TypeMeta{APIVersion: batchv1.SchemeGroupVersion.String(), Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Namespace:   cj.Namespace,
			UID:         uid,
			Labels:      maps.Clone(tmpl.Labels),
			Annotations: maps.Clone(tmpl.Annotations),
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cj,
				batchv1.SchemeGroupVersion.WithKind("CronJob"))},
		},
	}
	if j.Annotations == nil {
		j.Annotations = map[string]string{}
	}
	tmpl.Spec.DeepCopyInto(&j.Spec)
	setJobDefaults(j)
	generateJobSelector(j)
	return j
}
