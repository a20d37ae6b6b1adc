package main

// Jobs and CronJobs, end to end: the Job controller's counting, indexes,
// back-off limit and pod failure policy, `up` as a CI gate, and a
// CronJob under an accelerated clock.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/runner"
)

// runEnv runs podrun as run does, with extra environment variables (the
// test-only clocks and back-offs: t.Setenv would forbid t.Parallel).
func (e *env) runEnv(extra []string, args ...string) (string, string, error) {
	full := append([]string{
		"--root", e.root, "--run-root", e.runRoot, "--runtime", e.runtime,
		"--network", e.network, "--cni-config-dir", e.confDir,
	}, args...)
	cmd := exec.Command(e.bin, full...)
	cmd.Env = append(os.Environ(), extra...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

func (e *env) mustEnv(extra []string, args ...string) string {
	e.t.Helper()
	out, errOut, err := e.runEnv(extra, args...)
	if err != nil {
		e.t.Fatalf("podrun %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// jobYAML is a Job of the demo image running script, with spec lines
// (indented by two) before its template.
func jobYAML(name, spec, script string) string {
	return fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata:
  name: %s
spec:
%s  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: localhost/podrun/busybox:demo
        command: ["sh", "-c", %q]
`, name, spec, script)
}

// job reads a Job as get shows it, with its status.
func (e *env) job(name string) batchv1.Job {
	e.t.Helper()
	var j batchv1.Job
	if err := json.Unmarshal([]byte(e.must("get", "job", name, "-o", "json")), &j); err != nil {
		e.t.Fatal(err)
	}
	return j
}

// jobPods lists the pods whose job-name label is job.
func (e *env) jobPods(job string) []corev1.Pod {
	e.t.Helper()
	var list corev1.PodList
	if err := json.Unmarshal([]byte(e.must("get", "pods", "-o", "json")), &list); err != nil {
		e.t.Fatal(err)
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if p.Labels[batchv1.JobNameLabel] == job {
			out = append(out, p)
		}
	}
	return out
}

// waitJob polls until Job name has condition typ (Complete or Failed)
// and returns it.
func (e *env) waitJob(t *testing.T, name string, typ batchv1.JobConditionType, timeout time.Duration) batchv1.Job {
	t.Helper()
	var j batchv1.Job
	eventually(t, timeout, func() error {
		j = e.job(name)
		for _, c := range j.Status.Conditions {
			if c.Type == typ && c.Status == corev1.ConditionTrue {
				return nil
			}
		}
		return fmt.Errorf("job %s is not %s: %+v", name, typ, j.Status)
	})
	return j
}

// TestJobCompletionsParallelism: 3 completions, 2 at a time: never more
// than 2 pods active (sampled), 3 succeeded pods kept, Complete.
func TestJobCompletionsParallelism(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	f := e.manifest("job.yaml", jobYAML("count", "  completions: 3\n  parallelism: 2\n", "sleep 1; echo done"))
	e.must("apply", "-f", f)
	most := 0
	eventually(t, 60*time.Second, func() error {
		active := 0
		for _, p := range e.jobPods("count") {
			if p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
				active++
			}
		}
		most = max(most, active)
		j := e.job("count")
		if _, done := runner.JobFinished(&j); !done {
			return fmt.Errorf("not finished: %+v", j.Status)
		}
		return nil
	})
	if most > 2 {
		t.Errorf("%d pods active at once, parallelism 2", most)
	}
	j := e.waitJob(t, "count", batchv1.JobComplete, time.Second)
	if j.Status.Succeeded != 3 || j.Status.CompletionTime == nil {
		t.Errorf("status %+v", j.Status)
	}
	pods := e.jobPods("count")
	if len(pods) != 3 {
		t.Errorf("%d pods kept, want the 3 that succeeded", len(pods))
	}
	for _, p := range pods {
		if p.Status.Phase != corev1.PodSucceeded || p.Labels["controller-uid"] != string(j.UID) || p.Labels[batchv1.ControllerUidLabel] != string(j.UID) {
			t.Errorf("pod %s: %s, labels %v", p.Name, p.Status.Phase, p.Labels)
		}
	}
	if out := e.must("get", "jobs"); !regexp.MustCompile(`count\s+Complete\s+3/3\s+\d+s`).MatchString(out) {
		t.Errorf("get jobs:\n%s", out)
	}
	out, errOut, err := e.run("logs", "job/count")
	if err != nil || strings.TrimSpace(out) != "done" || !strings.Contains(errOut, "Found 3 pods, using pod/count-") {
		t.Errorf("logs job/count: %v\n%s%s", err, out, errOut)
	}
	e.must("delete", "-f", f)
	if n := len(e.jobPods("count")); n != 0 {
		t.Errorf("%d pods left after the Job was deleted", n)
	}
}

// TestJobIndexed: an Indexed Job's pods are <job>-<index>-<5>, carry the
// index as label and annotation, and print it from JOB_COMPLETION_INDEX.
func TestJobIndexed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	f := e.manifest("job.yaml", jobYAML("idx", "  completions: 3\n  parallelism: 3\n  completionMode: Indexed\n", "echo index=$JOB_COMPLETION_INDEX"))
	e.must("apply", "-f", f)
	j := e.waitJob(t, "idx", batchv1.JobComplete, 60*time.Second)
	if j.Status.CompletedIndexes != "0-2" {
		t.Errorf("completedIndexes %q", j.Status.CompletedIndexes)
	}
	pods := e.jobPods("idx")
	if len(pods) != 3 {
		t.Fatalf("%d pods", len(pods))
	}
	for _, p := range pods {
		i := p.Annotations[batchv1.JobCompletionIndexAnnotation]
		if !regexp.MustCompile(`^idx-`+i+`-[a-z0-9]{5}$`).MatchString(p.Name) || p.Labels[batchv1.JobCompletionIndexAnnotation] != i {
			t.Errorf("pod %s: index %q, labels %v", p.Name, i, p.Labels)
		}
		if out := e.must("logs", p.Name); strings.TrimSpace(out) != "index="+i {
			t.Errorf("pod %s printed %q", p.Name, out)
		}
	}
	e.must("delete", "-f", f)
}

// TestJobBackoffLimit: a Job whose pods fail is Failed, with the reason,
// once backoffLimit + 1 pods have failed, re-created after the back-off
// (shortened for the test).
func TestJobBackoffLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	fast := []string{runner.JobBackoffEnv + "=100ms"}
	f := e.manifest("job.yaml", jobYAML("fail", "  backoffLimit: 1\n", "echo failing; exit 3"))
	e.mustEnv(fast, "apply", "-f", f)
	j := e.waitJob(t, "fail", batchv1.JobFailed, 60*time.Second)
	var reason string
	for _, c := range j.Status.Conditions {
		if c.Type == batchv1.JobFailed {
			reason = c.Reason
		}
	}
	if reason != batchv1.JobReasonBackoffLimitExceeded || j.Status.Failed != 2 {
		t.Errorf("failed %d, reason %q; want 2, BackoffLimitExceeded", j.Status.Failed, reason)
	}
	if n := len(e.jobPods("fail")); n != 2 {
		t.Errorf("%d pods kept, want the 2 that failed", n)
	}
	if out := e.must("get", "jobs"); !regexp.MustCompile(`fail\s+Failed\s+0/1\s`).MatchString(out) {
		t.Errorf("get jobs:\n%s", out)
	}
	e.mustEnv(fast, "delete", "-f", f)
}

// TestJobPodFailurePolicyIgnore: exit code 42 is ignored by the policy
// (not counted against backoffLimit 0), the next pod succeeds.
func TestJobPodFailurePolicyIgnore(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	dir := t.TempDir()
	spec := `  backoffLimit: 0
  podFailurePolicy:
    rules:
    - action: Ignore
      onExitCodes: {operator: In, values: [42]}
`
	text := jobYAML("flaky", spec, "if [ -e /mark/seen ]; then echo ok; else touch /mark/seen; exit 42; fi")
	text = strings.Replace(text, "        command:", "        volumeMounts: [{name: mark, mountPath: /mark}]\n        command:", 1)
	text += fmt.Sprintf("      volumes:\n      - {name: mark, hostPath: {path: %s, type: Directory}}\n", dir)
	f := e.manifest("job.yaml", text)
	e.mustEnv([]string{runner.JobBackoffEnv + "=100ms"}, "apply", "-f", f)
	j := e.waitJob(t, "flaky", batchv1.JobComplete, 60*time.Second)
	if j.Status.Failed != 0 || j.Status.Succeeded != 1 {
		t.Errorf("status %+v: the ignored failure was counted", j.Status)
	}
	phases := map[corev1.PodPhase]int{}
	for _, p := range e.jobPods("flaky") {
		phases[p.Status.Phase]++
	}
	if phases[corev1.PodFailed] != 1 || phases[corev1.PodSucceeded] != 1 {
		t.Errorf("pods %v; want one failed (42) and one succeeded", phases)
	}
	e.must("delete", "-f", f)
}

// TestCronJobForbid: a CronJob firing every minute, on a clock running
// sixty times as fast, whose Jobs take longer than its period: under
// concurrencyPolicy Forbid no two of its Jobs overlap. Then `create job
// --from` runs one now.
func TestCronJobForbid(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	clock := []string{runner.ClockEnv + "=" + time.Now().UTC().Format(time.RFC3339Nano) + ",60"}
	f := e.manifest("cj.yaml", `apiVersion: batch/v1
kind: CronJob
metadata:
  name: tick
spec:
  schedule: "* * * * *"
  concurrencyPolicy: Forbid
  successfulJobsHistoryLimit: 10
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 1
          containers:
          - name: main
            image: localhost/podrun/busybox:demo
            command: ["sh", "-c", "sleep 2; echo tick"]
`)
	e.mustEnv(clock, "apply", "-f", f)
	list := func() []batchv1.Job {
		var l batchv1.JobList
		if err := json.Unmarshal([]byte(e.mustEnv(clock, "get", "jobs", "-o", "json")), &l); err != nil {
			t.Fatal(err)
		}
		return l.Items
	}
	mostActive := 0
	var jobs []batchv1.Job
	eventually(t, 90*time.Second, func() error {
		jobs = list()
		done, active := 0, 0
		for i := range jobs {
			if _, ok := runner.JobFinished(&jobs[i]); ok {
				done++
			} else {
				active++
			}
		}
		mostActive = max(mostActive, active)
		if done < 3 {
			return fmt.Errorf("%d jobs complete, want 3", done)
		}
		return nil
	})
	if mostActive > 1 {
		t.Errorf("%d jobs active at once under Forbid", mostActive)
	}
	var finished []batchv1.Job
	for _, j := range jobs {
		if !regexp.MustCompile(`^tick-\d{8,}$`).MatchString(j.Name) || j.OwnerReferences[0].Kind != "CronJob" {
			t.Errorf("job %s owned by %+v", j.Name, j.OwnerReferences)
		}
		if _, ok := runner.JobFinished(&j); ok {
			finished = append(finished, j)
		}
	}
	slices.SortFunc(finished, func(a, b batchv1.Job) int { return a.Status.StartTime.Compare(b.Status.StartTime.Time) })
	for i := 1; i < len(finished); i++ {
		prev, next := finished[i-1], finished[i]
		if next.Status.StartTime.Before(prev.Status.CompletionTime) {
			t.Errorf("job %s started at %s, before %s completed at %s", next.Name, next.Status.StartTime, prev.Name, prev.Status.CompletionTime)
		}
	}
	if out := e.mustEnv(clock, "get", "cronjobs"); !regexp.MustCompile(`tick\s+\* \* \* \* \*\s+<none>\s+False\s+[01]\s`).MatchString(out) {
		t.Errorf("get cronjobs:\n%s", out)
	}

	e.mustEnv(clock, "create", "job", "now", "--from=cronjob/tick")
	eventually(t, 60*time.Second, func() error {
		for _, j := range list() {
			if j.Name == "now" {
				if _, ok := runner.JobFinished(&j); ok && j.Annotations["cronjob.kubernetes.io/instantiate"] == "manual" {
					return nil
				}
				return fmt.Errorf("job now: %+v", j.Status)
			}
		}
		return fmt.Errorf("no job now")
	})
	if _, errOut, err := e.runEnv(clock, "create", "job", "now", "--from=cronjob/tick"); err == nil || !strings.Contains(errOut, "already exists") {
		t.Errorf("a second job now: %v %s", err, errOut)
	}
	if _, errOut, err := e.runEnv(clock, "create", "job", "x", "--from=cronjob/nope"); err == nil || !strings.Contains(errOut, `cronjobs.batch "nope" not found`) {
		t.Errorf("a job from no cronjob: %v %s", err, errOut)
	}
	e.mustEnv(clock, "delete", "-f", f)
	if n := len(list()); n != 0 {
		t.Errorf("%d jobs left after the CronJob was deleted", n)
	}
}

// TestUpJob: `up` of a Job is a CI gate: it follows the Job's pods' logs,
// exits 0 once it completes and 1 once it fails, with the failing pod's
// last lines, and leaves nothing behind.
func TestUpJob(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	ok := e.startUp(t, e.manifest("ok.yaml", jobYAML("pass", "  completions: 2\n", "echo passing")))
	if code := ok.wait(t, 60*time.Second); code != 0 {
		t.Errorf("up of a Job that completes exited %d\nstdout: %s\nstderr: %s", code, ok.out.String(), ok.errOut.String())
	}
	if n := strings.Count(ok.out.String(), "passing"); n != 2 {
		t.Errorf("up printed the pods' line %d times, want 2:\n%s", n, ok.out.String())
	}
	bad := e.startUp(t, e.manifest("bad.yaml", jobYAML("broken", "  backoffLimit: 0\n", "echo first; echo the reason it broke; exit 7")))
	if code := bad.wait(t, 60*time.Second); code != 1 {
		t.Errorf("up of a Job that fails exited %d", code)
	}
	if s := bad.errOut.String(); !strings.Contains(s, "BackoffLimitExceeded") || !strings.Contains(s, "the reason it broke") {
		t.Errorf("up's error does not say why:\n%s", s)
	}
	if out, _, _ := e.run("get", "jobs"); strings.TrimSpace(out) != "" {
		t.Errorf("up left jobs:\n%s", out)
	}
	if n := len(e.jobPods("pass")) + len(e.jobPods("broken")); n != 0 {
		t.Errorf("up left %d pods", n)
	}
}

// TestJobOnFailureTTL: restartPolicy OnFailure restarts the container in
// place (one pod, one restart, nothing failed); ttlSecondsAfterFinished
// then removes the pod, the Job and its supervisor.
func TestJobOnFailureTTL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	text := jobYAML("again", "  ttlSecondsAfterFinished: 3\n", "if [ -e /data/seen ]; then echo ok; else touch /data/seen; exit 1; fi")
	text = strings.Replace(text, "restartPolicy: Never", "restartPolicy: OnFailure", 1)
	text = strings.Replace(text, "        command:", "        volumeMounts: [{name: data, mountPath: /data}]\n        command:", 1)
	text += "      volumes:\n      - {name: data, emptyDir: {}}\n"
	f := e.manifest("job.yaml", text)
	fast := []string{runner.BackoffEnv + "=200ms"}
	e.mustEnv(fast, "apply", "-f", f)
	j := e.waitJob(t, "again", batchv1.JobComplete, 60*time.Second)
	pods := e.jobPods("again")
	if j.Status.Failed != 0 || len(pods) != 1 || pods[0].Status.ContainerStatuses[0].RestartCount != 1 {
		t.Errorf("status %+v, %d pods", j.Status, len(pods))
	}
	if out := e.must("apply", "-f", f); !strings.Contains(out, "unchanged") {
		t.Errorf("re-apply: %s", out)
	}
	eventually(t, 30*time.Second, func() error {
		if out, errOut, err := e.run("get", "job", "again"); err == nil {
			return fmt.Errorf("the Job is still there:\n%s%s", out, errOut)
		}
		if n := len(e.jobPods("again")); n != 0 {
			return fmt.Errorf("%d pods left", n)
		}
		if pids := e.supervisors(); len(pids) > 0 {
			return fmt.Errorf("supervisors %v still run", pids)
		}
		return nil
	})
}

// supervisors are the pids of the workload supervisors of e's run root.
func (e *env) supervisors() []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, d := range entries {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		raw, _ := os.ReadFile("/proc/" + d.Name() + "/cmdline")
		args := strings.Split(string(raw), "\x00")
		if slices.Contains(args, runner.SuperviseCommand) && slices.Contains(args, e.runRoot) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestJobSuspend: a suspended Job starts no pod and says so; applied
// again unsuspended, it runs to completion.
func TestJobSuspend(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	f := e.manifest("job.yaml", jobYAML("later", "  suspend: true\n", "echo ran"))
	e.must("apply", "-f", f)
	eventually(t, 30*time.Second, func() error {
		if out := e.must("get", "jobs"); !regexp.MustCompile(`later\s+Suspended\s+0/1\s`).MatchString(out) {
			return fmt.Errorf("get jobs:\n%s", out)
		}
		return nil
	})
	if n := len(e.jobPods("later")); n != 0 {
		t.Errorf("a suspended Job made %d pods", n)
	}
	f = e.manifest("job.yaml", jobYAML("later", "  suspend: false\n", "echo ran"))
	if out := e.must("apply", "-f", f); !strings.Contains(out, "configured") {
		t.Errorf("resuming: %s", out)
	}
	j := e.waitJob(t, "later", batchv1.JobComplete, 60*time.Second)
	if j.Status.Succeeded != 1 {
		t.Errorf("status %+v", j.Status)
	}
	e.must("delete", "-f", f)
}

// TestApplyWaitJob: apply --wait returns once a Job completes, and fails
// with the Job's reason when it fails, as a CI gate.
func TestApplyWaitJob(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	fast := []string{runner.JobBackoffEnv + "=100ms"}
	ok := e.manifest("ok.yaml", jobYAML("ok", "", "echo fine"))
	out := e.mustEnv(fast, "apply", "--wait", "--timeout", "60s", "-f", ok)
	if !strings.Contains(out, "job.batch/ok condition met") {
		t.Errorf("apply --wait of a Job that completes:\n%s", out)
	}
	if j := e.waitJob(t, "ok", batchv1.JobComplete, time.Second); j.Status.Succeeded != 1 {
		t.Errorf("job ok: %d succeeded after apply --wait", j.Status.Succeeded)
	}
	if out := e.must("describe", "job", "ok"); !regexp.MustCompile(`(?s)Name:\s+ok\n.*Pods Statuses:\s+0 Active \(0 Ready\) / 1 Succeeded / 0 Failed.*Complete\s+True`).MatchString(out) {
		t.Errorf("describe job ok:\n%s", out)
	}
	bad := e.manifest("bad.yaml", jobYAML("bad", "  backoffLimit: 0\n", "exit 3"))
	_, errOut, err := e.runEnv(fast, "apply", "--wait", "--timeout", "60s", "-f", bad)
	if err == nil || !strings.Contains(errOut, "job bad failed: BackoffLimitExceeded") {
		t.Errorf("apply --wait of a Job that fails: %v\n%s", err, errOut)
	}
	if out := e.must("describe", "job", "bad"); !regexp.MustCompile(`Failed\s+True\s+BackoffLimitExceeded`).MatchString(out) {
		t.Errorf("describe job bad:\n%s", out)
	}
	e.mustEnv(fast, "delete", "-f", ok, "-f", bad)
}
