package controllers

import (
	"fmt"
	"math"
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Messages of the Job's conditions, as the controller words them.
const (
	MessageBackoffLimitExceeded = "Job has reached the specified backoff limit"
	MessageDeadlineExceeded     = "Job was active longer than specified deadline"
	MessageMaxFailedIndexes     = "Job has exceeded the specified maximal number of failed indexes"
	MessageFailedIndexes        = "Job has failed indexes"
	MessageCompletionsReached   = "Reached expected number of succeeded pods"
	ReasonJobSuspended          = "JobSuspended"
	ReasonJobResumed            = "JobResumed"
)

// MaxPodCreateDeletePerSync is the most pods the Job controller creates
// or deletes in one sync.
const MaxPodCreateDeletePerSync = 500

// JobResult is one step of the Job controller.
type JobResult struct {
	// Job is the Job with its new status, to store.
	Job *batchv1.Job
	PodActions
	// DeleteJob is set once ttlSecondsAfterFinished has passed: delete the
	// Job and what it owns.
	DeleteJob bool
	// RequeueAt is when to decide again though no pod changes: the end of
	// a back-off, the active deadline, the time to live. Zero for never.
	RequeueAt time.Time
}

// jobSync is the working state of one step.
type jobSync struct {
	j   *batchv1.Job
	now time.Time
	r   Rand
	res JobResult

	all         []Pod
	active      []*Pod // neither finished nor stopping
	terminating []*Pod // stopping, not finished
	succeeded   []*Pod
	failed      []*Pod // failed, and counted: not ignored by the policy
	failJob     string // the message of a FailJob rule that matched

	// Indexed Jobs.
	doneIdx     indexSet // succeeded
	failedIdx   indexSet // failed for good (backoffLimitPerIndex, FailIndex)
	idxFailures map[int]int
	idxBackoff  map[int]time.Time

	deleted map[string]bool
}

// Job is one sync of the Job controller. pods are the pods job owns,
// finished and stopping ones included: the runner keeps a Job's finished
// pods while it keeps the Job, as they are what is counted (the stored
// counts never go down, so a pod removed by hand is not lost from them).
// It creates pods up to parallelism and the remaining completions, each
// after the failure back-off; applies the podFailurePolicy, backoffLimit,
// backoffLimitPerIndex and maxFailedIndexes, activeDeadlineSeconds,
// suspend and the successPolicy; marks the Job FailureTarget or
// SuccessCriteriaMet and deletes its running pods, then Failed or Complete
// once none is left; and deletes a finished Job after its time to live.
func Job(job *batchv1.Job, pods []Pod, now time.Time, r Rand) JobResult {
	s := &jobSync{j: job.DeepCopy(), now: now, r: r, all: pods, deleted: map[string]bool{}}
	s.res.Job = s.j
	if !jobFinished(s.j) {
		s.observe()
		s.suspendOrStart()
		if reason, message, failure := s.finishing(); reason != "" {
			s.finish(reason, message, failure)
		} else if s.suspended() {
			s.deleteActive()
		} else {
			s.deadlineRequeue()
			s.manage()
		}
		s.writeStatus()
	}
	s.ttl()
	return s.res
}

func jobCondition(job *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range job.Status.Conditions {
		if c := &job.Status.Conditions[i]; c.Type == t && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

func jobFinished(job *batchv1.Job) bool {
	return jobCondition(job, batchv1.JobComplete) != nil || jobCondition(job, batchv1.JobFailed) != nil
}

func (s *jobSync) suspended() bool { return s.j.Spec.Suspend != nil && *s.j.Spec.Suspend }

// completions is spec.completions, which an Indexed Job must have; 0
// when unset.
func (s *jobSync) completions() int {
	if s.j.Spec.Completions == nil {
		return 0
	}
	return int(*s.j.Spec.Completions)
}

// setCondition sets a Job condition, keeping the transition time of one
// whose status does not change.
func (s *jobSync) setCondition(t batchv1.JobConditionType, status corev1.ConditionStatus, reason, message string) {
	now := metav1.NewTime(s.now)
	for i := range s.j.Status.Conditions {
		c := &s.j.Status.Conditions[i]
		if c.Type != t {
			continue
		}
		if c.Status != status {
			c.LastTransitionTime = now
		}
		if c.Status != status || c.Reason != reason || c.Message != message {
			c.LastProbeTime = now
		}
		c.Status, c.Reason, c.Message = status, reason, message
		return
	}
	s.j.Status.Conditions = append(s.j.Status.Conditions, batchv1.JobCondition{
		Type: t, Status: status, Reason: reason, Message: message, LastProbeTime: now, LastTransitionTime: now,
	})
}

// observe sorts the pods into active, stopping, succeeded and failed,
// applies the podFailurePolicy to the failed ones, and for an Indexed Job
// works out which indexes succeeded and which failed for good.
func (s *jobSync) observe() {
	idx := indexed(s.j)
	if idx {
		s.doneIdx, s.failedIdx = indexSet{}, indexSet{}
		s.idxFailures, s.idxBackoff = map[int]int{}, map[int]time.Time{}
		for _, i := range ParseIndexes(s.j.Status.CompletedIndexes, s.completions()) {
			s.doneIdx[i] = true
		}
		if s.j.Status.FailedIndexes != nil {
			for _, i := range ParseIndexes(*s.j.Status.FailedIndexes, s.completions()) {
				s.failedIdx[i] = true
			}
		}
	}
	var finished []*Pod
	for i := range s.all {
		p := &s.all[i]
		switch {
		case p.phase() == corev1.PodSucceeded:
			s.succeeded = append(s.succeeded, p)
			finished = append(finished, p)
		case p.phase() == corev1.PodFailed:
			finished = append(finished, p)
		case p.Deleting:
			s.terminating = append(s.terminating, p)
		default:
			s.active = append(s.active, p)
		}
	}
	byFinish(finished)
	for _, p := range finished {
		if p.phase() == corev1.PodFailed {
			s.observeFailure(p)
		}
	}
	if idx {
		for _, p := range s.succeeded {
			if i := completionIndex(p.Pod); i >= 0 && i < s.completions() && !s.failedIdx[i] {
				s.doneIdx[i] = true
			}
		}
		s.indexFailures()
	}
}

// observeFailure applies the podFailurePolicy to one failed pod.
func (s *jobSync) observeFailure(p *Pod) {
	action, message := failureAction(s.j, p.Pod)
	switch action {
	case batchv1.PodFailurePolicyActionIgnore:
		return
	case batchv1.PodFailurePolicyActionFailJob:
		if s.failJob == "" {
			s.failJob = message
		}
	case batchv1.PodFailurePolicyActionFailIndex:
		if i := completionIndex(p.Pod); indexed(s.j) && s.j.Spec.BackoffLimitPerIndex != nil && i >= 0 && i < s.completions() {
			s.failedIdx[i] = true
		}
	}
	s.failed = append(s.failed, p)
}

// indexFailures counts each index's failures, from the count its latest
// pod was created with, and fails for good the indexes past
// backoffLimitPerIndex; it also finds when each index's back-off ends.
func (s *jobSync) indexFailures() {
	limit := s.j.Spec.BackoffLimitPerIndex
	if limit == nil {
		return
	}
	last := map[int]time.Time{}
	for _, p := range s.failed {
		i := completionIndex(p.Pod)
		if i < 0 || i >= s.completions() {
			continue
		}
		prior, _ := strconv.Atoi(p.Pod.Annotations[AnnotationIndexFailures])
		s.idxFailures[i] = max(s.idxFailures[i], prior+1)
		last[i] = finishedAt(p)
	}
	for i, n := range s.idxFailures {
		if n > int(*limit) {
			s.failedIdx[i] = true
		}
		if !s.doneIdx[i] {
			s.idxBackoff[i] = last[i].Add(JobBackoff(n))
		}
	}
}

// suspendOrStart records the start of a Job not suspended, and its
// suspension or resumption; resuming starts the active deadline again.
func (s *jobSync) suspendOrStart() {
	cond := jobCondition(s.j, batchv1.JobSuspended)
	switch {
	case s.suspended() && cond == nil:
		s.setCondition(batchv1.JobSuspended, corev1.ConditionTrue, ReasonJobSuspended, "Job suspended")
	case !s.suspended() && cond != nil:
		s.setCondition(batchv1.JobSuspended, corev1.ConditionFalse, ReasonJobResumed, "Job resumed")
		s.j.Status.StartTime = nil
	}
	if s.j.Status.StartTime == nil && !s.suspended() {
		t := metav1.NewTime(s.now)
		s.j.Status.StartTime = &t
	}
}

func (s *jobSync) backoffLimit() int32 {
	switch {
	case s.j.Spec.BackoffLimit != nil:
		return *s.j.Spec.BackoffLimit
	case s.j.Spec.BackoffLimitPerIndex != nil:
		return math.MaxInt32
	}
	return 6
}

// failedCount is the Job's failures: those counted before and any new.
func (s *jobSync) failedCount() int32 { return max(s.j.Status.Failed, int32(len(s.failed))) }

// finishing is why the Job is done, if it is, and whether as a failure:
// a SuccessCriteriaMet or FailureTarget already set, which no later
// event overturns while the pods stop, a FailJob rule, the
// backoff limit, the active deadline, too many failed indexes, then the
// success policy, the completions reached, or every index done with some
// failed.
func (s *jobSync) finishing() (reason, message string, failure bool) {
	if c := jobCondition(s.j, batchv1.JobSuccessCriteriaMet); c != nil {
		return c.Reason, c.Message, false
	}
	if c := jobCondition(s.j, batchv1.JobFailureTarget); c != nil {
		return c.Reason, c.Message, true
	}
	if s.failJob != "" {
		return batchv1.JobReasonPodFailurePolicy, s.failJob, true
	}
	limit := s.backoffLimit()
	if s.failedCount() > limit || pastBackoffLimitOnFailure(s.j, s.active, limit) {
		return batchv1.JobReasonBackoffLimitExceeded, MessageBackoffLimitExceeded, true
	}
	if s.pastDeadline() {
		return batchv1.JobReasonDeadlineExceeded, MessageDeadlineExceeded, true
	}
	if m := s.j.Spec.MaxFailedIndexes; indexed(s.j) && m != nil && len(s.failedIdx) > int(*m) {
		return batchv1.JobReasonMaxFailedIndexesExceeded, MessageMaxFailedIndexes, true
	}
	if rule, ok := s.successPolicy(); ok {
		return batchv1.JobReasonSuccessPolicy, fmt.Sprintf("Matched rules at index %d", rule), false
	}
	if s.complete() {
		return batchv1.JobReasonCompletionsReached, MessageCompletionsReached, false
	}
	if indexed(s.j) && len(s.failedIdx) > 0 && len(s.doneIdx)+len(s.failedIdx) >= s.completions() {
		return batchv1.JobReasonFailedIndexes, MessageFailedIndexes, true
	}
	return "", "", false
}

// pastDeadline reports whether a running Job has been active for
// activeDeadlineSeconds.
func (s *jobSync) pastDeadline() bool {
	ads := s.j.Spec.ActiveDeadlineSeconds
	if ads == nil || s.j.Status.StartTime == nil || s.suspended() {
		return false
	}
	return s.now.Sub(s.j.Status.StartTime.Time) >= time.Duration(*ads)*time.Second
}

func (s *jobSync) deadlineRequeue() {
	if ads := s.j.Spec.ActiveDeadlineSeconds; ads != nil && s.j.Status.StartTime != nil {
		s.requeue(s.j.Status.StartTime.Add(time.Duration(*ads) * time.Second))
	}
}

func (s *jobSync) requeue(t time.Time) { s.res.RequeueAt = earliest(s.res.RequeueAt, t) }

// complete reports whether the Job has its completions: for a Job without
// completions, one success with nothing left running.
func (s *jobSync) complete() bool {
	if indexed(s.j) {
		return len(s.doneIdx) >= s.completions()
	}
	succeeded := max(s.j.Status.Succeeded, int32(len(s.succeeded)))
	if s.j.Spec.Completions == nil {
		return succeeded > 0 && len(s.active) == 0
	}
	return succeeded >= *s.j.Spec.Completions
}

// successPolicy is the index of the first successPolicy rule the
// succeeded indexes meet.
func (s *jobSync) successPolicy() (int, bool) {
	if s.j.Spec.SuccessPolicy == nil || !indexed(s.j) {
		return 0, false
	}
	for i, rule := range s.j.Spec.SuccessPolicy.Rules {
		var within []int
		if rule.SucceededIndexes != nil {
			within = ParseIndexes(*rule.SucceededIndexes, s.completions())
		} else {
			within = s.doneIdx.sorted()
		}
		met := 0
		for _, ix := range within {
			if s.doneIdx[ix] {
				met++
			}
		}
		if rule.SucceededCount != nil {
			if met >= int(*rule.SucceededCount) {
				return i, true
			}
		} else if rule.SucceededIndexes != nil && met == len(within) {
			return i, true
		}
	}
	return 0, false
}

// finish sets the interim condition, deletes the pods still running, and
// once none is left sets Failed or Complete with the same reason.
func (s *jobSync) finish(reason, message string, failure bool) {
	interim, final := batchv1.JobSuccessCriteriaMet, batchv1.JobComplete
	if failure {
		interim, final = batchv1.JobFailureTarget, batchv1.JobFailed
	}
	if jobCondition(s.j, interim) == nil {
		s.setCondition(interim, corev1.ConditionTrue, reason, message)
	}
	s.deleteActive()
	if len(s.active) == 0 && len(s.terminating) == 0 {
		s.setCondition(final, corev1.ConditionTrue, reason, message)
		if !failure {
			t := metav1.NewTime(s.now)
			s.j.Status.CompletionTime = &t
		}
	}
}

func (s *jobSync) deleteActive() {
	var names []string
	for _, p := range s.active {
		names = append(names, p.Pod.Name)
	}
	s.delete(names)
}

func (s *jobSync) delete(names []string) {
	for _, n := range names {
		if !s.deleted[n] && len(s.res.Delete) < MaxPodCreateDeletePerSync {
			s.deleted[n] = true
			s.res.Delete = append(s.res.Delete, n)
		}
	}
}

func (s *jobSync) parallelism() int {
	if s.j.Spec.Parallelism == nil {
		return 1
	}
	return int(*s.j.Spec.Parallelism)
}

// replacing is whether stopping pods still hold their places, as they do
// under podReplacementPolicy Failed (the default with a podFailurePolicy).
func (s *jobSync) replacing() bool {
	policy := s.j.Spec.PodReplacementPolicy
	if policy == nil {
		return s.j.Spec.PodFailurePolicy != nil
	}
	return *policy == batchv1.Failed
}

// manage creates and deletes pods towards the active count the Job wants.
func (s *jobSync) manage() {
	if indexed(s.j) {
		s.manageIndexed()
		return
	}
	active := len(s.active)
	succeeded := max(int(s.j.Status.Succeeded), len(s.succeeded))
	want := s.parallelism()
	switch {
	case s.j.Spec.Completions == nil && succeeded > 0:
		want = active
	case s.j.Spec.Completions != nil:
		want = max(min(s.completions()-succeeded, want), 0)
	}
	if active > want {
		s.delete(toDelete(s.active, active-want))
		return
	}
	missing := want - active
	if s.replacing() {
		missing -= len(s.terminating)
	}
	if missing <= 0 {
		return
	}
	if until := backoffUntil(append(s.succeeded, s.failed...)); until.After(s.now) {
		s.requeue(until)
		return
	}
	taken := podNames(s.all)
	for range min(missing, MaxPodCreateDeletePerSync) {
		s.create(-1, taken)
	}
}

// manageIndexed deletes the pods of indexes that are done, out of range
// or held twice, and creates pods for the lowest indexes pending, each
// after its back-off.
func (s *jobSync) manageIndexed() {
	holders := map[int]bool{}
	var keep, drop []*Pod
	for _, p := range s.active {
		i := completionIndex(p.Pod)
		if i < 0 || i >= s.completions() || holders[i] || s.doneIdx[i] || s.failedIdx[i] {
			drop = append(drop, p)
			continue
		}
		holders[i] = true
		keep = append(keep, p)
	}
	if s.replacing() {
		for _, p := range s.terminating {
			holders[completionIndex(p.Pod)] = true
		}
	}
	s.delete(names(drop))
	want := max(min(s.completions()-len(s.doneIdx)-len(s.failedIdx), s.parallelism()), 0)
	if len(keep) > want {
		s.delete(toDelete(keep, len(keep)-want))
		return
	}
	active := len(holders)
	if s.j.Spec.BackoffLimitPerIndex == nil {
		if until := backoffUntil(append(s.succeeded, s.failed...)); until.After(s.now) {
			s.requeue(until)
			return
		}
	}
	taken := podNames(s.all)
	for i := 0; i < s.completions() && active < want; i++ {
		if holders[i] || s.doneIdx[i] || s.failedIdx[i] {
			continue
		}
		if until := s.idxBackoff[i]; until.After(s.now) {
			s.requeue(until)
			continue
		}
		s.create(i, taken)
		active++
	}
}

func names(pods []*Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Pod.Name)
	}
	return out
}

// create adds a pod to create for index (-1 for a NonIndexed Job).
func (s *jobSync) create(index int, taken map[string]bool) {
	if len(s.res.Create) >= MaxPodCreateDeletePerSync {
		return
	}
	name := GenerateName(JobPodBase(s.j.Name, index), s.r, taken)
	taken[name] = true
	p := podFromTemplate(&s.j.Spec.Template, s.j.Namespace, name, OwnerReference("batch/v1", "Job", &s.j.ObjectMeta))
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	for _, k := range []string{LabelJobName, LabelBatchJobName} {
		if _, ok := p.Labels[k]; !ok {
			p.Labels[k] = s.j.Name
		}
	}
	for _, k := range []string{LabelControllerUID, LabelBatchControllerUID} {
		if _, ok := p.Labels[k]; !ok && s.j.UID != "" {
			p.Labels[k] = string(s.j.UID)
		}
	}
	if index >= 0 {
		indexedPod(p, s.j.Name, index)
		if s.j.Spec.BackoffLimitPerIndex != nil {
			p.Annotations[AnnotationIndexFailures] = strconv.Itoa(s.idxFailures[index])
		}
	}
	s.res.Create = append(s.res.Create, p)
}

// writeStatus counts the Job's pods into its status; the pods it creates
// count as active, as the controller counts them.
func (s *jobSync) writeStatus() {
	st := &s.j.Status
	st.Active, st.Ready = 0, new(int32)
	for _, p := range s.active {
		if s.deleted[p.Pod.Name] {
			continue
		}
		st.Active++
		if p.Ready {
			*st.Ready++
		}
	}
	st.Active += int32(len(s.res.Create))
	st.Terminating = ptrInt32(int32(len(s.terminating)))
	st.Failed = s.failedCount()
	if indexed(s.j) {
		st.Succeeded = int32(len(s.doneIdx))
		st.CompletedIndexes = FormatIndexes(s.doneIdx.sorted())
		if s.j.Spec.BackoffLimitPerIndex != nil {
			f := FormatIndexes(s.failedIdx.sorted())
			st.FailedIndexes = &f
		}
	} else {
		st.Succeeded = max(st.Succeeded, int32(len(s.succeeded)))
	}
}

func ptrInt32(v int32) *int32 { return &v }

// ttl deletes a finished Job once ttlSecondsAfterFinished have passed
// since it finished, or says when to.
func (s *jobSync) ttl() {
	ttl := s.j.Spec.TTLSecondsAfterFinished
	if ttl == nil || !jobFinished(s.j) {
		return
	}
	var finished time.Time
	if s.j.Status.CompletionTime != nil {
		finished = s.j.Status.CompletionTime.Time
	} else if c := jobCondition(s.j, batchv1.JobFailed); c != nil {
		finished = c.LastTransitionTime.Time
	}
	expire := finished.Add(time.Duration(*ttl) * time.Second)
	if !s.now.Before(expire) {
		s.res.DeleteJob = true
		return
	}
	s.requeue(expire)
}
