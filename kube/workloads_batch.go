package kube

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones as the API server knows them, whatever the machine has

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The labels a Job's pods had before the batch.kubernetes.io/ ones
// (batchv1.JobNameLabel, ControllerUidLabel), which they still carry.
const (
	legacyJobNameLabel       = "job-name"
	legacyControllerUidLabel = "controller-uid"
)

// Limits of pkg/apis/batch/validation.
const (
	maxParallelismIndexed     = 100_000
	maxFailedIndexes          = 100_000
	completionsSoftLimit      = 100_000
	parallelismHighLimit      = 10_000
	maxFailedIndexesHighLimit = 10_000
	maxFailurePolicyRules     = 20
	maxExitCodes              = 255
	maxConditionPatterns      = 20
	maxManagedByLength        = 63
	maxSucceededIndexesLength = 64 * 1024
	maxSuccessPolicyRules     = 20
	// A CronJob's Jobs are named "<cronjob>-<minutes>", 11 characters
	// more, and a Job's name must fit in a label value.
	maxCronJobName = validation.DNS1035LabelMaxLength - 11
	// JobController is the spec.managedBy of the Jobs the built-in
	// controller, podrun's, runs; it leaves the others alone.
	JobController = "kubernetes.io/job-controller"
)

// setJobDefaults applies pkg/apis/batch/v1 SetDefaults_Job.
func setJobDefaults(j *batchv1.Job) {
	s := &j.Spec
	if s.Completions == nil && s.Parallelism == nil {
		s.Completions = ptr(int32(1))
	}
	if s.Parallelism == nil {
		s.Parallelism = ptr(int32(1))
	}
	if s.BackoffLimit == nil {
		s.BackoffLimit = ptr(int32(6))
		if s.BackoffLimitPerIndex != nil {
			s.BackoffLimit = ptr(int32(math.MaxInt32))
		}
	}
	if len(s.Template.Labels) > 0 && len(j.Labels) == 0 {
		j.Labels = maps.Clone(s.Template.Labels)
	}
	if s.CompletionMode == nil {
		s.CompletionMode = ptr(batchv1.NonIndexedCompletion)
	}
	if s.Suspend == nil {
		s.Suspend = ptr(false)
	}
	if s.PodFailurePolicy != nil {
		for _, r := range s.PodFailurePolicy.Rules {
			for i := range r.OnPodConditions {
				if r.OnPodConditions[i].Status == "" {
					r.OnPodConditions[i].Status = corev1.ConditionTrue
				}
			}
		}
	}
	if s.PodReplacementPolicy == nil {
		s.PodReplacementPolicy = ptr(batchv1.TerminatingOrFailed)
		if s.PodFailurePolicy != nil {
			s.PodReplacementPolicy = ptr(batchv1.Failed)
		}
	}
}

// JobUID is the uid a Job gets when its manifest gives none: made of its
// namespace and name, so that re-applying a manifest gives the same
// selector and labels.
func JobUID(namespace, name string) types.UID {
	b := sha1.Sum([]byte("podrun/job/" + namespace + "/" + name))
	b[6] = b[6]&0x0f | 0x50 // version 5: a name-based UUID
	b[8] = b[8]&0x3f | 0x80
	return types.UID(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
}

// generateJobSelector does what the API server does for a Job that does
// not ask for a manual selector: it labels the template with the Job's
// name and uid and selects the uid. Labels the user set are kept, for
// validation to refuse when they conflict.
func generateJobSelector(j *batchv1.Job) {
	if j.Spec.ManualSelector != nil && *j.Spec.ManualSelector {
		return
	}
	t := &j.Spec.Template
	if t.Labels == nil {
		t.Labels = map[string]string{}
	}
	for _, k := range []string{legacyJobNameLabel, batchv1.JobNameLabel} {
		if _, ok := t.Labels[k]; !ok {
			t.Labels[k] = j.Name
		}
	}
	for _, k := range []string{legacyControllerUidLabel, batchv1.ControllerUidLabel} {
		if _, ok := t.Labels[k]; !ok {
			t.Labels[k] = string(j.UID)
		}
	}
	if j.Spec.Selector == nil {
		j.Spec.Selector = &metav1.LabelSelector{}
	}
	if j.Spec.Selector.MatchLabels == nil {
		j.Spec.Selector.MatchLabels = map[string]string{}
	}
	if _, ok := j.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel]; !ok {
		j.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel] = string(j.UID)
	}
}

func (c *workloadCheck) job(j *batchv1.Job) {
	setJobDefaults(j)
	c.meta(&j.ObjectMeta, false)
	if j.UID == "" {
		j.UID = JobUID(j.Namespace, j.Name)
	}
	generateJobSelector(j)
	c.generatedSelector(j)
	s := &j.Spec
	c.jobSpec(&j.ObjectMeta, s, specPath)
	sp := specPath.Child("selector")
	if s.Selector == nil {
		c.add(field.Required(sp, ""))
	} else {
		c.add(metavalidation.ValidateLabelSelector(s.Selector, metavalidation.LabelSelectorValidationOptions{}, sp)...)
		c.selects(s.Selector, &s.Template, sp, templatePath)
	}
	if *s.CompletionMode == batchv1.IndexedCompletion && s.Completions != nil && *s.Completions > 0 {
		// The pods' host names end in "-<index>".
		last := fmt.Sprintf("%s-%d", j.Name, *s.Completions-1)
		if len(validation.IsDNS1123Label(last)) > 0 {
			c.add(field.Invalid(field.NewPath("metadata", "name"), j.Name, "will not able to create pod with invalid DNS label: "+last))
		}
	}
}

// generatedSelector checks that a generated selector and the template's
// labels are those generateJobSelector makes.
func (c *workloadCheck) generatedSelector(j *batchv1.Job) {
	if j.Spec.ManualSelector != nil && *j.Spec.ManualSelector {
		return
	}
	mp := templatePath.Child("metadata")
	want := map[string]string{
		legacyControllerUidLabel: string(j.UID), legacyJobNameLabel: j.Name,
		batchv1.ControllerUidLabel: string(j.UID), batchv1.JobNameLabel: j.Name,
	}
	for _, k := range []string{legacyControllerUidLabel, legacyJobNameLabel, batchv1.ControllerUidLabel, batchv1.JobNameLabel} {
		if got := j.Spec.Template.Labels[k]; got != want[k] {
			c.add(field.Invalid(mp.Child("labels").Key(k), got, fmt.Sprintf("must be '%s'", want[k])))
		}
	}
	s, err := metav1.LabelSelectorAsSelector(j.Spec.Selector)
	if err == nil && !s.Matches(labels.Set(want)) {
		c.add(field.Invalid(specPath.Child("selector"), metav1.FormatLabelSelector(j.Spec.Selector), "`selector` not auto-generated"))
	}
}

// jobSpec validates a Job's spec at p, or a CronJob's job template's,
// and defaults and validates its pod template.
func (c *workloadCheck) jobSpec(m *metav1.ObjectMeta, s *batchv1.JobSpec, p *field.Path) {
	c.nonNegativePtr(s.Parallelism, p.Child("parallelism"))
	c.nonNegativePtr(s.Completions, p.Child("completions"))
	if v := s.ActiveDeadlineSeconds; v != nil {
		c.nonNegative(*v, p.Child("activeDeadlineSeconds"))
	}
	c.nonNegativePtr(s.BackoffLimit, p.Child("backoffLimit"))
	c.nonNegativePtr(s.TTLSecondsAfterFinished, p.Child("ttlSecondsAfterFinished"))
	c.nonNegativePtr(s.BackoffLimitPerIndex, p.Child("backoffLimitPerIndex"))
	if s.MaxFailedIndexes != nil {
		c.nonNegative(int64(*s.MaxFailedIndexes), p.Child("maxFailedIndexes"))
		if s.BackoffLimitPerIndex == nil {
			c.add(field.Required(p.Child("backoffLimitPerIndex"), "when maxFailedIndexes is specified"))
		}
	}
	c.managedBy(s.ManagedBy, p.Child("managedBy"))
	c.completionMode(s, p)
	if s.PodFailurePolicy != nil {
		c.podFailurePolicy(s, p.Child("podFailurePolicy"))
	}
	if s.SuccessPolicy != nil {
		if !indexed(s) {
			c.add(field.Invalid(p.Child("successPolicy"), field.OmitValueType{}, "requires indexed completion mode"))
		} else {
			c.successPolicy(s, p.Child("successPolicy"))
		}
	}
	c.podReplacementPolicy(s, p.Child("podReplacementPolicy"))
	tp := p.Child("template")
	c.podTemplate(m, &s.Template, tp, nil)
	rp := tp.Child("spec", "restartPolicy")
	switch v := restartPolicy(&s.Template); {
	case v == corev1.RestartPolicyAlways:
		c.add(field.Required(rp, fmt.Sprintf("valid values: %q, %q", corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever)))
	case v != corev1.RestartPolicyOnFailure && v != corev1.RestartPolicyNever:
		c.add(field.NotSupported(rp, v, []corev1.RestartPolicy{corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}))
	case s.PodFailurePolicy != nil && v != corev1.RestartPolicyNever:
		c.add(field.Invalid(rp, v, fmt.Sprintf("only %q is supported when podFailurePolicy is specified", corev1.RestartPolicyNever)))
	}
}

func indexed(s *batchv1.JobSpec) bool {
	return s.CompletionMode != nil && *s.CompletionMode == batchv1.IndexedCompletion
}

func (c *workloadCheck) managedBy(v *string, p *field.Path) {
	if v == nil {
		return
	}
	c.add(validation.IsDomainPrefixedPath(p, *v)...)
	if len(*v) > maxManagedByLength {
		c.add(field.TooLong(p, "", maxManagedByLength))
	}
}

// JobManagedElsewhere is the spec.managedBy of a Job that another
// controller than the built-in one runs, which podrun's Job controller
// leaves alone as the built-in controller does; empty for the Jobs it
// runs.
func JobManagedElsewhere(j *batchv1.Job) string {
	if j.Spec.ManagedBy == nil || *j.Spec.ManagedBy == JobController {
		return ""
	}
	return *j.Spec.ManagedBy
}

func (c *workloadCheck) completionMode(s *batchv1.JobSpec, p *field.Path) {
	mp := p.Child("completionMode")
	if m := s.CompletionMode; m != nil && *m != batchv1.NonIndexedCompletion && *m != batchv1.IndexedCompletion {
		c.add(field.NotSupported(mp, *m, []batchv1.CompletionMode{batchv1.NonIndexedCompletion, batchv1.IndexedCompletion}))
		return
	}
	if !indexed(s) {
		if s.BackoffLimitPerIndex != nil {
			c.add(field.Invalid(p.Child("backoffLimitPerIndex"), *s.BackoffLimitPerIndex, "requires indexed completion mode"))
		}
		if s.MaxFailedIndexes != nil {
			c.add(field.Invalid(p.Child("maxFailedIndexes"), *s.MaxFailedIndexes, "requires indexed completion mode"))
		}
		return
	}
	pp, fp := p.Child("parallelism"), p.Child("maxFailedIndexes")
	if s.Completions == nil {
		c.add(field.Required(p.Child("completions"), "when completion mode is Indexed"))
	}
	if s.Parallelism != nil && *s.Parallelism > maxParallelismIndexed {
		c.add(field.Invalid(pp, *s.Parallelism, fmt.Sprintf("must be less than or equal to %d when completion mode is Indexed", maxParallelismIndexed)))
	}
	if s.Completions != nil && s.MaxFailedIndexes != nil && *s.MaxFailedIndexes > *s.Completions {
		c.add(field.Invalid(fp, *s.MaxFailedIndexes, "must be less than or equal to completions"))
	}
	if s.MaxFailedIndexes != nil && *s.MaxFailedIndexes > maxFailedIndexes {
		c.add(field.Invalid(fp, *s.MaxFailedIndexes, fmt.Sprintf("must be less than or equal to %d", maxFailedIndexes)))
	}
	if s.Completions == nil || *s.Completions <= completionsSoftLimit || s.BackoffLimitPerIndex == nil {
		return
	}
	const high = "when completions are above 100000 and used with backoff limit per index"
	if s.MaxFailedIndexes == nil {
		c.add(field.Required(fp, fmt.Sprintf("must be specified when completions is above %d", completionsSoftLimit)))
	}
	if s.Parallelism != nil && *s.Parallelism > parallelismHighLimit {
		c.add(field.Invalid(pp, *s.Parallelism, fmt.Sprintf("must be less than or equal to %d %s", parallelismHighLimit, high)))
	}
	if s.MaxFailedIndexes != nil && *s.MaxFailedIndexes > maxFailedIndexesHighLimit {
		c.add(field.Invalid(fp, *s.MaxFailedIndexes, fmt.Sprintf("must be less than or equal to %d %s", maxFailedIndexesHighLimit, high)))
	}
}

var (
	failureActions = []batchv1.PodFailurePolicyAction{
		batchv1.PodFailurePolicyActionCount, batchv1.PodFailurePolicyActionFailIndex,
		batchv1.PodFailurePolicyActionFailJob, batchv1.PodFailurePolicyActionIgnore,
	}
	exitCodeOperators = []batchv1.PodFailurePolicyOnExitCodesOperator{
		batchv1.PodFailurePolicyOnExitCodesOpIn, batchv1.PodFailurePolicyOnExitCodesOpNotIn,
	}
	conditionStatuses = []corev1.ConditionStatus{corev1.ConditionFalse, corev1.ConditionTrue, corev1.ConditionUnknown}
)

func (c *workloadCheck) podFailurePolicy(s *batchv1.JobSpec, p *field.Path) {
	rules := s.PodFailurePolicy.Rules
	rp := p.Child("rules")
	if len(rules) > maxFailurePolicyRules {
		c.add(field.TooMany(rp, len(rules), maxFailurePolicyRules))
	}
	names := map[string]bool{}
	for _, ctr := range allContainers(&s.Template.Spec) {
		names[ctr.Name] = true
	}
	for i := range rules {
		c.failurePolicyRule(s, &rules[i], rp.Index(i), names)
	}
}

func (c *workloadCheck) failurePolicyRule(s *batchv1.JobSpec, r *batchv1.PodFailurePolicyRule, p *field.Path, names map[string]bool) {
	ap := p.Child("action")
	switch {
	case r.Action == "":
		c.add(field.Required(ap, fmt.Sprintf("valid values: %q", failureActions)))
	case r.Action == batchv1.PodFailurePolicyActionFailIndex && s.BackoffLimitPerIndex == nil:
		c.add(field.Invalid(ap, r.Action, "requires the backoffLimitPerIndex to be set"))
	case !slices.Contains(failureActions, r.Action):
		c.add(field.NotSupported(ap, r.Action, failureActions))
	}
	if r.OnExitCodes != nil {
		c.onExitCodes(r.OnExitCodes, p.Child("onExitCodes"), names)
	}
	cp := p.Child("onPodConditions")
	if len(r.OnPodConditions) > maxConditionPatterns {
		c.add(field.TooMany(cp, len(r.OnPodConditions), maxConditionPatterns))
	}
	for j, pat := range r.OnPodConditions {
		pp := cp.Index(j)
		c.add(qualifiedName(string(pat.Type), pp.Child("type"))...)
		switch {
		case pat.Status == "":
			c.add(field.Required(pp.Child("status"), fmt.Sprintf("valid values: %q", conditionStatuses)))
		case !slices.Contains(conditionStatuses, pat.Status):
			c.add(field.NotSupported(pp.Child("status"), pat.Status, conditionStatuses))
		}
	}
	switch {
	case r.OnExitCodes != nil && len(r.OnPodConditions) > 0:
		c.add(field.Invalid(p, field.OmitValueType{}, "specifying both OnExitCodes and OnPodConditions is not supported"))
	case r.OnExitCodes == nil && len(r.OnPodConditions) == 0:
		c.add(field.Invalid(p, field.OmitValueType{}, "specifying one of OnExitCodes and OnPodConditions is required"))
	}
}

func (c *workloadCheck) onExitCodes(e *batchv1.PodFailurePolicyOnExitCodesRequirement, p *field.Path, names map[string]bool) {
	op := p.Child("operator")
	switch {
	case e.Operator == "":
		c.add(field.Required(op, fmt.Sprintf("valid values: %q", exitCodeOperators)))
	case !slices.Contains(exitCodeOperators, e.Operator):
		c.add(field.NotSupported(op, e.Operator, exitCodeOperators))
	}
	if e.ContainerName != nil && !names[*e.ContainerName] {
		c.add(field.Invalid(p.Child("containerName"), *e.ContainerName, "must be one of the container or initContainer names in the pod template"))
	}
	vp := p.Child("values")
	switch {
	case len(e.Values) == 0:
		c.add(field.Invalid(vp, "[]", "at least one value is required"))
	case len(e.Values) > maxExitCodes:
		c.add(field.TooMany(vp, len(e.Values), maxExitCodes))
	}
	seen := map[int32]bool{}
	for j, v := range e.Values {
		if e.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn && v == 0 {
			c.add(field.Invalid(vp.Index(j), v, "must not be 0 for the In operator"))
		}
		if seen[v] {
			c.add(field.Duplicate(vp.Index(j), v))
		}
		seen[v] = true
	}
	if !slices.IsSorted(e.Values) {
		c.add(field.Invalid(vp, fmt.Sprint(e.Values), "must be ordered"))
	}
}

func (c *workloadCheck) successPolicy(s *batchv1.JobSpec, p *field.Path) {
	rules := s.SuccessPolicy.Rules
	rp := p.Child("rules")
	if len(rules) == 0 {
		c.add(field.Required(rp, "at least one rules must be specified when the successPolicy is specified"))
	}
	if len(rules) > maxSuccessPolicyRules {
		c.add(field.TooMany(rp, len(rules), maxSuccessPolicyRules))
	}
	completions := int32(0)
	if s.Completions != nil {
		completions = *s.Completions
	}
	for i, r := range rules {
		ip := rp.Index(i)
		if r.SucceededCount == nil && r.SucceededIndexes == nil {
			c.add(field.Required(ip, "at least one of succeededCount or succeededIndexes must be specified"))
		}
		var total int32
		if r.SucceededIndexes != nil {
			xp := ip.Child("succeededIndexes")
			if len(*r.SucceededIndexes) > maxSucceededIndexesLength {
				c.add(field.TooLong(xp, "", maxSucceededIndexesLength))
			}
			var err error
			if total, err = countIndexes(*r.SucceededIndexes, completions); err != nil {
				c.add(field.Invalid(xp, *r.SucceededIndexes, "error parsing succeededIndexes: "+err.Error()))
			}
		}
		if n := r.SucceededCount; n != nil {
			np := ip.Child("succeededCount")
			c.nonNegative(int64(*n), np)
			if *n > completions {
				c.add(field.Invalid(np, *n, fmt.Sprintf("must be less than or equal to %d (the number of specified completions)", completions)))
			}
			if r.SucceededIndexes != nil && *n > total {
				c.add(field.Invalid(np, *n, fmt.Sprintf("must be less than or equal to %d (the number of indexes in the specified succeededIndexes field)", total)))
			}
		}
	}
}

// countIndexes parses a list of indexes below completions, such as
// "1,3-5,7", in increasing order, and counts them.
func countIndexes(list string, completions int32) (int32, error) {
	if list == "" {
		return 0, nil
	}
	var total int32
	last := int32(-1)
	for _, part := range strings.Split(list, ",") {
		x, y, err := indexInterval(part, completions)
		if err != nil {
			return 0, err
		}
		if last >= x {
			return 0, fmt.Errorf("non-increasing order, previous: %d, current: %d", last, x)
		}
		total += y - x + 1
		last = y
	}
	return total, nil
}

func indexInterval(s string, completions int32) (int32, int32, error) {
	bounds := strings.Split(s, "-")
	if len(bounds) > 2 {
		return 0, 0, fmt.Errorf("the fragment %q violates the requirement that an index interval can have at most two parts separated by '-'", s)
	}
	var n [2]int32
	for i, b := range bounds {
		v, err := strconv.ParseInt(b, 10, 32)
		if err != nil || v < 0 {
			return 0, 0, fmt.Errorf("cannot convert string to integer for index: %q", b)
		}
		if v >= int64(completions) {
			return 0, 0, fmt.Errorf("too large index: %q", b)
		}
		n[i] = int32(v)
	}
	if len(bounds) == 1 {
		return n[0], n[0], nil
	}
	if n[0] >= n[1] {
		return 0, 0, fmt.Errorf("non-increasing order, previous: %d, current: %d", n[0], n[1])
	}
	return n[0], n[1], nil
}

func (c *workloadCheck) podReplacementPolicy(s *batchv1.JobSpec, p *field.Path) {
	v := s.PodReplacementPolicy
	switch {
	case v == nil:
	case s.PodFailurePolicy != nil && *v != batchv1.Failed:
		c.add(field.NotSupported(p, *v, []batchv1.PodReplacementPolicy{batchv1.Failed}))
	case s.PodFailurePolicy == nil && *v != batchv1.Failed && *v != batchv1.TerminatingOrFailed:
		c.add(field.NotSupported(p, *v, []batchv1.PodReplacementPolicy{batchv1.Failed, batchv1.TerminatingOrFailed}))
	}
}

// setCronJobDefaults applies pkg/apis/batch/v1 SetDefaults_CronJob. The
// job template's spec is defaulted when a Job is made of it.
func setCronJobDefaults(cj *batchv1.CronJob) {
	s := &cj.Spec
	if s.ConcurrencyPolicy == "" {
		s.ConcurrencyPolicy = batchv1.AllowConcurrent
	}
	if s.Suspend == nil {
		s.Suspend = ptr(false)
	}
	if s.SuccessfulJobsHistoryLimit == nil {
		s.SuccessfulJobsHistoryLimit = ptr(int32(3))
	}
	if s.FailedJobsHistoryLimit == nil {
		s.FailedJobsHistoryLimit = ptr(int32(1))
	}
}

func (c *workloadCheck) cronJob(cj *batchv1.CronJob) {
	setCronJobDefaults(cj)
	c.meta(&cj.ObjectMeta, false)
	if len(cj.Name) > maxCronJobName {
		c.add(field.Invalid(field.NewPath("metadata", "name"), cj.Name, fmt.Sprintf("must be no more than %d characters", maxCronJobName)))
	}
	s := &cj.Spec
	c.schedule(s.Schedule, specPath.Child("schedule"))
	if v := s.StartingDeadlineSeconds; v != nil {
		c.nonNegative(*v, specPath.Child("startingDeadlineSeconds"))
	}
	c.timeZone(s.TimeZone, specPath.Child("timeZone"))
	c.add(oneOf(s.ConcurrencyPolicy, specPath.Child("concurrencyPolicy"),
		batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent)...)
	// The API server leaves these to fail when a Job is made; podrun
	// refuses them at once.
	mp := specPath.Child("jobTemplate", "metadata")
	c.add(metavalidation.ValidateLabels(s.JobTemplate.Labels, mp.Child("labels"))...)
	c.add(apivalidation.ValidateAnnotations(s.JobTemplate.Annotations, mp.Child("annotations"))...)
	jp := specPath.Child("jobTemplate", "spec")
	c.jobSpec(&cj.ObjectMeta, &s.JobTemplate.Spec, jp)
	if s.JobTemplate.Spec.Selector != nil {
		c.add(field.Invalid(jp.Child("selector"), metav1.FormatLabelSelector(s.JobTemplate.Spec.Selector), "`selector` will be auto-generated"))
	}
	if v := s.JobTemplate.Spec.ManualSelector; v != nil && *v {
		c.add(field.NotSupported(jp.Child("manualSelector"), *v, []string{"nil", "false"}))
	}
	c.nonNegativePtr(s.SuccessfulJobsHistoryLimit, specPath.Child("successfulJobsHistoryLimit"))
	c.nonNegativePtr(s.FailedJobsHistoryLimit, specPath.Child("failedJobsHistoryLimit"))
}

func (c *workloadCheck) schedule(v string, p *field.Path) {
	if v == "" {
		c.add(field.Required(p, ""))
		return
	}
	if _, err := cron.ParseStandard(v); err != nil {
		c.add(field.Invalid(p, v, err.Error()))
	}
	if strings.Contains(v, "TZ") {
		c.add(field.Invalid(p, v, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
	}
}

// timeZoneName is one part of an IANA time zone name, with the digits and
// '+' of legacy names (https://data.iana.org/time-zones/theory.html#naming).
var timeZoneName = regexp.MustCompile(`^[A-Za-z\.\-_0-9+]{1,14}$`)

func (c *workloadCheck) timeZone(v *string, p *field.Path) {
	if v == nil {
		return
	}
	if err := checkTimeZone(*v); err != nil {
		c.add(field.Invalid(p, *v, err.Error()))
	}
}

func checkTimeZone(tz string) error {
	if tz == "" {
		return errors.New("timeZone must be nil or non-empty string")
	}
	for _, part := range strings.Split(tz, "/") {
		if part == "." || part == ".." || strings.HasPrefix(part, "-") || !timeZoneName.MatchString(part) {
			return fmt.Errorf("unknown time zone %s", tz)
		}
	}
	if strings.EqualFold(tz, "Local") {
		return errors.New("timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")
	}
	_, err := time.LoadLocation(tz)
	return err
}

// ParseSchedule returns the schedule of a CronJob and the time zone it is
// read in: its timeZone, or the machine's when it has none (as the
// controller manager's own). The next run after t is
// sched.Next(t.In(loc)).
func ParseSchedule(cj *batchv1.CronJob) (cron.Schedule, *time.Location, error) {
	if cj == nil {
		return nil, nil, errors.New("parsing schedule: no CronJob")
	}
	sched, err := cron.ParseStandard(cj.Spec.Schedule)
	if err != nil {
		return nil, nil, fmt.Errorf("parsing schedule %q: %w", cj.Spec.Schedule, err)
	}
	loc := time.Local
	if tz := cj.Spec.TimeZone; tz != nil {
		if err := checkTimeZone(*tz); err != nil {
			return nil, nil, fmt.Errorf("loading time zone %q: %w", *tz, err)
		}
		if loc, err = time.LoadLocation(*tz); err != nil {
			return nil, nil, fmt.Errorf("loading time zone %q: %w", *tz, err)
		}
	}
	return sched, loc, nil
}

// SetJobUID gives a Job the uid, such as the one kept from its first
// apply, in place of the one workload gave it, and moves the selector
// and template labels generated from the old uid to the new one.
func SetJobUID(j *batchv1.Job, uid types.UID) {
	if j == nil {
		return
	}
	old := string(j.UID)
	j.UID = uid
	for _, k := range []string{legacyControllerUidLabel, batchv1.ControllerUidLabel} {
		if v, ok := j.Spec.Template.Labels[k]; ok && v == old {
			j.Spec.Template.Labels[k] = string(uid)
		}
		if sel := j.Spec.Selector; sel != nil {
			if v, ok := sel.MatchLabels[k]; ok && v == old {
				sel.MatchLabels[k] = string(uid)
			}
		}
	}
}
