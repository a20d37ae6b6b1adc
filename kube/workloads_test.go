package kube

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	intstrpkg "k8s.io/apimachinery/pkg/util/intstr"
)

// workloadsIn checks every object of a file of testdata/workloads.
func workloadsIn(t *testing.T, name string, opts Options) ([]*Workload, []string, error) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "workloads", name))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Decode(name, data)
	if err != nil {
		t.Fatalf("decoding: %v", err)
	}
	var ws []*Workload
	var warnings []string
	var errs ErrorList
	for _, o := range objs {
		w, warn, e := workload(o, opts)
		if w != nil {
			ws = append(ws, w)
		}
		warnings = append(warnings, warn...)
		errs = append(errs, e...)
	}
	return ws, warnings, errs.err()
}

// TestWorkloadsFromDocs runs the examples of the Kubernetes documentation,
// which a cluster accepts, and checks the defaults each kind gets.
func TestWorkloadsFromDocs(t *testing.T) {
	tests := []struct {
		file     string
		kind     string
		warnings []string
		check    func(t *testing.T, w *Workload)
	}{
		{file: "deployment-docs.yaml", kind: "Deployment", check: func(t *testing.T, w *Workload) {
			d := w.Object.(*appsv1.Deployment)
			want := appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxUnavailable: ptr(intstrpkg.FromString("25%")), MaxSurge: ptr(intstrpkg.FromString("25%"))}}
			if diff := cmp.Diff(want, d.Spec.Strategy); diff != "" {
				t.Errorf("strategy (-want +got):\n%s", diff)
			}
			if *d.Spec.Replicas != 3 || *d.Spec.RevisionHistoryLimit != 10 || *d.Spec.ProgressDeadlineSeconds != 600 || d.Spec.MinReadySeconds != 0 {
				t.Errorf("replicas %d, revisionHistoryLimit %d, progressDeadlineSeconds %d, minReadySeconds %d",
					*d.Spec.Replicas, *d.Spec.RevisionHistoryLimit, *d.Spec.ProgressDeadlineSeconds, d.Spec.MinReadySeconds)
			}
		}},
		{file: "replicaset-docs.yaml", kind: "ReplicaSet", check: func(t *testing.T, w *Workload) {
			if rs := w.Object.(*appsv1.ReplicaSet); *rs.Spec.Replicas != 3 {
				t.Errorf("replicas %d", *rs.Spec.Replicas)
			}
		}},
		{file: "statefulset-docs.yaml", kind: "StatefulSet", check: func(t *testing.T, w *Workload) {
			s := w.Object.(*appsv1.StatefulSet).Spec
			want := appsv1.StatefulSetSpec{
				PodManagementPolicy: appsv1.OrderedReadyPodManagement,
				UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
					RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr(int32(0))}},
				PersistentVolumeClaimRetentionPolicy: &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
					WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType, WhenScaled: appsv1.RetainPersistentVolumeClaimRetentionPolicyType},
				RevisionHistoryLimit: ptr(int32(10)),
				Replicas:             ptr(int32(3)),
			}
			got := appsv1.StatefulSetSpec{PodManagementPolicy: s.PodManagementPolicy, UpdateStrategy: s.UpdateStrategy,
				PersistentVolumeClaimRetentionPolicy: s.PersistentVolumeClaimRetentionPolicy, RevisionHistoryLimit: s.RevisionHistoryLimit, Replicas: s.Replicas}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("defaults (-want +got):\n%s", diff)
			}
			if m := s.VolumeClaimTemplates[0].Spec.VolumeMode; m == nil || *m != corev1.PersistentVolumeFilesystem {
				t.Errorf("claim template volumeMode %v", m)
			}
			// The claim volumes are the controller's to add, pod by pod.
			if len(s.Template.Spec.Volumes) != 0 {
				t.Errorf("template volumes %+v", s.Template.Spec.Volumes)
			}
		}},
		{file: "daemonset-docs.yaml", kind: "DaemonSet",
			// Its tolerations are honoured: this node has no taints.
			check: func(t *testing.T, w *Workload) {
				ds := w.Object.(*appsv1.DaemonSet)
				want := appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType, RollingUpdate: &appsv1.RollingUpdateDaemonSet{
					MaxUnavailable: ptr(intstrpkg.FromInt32(1)), MaxSurge: ptr(intstrpkg.FromInt32(0))}}
				if diff := cmp.Diff(want, ds.Spec.UpdateStrategy); diff != "" {
					t.Errorf("updateStrategy (-want +got):\n%s", diff)
				}
				if *ds.Spec.RevisionHistoryLimit != 10 || ds.Namespace != "kube-system" {
					t.Errorf("revisionHistoryLimit %d, namespace %q", *ds.Spec.RevisionHistoryLimit, ds.Namespace)
				}
				if v := ds.Spec.Template.Spec.Volumes[0].HostPath.Type; v == nil || *v != corev1.HostPathUnset {
					t.Errorf("template volume not defaulted as a pod's: %v", v)
				}
			}},
		{file: "job-docs.yaml", kind: "Job", check: func(t *testing.T, w *Workload) {
			j := w.Object.(*batchv1.Job)
			s := j.Spec
			if *s.Completions != 1 || *s.Parallelism != 1 || *s.BackoffLimit != 4 || *s.CompletionMode != batchv1.NonIndexedCompletion ||
				*s.Suspend || *s.PodReplacementPolicy != batchv1.TerminatingOrFailed {
				t.Errorf("completions %d, parallelism %d, backoffLimit %d, completionMode %s, suspend %v, podReplacementPolicy %s",
					*s.Completions, *s.Parallelism, *s.BackoffLimit, *s.CompletionMode, *s.Suspend, *s.PodReplacementPolicy)
			}
			uid := string(JobUID("default", "pi"))
			if string(j.UID) != uid {
				t.Errorf("uid %q, want %q", j.UID, uid)
			}
			wantLabels := map[string]string{"controller-uid": uid, "job-name": "pi",
				batchv1.ControllerUidLabel: uid, batchv1.JobNameLabel: "pi"}
			if diff := cmp.Diff(wantLabels, s.Template.Labels); diff != "" {
				t.Errorf("template labels (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(&metav1.LabelSelector{MatchLabels: map[string]string{batchv1.ControllerUidLabel: uid}}, s.Selector); diff != "" {
				t.Errorf("selector (-want +got):\n%s", diff)
			}
		}},
		{file: "job-indexed.yaml", kind: "Job", check: func(t *testing.T, w *Workload) {
			j := w.Object.(*batchv1.Job)
			s := j.Spec
			if *s.BackoffLimit != math.MaxInt32 || *s.PodReplacementPolicy != batchv1.Failed || *s.Completions != 5 || *s.Parallelism != 3 {
				t.Errorf("backoffLimit %d, podReplacementPolicy %s, completions %d, parallelism %d",
					*s.BackoffLimit, *s.PodReplacementPolicy, *s.Completions, *s.Parallelism)
			}
			if st := s.PodFailurePolicy.Rules[1].OnPodConditions[0].Status; st != corev1.ConditionTrue {
				t.Errorf("onPodConditions status %q", st)
			}
			// The Job's own labels win over the template's.
			if diff := cmp.Diff(map[string]string{"team": "a"}, j.Labels); diff != "" {
				t.Errorf("labels (-want +got):\n%s", diff)
			}
		}},
		{file: "cronjob-docs.yaml", kind: "CronJob", check: func(t *testing.T, w *Workload) {
			cj := w.Object.(*batchv1.CronJob)
			s := cj.Spec
			if s.ConcurrencyPolicy != batchv1.AllowConcurrent || *s.Suspend || *s.SuccessfulJobsHistoryLimit != 3 || *s.FailedJobsHistoryLimit != 1 {
				t.Errorf("concurrencyPolicy %s, suspend %v, history %d/%d", s.ConcurrencyPolicy, *s.Suspend, *s.SuccessfulJobsHistoryLimit, *s.FailedJobsHistoryLimit)
			}
			if w.Template != &cj.Spec.JobTemplate.Spec.Template {
				t.Error("Template is not the job template's")
			}
			if s.JobTemplate.Spec.Completions != nil || s.JobTemplate.Spec.Selector != nil {
				t.Errorf("job template defaulted: %+v", s.JobTemplate.Spec)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ws, warnings, err := workloadsIn(t, tt.file, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(ws) != 1 || ws[0].Kind != tt.kind || ws[0].Source != (Source{File: tt.file, Line: 3}) {
				t.Fatalf("got %+v", ws)
			}
			if diff := cmp.Diff(tt.warnings, warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			w := ws[0]
			if w.Meta().GetNamespace() == "" {
				t.Error("no namespace")
			}
			// Every template gets the defaults of a pod.
			if w.Template.Spec.DNSPolicy != corev1.DNSClusterFirst || w.Template.Spec.Containers[0].TerminationMessagePath == "" {
				t.Errorf("template spec not defaulted: %+v", w.Template.Spec)
			}
			tt.check(t, w)
		})
	}
}

// TestWorkloadErrors checks each refusal's file, line, field and reason.
// Each wanted line is the start of the error's line.
func TestWorkloadErrors(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{{"bad-deployment.yaml", []string{
		`bad-deployment.yaml:6: spec.replicas: Invalid value: -1: must be greater than or equal to 0`,
		`bad-deployment.yaml:8: spec.progressDeadlineSeconds: Invalid value: 30: must be greater than minReadySeconds`,
		`bad-deployment.yaml:13: spec.selector.matchExpressions[0].operator: Invalid value: "Within": not a valid selector operator`,
		"bad-deployment.yaml:17: spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"0%\": may not be 0 when `maxSurge` is 0",
		`bad-deployment.yaml:23: spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"`,
		`bad-deployment.yaml:24: spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported`,
		`bad-deployment.yaml:27: spec.template.spec.containers[0].image: Required value`,
	}}, {"bad-deployment-strategy.yaml", []string{
		`bad-deployment-strategy.yaml:4: metadata.name: Invalid value: "Web": a lowercase RFC 1123 subdomain`,
		`bad-deployment-strategy.yaml:6: spec.selector: Invalid value: "{}": empty selector is invalid for deployment`,
		"bad-deployment-strategy.yaml:9: spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'",
		`bad-deployment-strategy.yaml:26: spec.strategy.type: Unsupported value: "Blue": supported values: "Recreate", "RollingUpdate"`,
		`bad-deployment-strategy.yaml:42: spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "101%": must not be greater than 100%`,
	}}, {"bad-replicaset.yaml", []string{
		`bad-replicaset.yaml:5: spec.selector: Required value`,
		`bad-replicaset.yaml:6: spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0`,
		`bad-replicaset.yaml:15: spec.template.spec.containers[0].ports[0].containerPort: Required value`,
		"bad-replicaset.yaml:29: spec.template.metadata.labels: Invalid value: {\"app\":\"db\",\"version\":\"1\"}: `selector` does not match template `labels`",
	}}, {"bad-statefulset.yaml", []string{
		`bad-statefulset.yaml:4: metadata.name: Invalid value: "db.example": must not contain dots`,
		`bad-statefulset.yaml:6: spec.serviceName: Invalid value: "Not_A_Label": a lowercase RFC 1123 label`,
		`bad-statefulset.yaml:7: spec.podManagementPolicy: Unsupported value: "Random": supported values: "OrderedReady", "Parallel"`,
		`bad-statefulset.yaml:9: spec.ordinals.start: Invalid value: -1: must be greater than or equal to 0`,
		`bad-statefulset.yaml:11: spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value: "Keep": supported values: "Retain", "Delete"`,
		`bad-statefulset.yaml:14: spec.updateStrategy.rollingUpdate: Invalid value: only allowed for updateStrategy 'RollingUpdate'`,
		// "data" is a claim, "logs" is not: its template is invalid.
		`bad-statefulset.yaml:27: spec.template.spec.containers[0].volumeMounts[1].name: Not found: "logs"`,
		`bad-statefulset.yaml:33: spec.volumeClaimTemplates[1].metadata.name: Duplicate value: "data"`,
		`bad-statefulset.yaml:37: spec.volumeClaimTemplates[2].metadata.name: Invalid value: "Logs": a lowercase RFC 1123 label`,
		`bad-statefulset.yaml:38: spec.volumeClaimTemplates[2].spec.accessModes: Required value: at least 1 access mode is required`,
		`bad-statefulset.yaml:39: spec.volumeClaimTemplates[2].spec.resources[storage]: Required value`,
	}}, {"bad-daemonset.yaml", []string{
		`bad-daemonset.yaml:9: spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "1": may not be set when maxUnavailable is non-zero`,
		`bad-daemonset.yaml:14: spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"`,
		`bad-daemonset.yaml:27: spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0`,
	}}, {"bad-job.yaml", []string{
		`bad-job.yaml:6: spec.parallelism: Invalid value: -2: must be greater than or equal to 0`,
		`bad-job.yaml:8: spec.activeDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0`,
		`bad-job.yaml:9: spec.ttlSecondsAfterFinished: Invalid value: -5: must be greater than or equal to 0`,
		`bad-job.yaml:10: spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode`,
		`bad-job.yaml:11: spec.maxFailedIndexes: Invalid value: 4: requires indexed completion mode`,
		`bad-job.yaml:12: spec.successPolicy: Invalid value: requires indexed completion mode`,
		"bad-job.yaml:15: spec.selector: Invalid value: \"app=work,batch.kubernetes.io/controller-uid=" + string(JobUID("default", "work")) + "\": `selector` not auto-generated",
		`bad-job.yaml:20: spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"`,
		"bad-job.yaml:34: spec.template.metadata.labels: Invalid value: {\"app\":\"other\",\"job-name\":\"someone-else\"}: `selector` does not match template `labels`",
		`bad-job.yaml:47: spec.template.metadata.labels[job-name]: Invalid value: "someone-else": must be 'relabelled'`,
	}}, {"bad-job-indexed.yaml", []string{
		`bad-job-indexed.yaml:9: spec.maxFailedIndexes: Invalid value: 5: must be less than or equal to completions`,
		`bad-job-indexed.yaml:12: spec.successPolicy.rules[0].succeededIndexes: Invalid value: "0,2-1": error parsing succeededIndexes: non-increasing order, previous: 2, current: 1`,
		`bad-job-indexed.yaml:13: spec.successPolicy.rules[1].succeededCount: Invalid value: 4: must be less than or equal to 3 (the number of specified completions)`,
		`bad-job-indexed.yaml:14: spec.successPolicy.rules[2]: Required value: at least one of succeededCount or succeededIndexes must be specified`,
		`bad-job-indexed.yaml:15: spec.podReplacementPolicy: Unsupported value: "TerminatingOrFailed": supported values: "Failed"`,
		`bad-job-indexed.yaml:18: spec.podFailurePolicy.rules[0].action: Unsupported value: "Explode": supported values: "Count", "FailIndex", "FailJob", "Ignore"`,
		`bad-job-indexed.yaml:20: spec.podFailurePolicy.rules[0].onExitCodes.containerName: Invalid value: "nope": must be one of the container or initContainer names in the pod template`,
		`bad-job-indexed.yaml:22: spec.podFailurePolicy.rules[0].onExitCodes.values[1]: Invalid value: 0: must not be 0 for the In operator`,
		`bad-job-indexed.yaml:22: spec.podFailurePolicy.rules[0].onExitCodes.values[2]: Duplicate value: 3`,
		`bad-job-indexed.yaml:22: spec.podFailurePolicy.rules[0].onExitCodes.values: Invalid value: "[3 0 3]": must be ordered`,
		`bad-job-indexed.yaml:26: spec.podFailurePolicy.rules[1].onPodConditions[0].status: Unsupported value: "Maybe": supported values: "False", "True", "Unknown"`,
		`bad-job-indexed.yaml:27: spec.podFailurePolicy.rules[2]: Invalid value: specifying one of OnExitCodes and OnPodConditions is required`,
		`bad-job-indexed.yaml:28: spec.podFailurePolicy.rules[3]: Invalid value: specifying both OnExitCodes and OnPodConditions is not supported`,
		`bad-job-indexed.yaml:29: spec.podFailurePolicy.rules[3].onExitCodes.operator: Unsupported value: "Between": supported values: "In", "NotIn"`,
		`bad-job-indexed.yaml:33: spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified`,
		`bad-job-indexed.yaml:41: spec.selector: Required value`,
		`bad-job-indexed.yaml:43: spec.completionMode: Unsupported value: "Sometimes": supported values: "NonIndexed", "Indexed"`,
		`bad-job-indexed.yaml:47: spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"`,
	}}, {"bad-cronjob.yaml", []string{
		`bad-cronjob.yaml:4: metadata.name: Invalid value: "a-cronjob-name-that-is-much-longer-than-fifty-two-chars": must be no more than 52 characters`,
		`bad-cronjob.yaml:6: spec.schedule: Invalid value: "TZ=UTC 61 * * * *": end of range (61) above maximum (59): 61`,
		`bad-cronjob.yaml:6: spec.schedule: Invalid value: "TZ=UTC 61 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead`,
		`bad-cronjob.yaml:7: spec.timeZone: Invalid value: "Mars/Olympus_Mons": unknown time zone Mars/Olympus_Mons`,
		`bad-cronjob.yaml:8: spec.startingDeadlineSeconds: Invalid value: -10: must be greater than or equal to 0`,
		`bad-cronjob.yaml:9: spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"`,
		`bad-cronjob.yaml:10: spec.successfulJobsHistoryLimit: Invalid value: -1: must be greater than or equal to 0`,
		`bad-cronjob.yaml:13: spec.jobTemplate.spec.manualSelector: Unsupported value: true: supported values: "nil", "false"`,
		"bad-cronjob.yaml:14: spec.jobTemplate.spec.selector: Invalid value: \"app=x\": `selector` will be auto-generated",
		`bad-cronjob.yaml:19: spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"`,
		`bad-cronjob.yaml:21: spec.jobTemplate.spec.template.spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes"`,
		`bad-cronjob.yaml:28: spec.schedule: Invalid value: "@fortnightly": unrecognized descriptor: @fortnightly`,
		`bad-cronjob.yaml:29: spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones`,
		`bad-cronjob.yaml:31: spec.jobTemplate.spec.completions: Required value: when completion mode is Indexed`,
		`bad-cronjob.yaml:47: spec.jobTemplate.metadata.labels: Invalid value: "bad key": name part must consist of alphanumeric characters`,
	}}}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, _, err := workloadsIn(t, tt.file, Options{})
			if err == nil {
				t.Fatal("no error")
			}
			got := strings.Split(err.Error(), "\n")
			for i := range max(len(got), len(tt.want)) {
				switch {
				case i >= len(got):
					t.Errorf("missing: %s", tt.want[i])
				case i >= len(tt.want):
					t.Errorf("unexpected: %s", got[i])
				case !strings.HasPrefix(got[i], tt.want[i]):
					t.Errorf("got:  %s\nwant: %s", got[i], tt.want[i])
				}
			}
		})
	}
}

func TestSetJobUID(t *testing.T) {
	ws, _, err := workloadsIn(t, "job-docs.yaml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	j := ws[0].Object.(*batchv1.Job)
	SetJobUID(j, "1234")
	want := map[string]string{"controller-uid": "1234", "job-name": "pi", batchv1.ControllerUidLabel: "1234", batchv1.JobNameLabel: "pi"}
	if diff := cmp.Diff(want, j.Spec.Template.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if j.UID != "1234" || j.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel] != "1234" {
		t.Errorf("uid %q, selector %v", j.UID, j.Spec.Selector)
	}
	SetJobUID(nil, "x")
}

func TestParseSchedule(t *testing.T) {
	from := time.Date(2026, 3, 7, 10, 17, 30, 0, time.UTC)
	tests := []struct {
		schedule string
		tz       *string
		next     time.Time // after from
		err      string
	}{
		{schedule: "*/15 * * * *", next: time.Date(2026, 3, 7, 10, 30, 0, 0, time.UTC)},
		{schedule: "0 0 * * SUN", next: time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC)},
		{schedule: "@hourly", next: time.Date(2026, 3, 7, 11, 0, 0, 0, time.UTC)},
		{schedule: "@daily", next: time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC)},
		{schedule: "@midnight", next: time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC)},
		{schedule: "@weekly", next: time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC)},
		{schedule: "@monthly", next: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)},
		{schedule: "@yearly", next: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{schedule: "@annually", next: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		// The API server parses with the same standard parser, which has @every.
		{schedule: "@every 90s", next: time.Date(2026, 3, 7, 10, 19, 0, 0, time.UTC)},
		// 09:00 in Tokyo is 00:00 UTC.
		{schedule: "0 9 * * *", tz: ptr("Asia/Tokyo"), next: time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC)},
		{schedule: "0 9 * * * *", err: `parsing schedule "0 9 * * * *": expected exactly 5 fields, found 6: [0 9 * * * *]`},
		{schedule: "* * * * *", tz: ptr("Local"), err: `loading time zone "Local": timeZone must be an explicit time zone`},
		{schedule: "* * * * *", tz: ptr("Nowhere/Special"), err: `loading time zone "Nowhere/Special": unknown time zone Nowhere/Special`},
	}
	for _, tt := range tests {
		t.Run(tt.schedule, func(t *testing.T) {
			cj := &batchv1.CronJob{Spec: batchv1.CronJobSpec{Schedule: tt.schedule, TimeZone: tt.tz}}
			sched, loc, err := ParseSchedule(cj)
			if tt.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
					t.Fatalf("error %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.tz == nil && loc != time.Local {
				t.Errorf("location %v, want the machine's", loc)
			}
			if tt.tz == nil {
				loc = time.UTC // as if the machine ran on UTC
			}
			if got := sched.Next(from.In(loc)); !got.Equal(tt.next) {
				t.Errorf("next %v, want %v", got.UTC(), tt.next)
			}
		})
	}
	if _, _, err := ParseSchedule(nil); err == nil {
		t.Error("nil CronJob: no error")
	}
}

// FuzzWorkload checks that no workload that decodes makes workload panic.
func FuzzWorkload(f *testing.F) {
	files, err := filepath.Glob("testdata/workloads/*.yaml")
	if err != nil || len(files) == 0 {
		f.Fatal("no testdata", err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, err := Decode("fuzz.yaml", data)
		if err != nil {
			return
		}
		for _, o := range objs {
			if isWorkload(kindOf(o).Kind) {
				_, _, _ = workload(o, Options{})
			}
		}
	})
}

// TestWorkloadsBare checks the least each kind can be: no panic, and the
// refusals a cluster gives.
func TestWorkloadsBare(t *testing.T) {
	tests := []struct{ doc, want string }{
		{"apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: d}\n",
			`a.yaml:1: apiVersion: Unsupported value: "extensions/v1beta1": supported values: "apps/v1"`},
		{"apiVersion: apps/v1\nkind: Deployment\n",
			"a.yaml:1: metadata.name: Required value: name or generateName is required\n" +
				"a.yaml:1: spec.selector: Required value\n" +
				"a.yaml:1: spec.template.spec.containers: Required value"},
		{"apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec:\n  updateStrategy: {type: RollingUpdate}\n  selector: {matchLabels: {a: b}}\n",
			"a.yaml:4: spec.template.metadata.labels: Invalid value: null: `selector` does not match template `labels`\n" +
				"a.yaml:4: spec.template.spec.containers: Required value"},
		{"apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d}\nspec: {updateStrategy: {type: OnDelete}, selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}}}\n",
			"a.yaml:4: spec.template.spec.containers: Required value"},
		{"apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec: {}\n",
			"a.yaml:4: spec.template.spec.containers: Required value\n" +
				`a.yaml:4: spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"`},
		{"apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\n",
			"a.yaml:1: spec.schedule: Required value\n" +
				"a.yaml:1: spec.jobTemplate.spec.template.spec.containers: Required value\n" +
				`a.yaml:1: spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"`},
	}
	for _, tt := range tests {
		objs, err := Decode("a.yaml", []byte(tt.doc))
		if err != nil {
			t.Fatal(err)
		}
		_, _, errs := workload(objs[0], Options{})
		got := "<nil>"
		if err := errs.err(); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%s\ngot:\n%s\nwant:\n%s", tt.doc, got, tt.want)
		}
	}
}

// TestWorkloadNamespace applies kubectl's namespace rule to workloads and
// to the pods of their templates.
func TestWorkloadNamespace(t *testing.T) {
	ws, _, err := workloadsIn(t, "deployment-docs.yaml", Options{Namespace: "team"})
	if err != nil {
		t.Fatal(err)
	}
	if ns := ws[0].Meta().GetNamespace(); ns != "team" {
		t.Errorf("namespace %q", ns)
	}
	_, _, err = workloadsIn(t, "daemonset-docs.yaml", Options{Namespace: "team"})
	if err == nil || strings.Count(err.Error(), "\n") > 0 ||
		!strings.HasPrefix(err.Error(), `daemonset-docs.yaml:7: the namespace from the provided object "kube-system" does not match the namespace "team"`) {
		t.Errorf("error %v", err)
	}
}

func TestValidateWorkloadUpdate(t *testing.T) {
	tests := []struct {
		file     string
		old, new string // replaced in the file to make the update
		want     string
	}{
		{"deployment-docs.yaml", "replicas: 3", "replicas: 5", ""},
		{"deployment-docs.yaml", "app: nginx", "app: web",
			`deployment-docs.yaml:11: spec.selector: Invalid value: "app=web": field is immutable`},
		{"statefulset-docs.yaml", "replicas: 3", "replicas: 1", ""},
		{"statefulset-docs.yaml", "image: registry.k8s.io/nginx-slim:0.24", "image: registry.k8s.io/nginx-slim:0.26", ""},
		{"statefulset-docs.yaml", `serviceName: "nginx"`, `serviceName: "web"`,
			`statefulset-docs.yaml:11: spec.serviceName: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden`},
		{"daemonset-docs.yaml", "name: fluentd-elasticsearch\n", "name: fluentd\n",
			`daemonset-docs.yaml:11: spec.selector: Invalid value: "name=fluentd": field is immutable`},
		{"job-docs.yaml", "backoffLimit: 4", "backoffLimit: 5", ""},
		{"job-docs.yaml", "perl:5.34.0", "perl:5.36.0",
			`job-docs.yaml:8: spec.template: Invalid value: field is immutable`},
		{"job-docs.yaml", "spec:\n  template:", "spec:\n  completions: 2\n  template:",
			`job-docs.yaml:8: spec.completions: Invalid value: 2: field is immutable`},
		{"cronjob-docs.yaml", `schedule: "* * * * *"`, `schedule: "@hourly"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.new, func(t *testing.T) {
			prev, _, err := workloadsIn(t, tt.file, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if j, ok := prev[0].Object.(*batchv1.Job); ok {
				SetJobUID(j, "recorded-on-first-apply")
			}
			data, err := os.ReadFile(filepath.Join("testdata", "workloads", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			edited := strings.ReplaceAll(string(data), tt.old, tt.new)
			if edited == string(data) {
				t.Fatalf("%q not in %s", tt.old, tt.file)
			}
			objs, err := Decode(tt.file, []byte(edited))
			if err != nil {
				t.Fatal(err)
			}
			next, _, errs := workload(objs[0], Options{})
			if errs != nil {
				t.Fatal(errs)
			}
			got := ""
			if err := ValidateWorkloadUpdate(prev[0], next).err(); err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
	if ValidateWorkloadUpdate(nil, nil) != nil {
		t.Error("nil workloads")
	}
}

func TestJobsOfCronJob(t *testing.T) {
	ws, _, err := workloadsIn(t, "cronjob-docs.yaml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	cj := ws[0].Object.(*batchv1.CronJob)
	cj.UID = "cj-uid"
	cj.Spec.TimeZone = ptr("Europe/Paris")
	at := time.Date(2026, 3, 7, 10, 17, 0, 0, time.UTC)
	j := ScheduledJob(cj, at, "job-uid")
	if want := fmt.Sprintf("hello-%d", at.Unix()/60); j.Name != want || j.Namespace != "default" {
		t.Errorf("name %s/%s, want default/%s", j.Namespace, j.Name, want)
	}
	if got := j.Annotations[batchv1.CronJobScheduledTimestampAnnotation]; got != "2026-03-07T11:17:00+01:00" {
		t.Errorf("scheduled timestamp %q", got)
	}
	if r := j.OwnerReferences; len(r) != 1 || r[0].Kind != "CronJob" || r[0].UID != "cj-uid" || !*r[0].Controller {
		t.Errorf("owner references %+v", r)
	}
	if *j.Spec.Completions != 1 || *j.Spec.BackoffLimit != 6 || j.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel] != "job-uid" ||
		j.Spec.Template.Labels[batchv1.JobNameLabel] != j.Name || j.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		t.Errorf("job spec not defaulted: %+v", j.Spec)
	}
	if cj.Spec.JobTemplate.Spec.Selector != nil || cj.Spec.JobTemplate.Spec.Template.Labels != nil {
		t.Error("the CronJob changed")
	}

	m, err := ManualJob(cj, "hello-now", "manual-uid")
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "hello-now" || m.Annotations["cronjob.kubernetes.io/instantiate"] != "manual" || m.UID != "manual-uid" {
		t.Errorf("manual job %+v", m.ObjectMeta)
	}
	for _, name := range []string{"Hello", strings.Repeat("a", 64)} {
		if _, err := ManualJob(cj, name, "x"); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestWorkloadNotAWorkload(t *testing.T) {
	objs, err := Decode("a.yaml", []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, errs := workload(objs[0], Options{}); errs.Error() != "a.yaml:1: kind Pod (v1) is not a workload" {
		t.Errorf("got %v", errs)
	}
}

// TestWorkloadDefaultsAsWritten checks defaults that depend on what the
// manifest sets.
func TestWorkloadDefaultsAsWritten(t *testing.T) {
	const tmpl = "  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec: {containers: [{name: c, image: i}]}\n"
	tests := []struct {
		name, doc string
		check     func(t *testing.T, o any)
	}{
		{"statefulset RollingUpdate named keeps no rollingUpdate", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec:\n  updateStrategy: {type: RollingUpdate}\n" + tmpl,
			func(t *testing.T, o any) {
				if ru := o.(*appsv1.StatefulSet).Spec.UpdateStrategy.RollingUpdate; ru != nil {
					t.Errorf("rollingUpdate %+v", ru)
				}
			}},
		{"statefulset OnDelete", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec:\n  updateStrategy: {type: OnDelete}\n  persistentVolumeClaimRetentionPolicy: {whenScaled: Delete}\n" + tmpl,
			func(t *testing.T, o any) {
				s := o.(*appsv1.StatefulSet).Spec
				if s.UpdateStrategy.RollingUpdate != nil || s.PersistentVolumeClaimRetentionPolicy.WhenDeleted != "Retain" || s.PersistentVolumeClaimRetentionPolicy.WhenScaled != "Delete" {
					t.Errorf("%+v %+v", s.UpdateStrategy, s.PersistentVolumeClaimRetentionPolicy)
				}
			}},
		{"deployment Recreate", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  strategy: {type: Recreate}\n  replicas: 0\n" + tmpl,
			func(t *testing.T, o any) {
				s := o.(*appsv1.Deployment).Spec
				if s.Strategy.RollingUpdate != nil || *s.Replicas != 0 {
					t.Errorf("%+v, replicas %d", s.Strategy, *s.Replicas)
				}
			}},
		{"deployment half given", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  strategy: {rollingUpdate: {maxSurge: 2}}\n" + tmpl,
			func(t *testing.T, o any) {
				ru := o.(*appsv1.Deployment).Spec.Strategy.RollingUpdate
				if *ru.MaxSurge != intstrpkg.FromInt32(2) || *ru.MaxUnavailable != intstrpkg.FromString("25%") {
					t.Errorf("%+v", ru)
				}
			}},
		{"daemonset OnDelete", "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d}\nspec:\n  updateStrategy: {type: OnDelete}\n" + tmpl,
			func(t *testing.T, o any) {
				if ru := o.(*appsv1.DaemonSet).Spec.UpdateStrategy.RollingUpdate; ru != nil {
					t.Errorf("rollingUpdate %+v", ru)
				}
			}},
		{"job parallelism only", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  parallelism: 4\n  template:\n    spec: {restartPolicy: OnFailure, containers: [{name: c, image: i}]}\n",
			func(t *testing.T, o any) {
				s := o.(*batchv1.Job).Spec
				if s.Completions != nil || *s.Parallelism != 4 {
					t.Errorf("completions %v, parallelism %d: a work queue has no completions", s.Completions, *s.Parallelism)
				}
			}},
		{"job completions only", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  completions: 4\n  template:\n    spec: {restartPolicy: OnFailure, containers: [{name: c, image: i}]}\n",
			func(t *testing.T, o any) {
				s := o.(*batchv1.Job).Spec
				if *s.Completions != 4 || *s.Parallelism != 1 {
					t.Errorf("completions %d, parallelism %d", *s.Completions, *s.Parallelism)
				}
			}},
		{"job manual selector", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  manualSelector: true\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec: {restartPolicy: OnFailure, containers: [{name: c, image: i}]}\n",
			func(t *testing.T, o any) {
				j := o.(*batchv1.Job)
				if diff := cmp.Diff(map[string]string{"a": "b"}, j.Spec.Template.Labels); diff != "" || len(j.Spec.Selector.MatchLabels) != 1 {
					t.Errorf("a manual selector is left alone: labels %v, selector %v", j.Spec.Template.Labels, j.Spec.Selector)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Decode("a.yaml", []byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			w, _, errs := workload(objs[0], Options{})
			if errs != nil {
				t.Fatal(errs)
			}
			tt.check(t, w.Object)
		})
	}
}

func TestStatefulSetClaimsAndNames(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"a claim replaces the template's volume of its name", `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      volumes: [{name: scratch, emptyDir: {}}, {name: data, configMap: {name: c}}]
      containers: [{name: c, image: i, volumeMounts: [{name: data, mountPath: /d}, {name: scratch, mountPath: /s}]}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
`, ""},
		{"the last pod's host name", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: " + strings.Repeat("s", 62) + `
spec:
  replicas: 10
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec: {containers: [{name: c, image: i}]}
`, "a.yaml:4: metadata.name: Invalid value: \"" + strings.Repeat("s", 62) + "\": will not be able to create pod with invalid DNS label: " + strings.Repeat("s", 62) + "-9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := Decode("a.yaml", []byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			w, _, errs := workload(objs[0], Options{})
			got := ""
			if err := errs.err(); err != nil {
				got = err.Error()
			}
			if !strings.HasPrefix(got, tt.want) || (tt.want == "") != (got == "") {
				t.Fatalf("got:\n%s\nwant:\n%s", got, tt.want)
			}
			if w == nil {
				return
			}
			vols := w.Template.Spec.Volumes
			if len(vols) != 2 || vols[1].ConfigMap == nil || *vols[1].ConfigMap.DefaultMode != corev1.ConfigMapVolumeSourceDefaultMode {
				t.Errorf("template volumes are the template's, defaulted: %+v", vols)
			}
		})
	}
}

func TestJobManagedBy(t *testing.T) {
	job := func(managedBy string) string {
		return `apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec:
  managedBy: ` + managedBy + `
  template:
    spec:
      restartPolicy: Never
      containers: [{name: a, image: busybox}]
`
	}
	for _, tc := range []struct{ managedBy, err, elsewhere string }{
		{"kubernetes.io/job-controller", "", ""},
		{"example.com/queue", "", "example.com/queue"},
		{"queue", "spec.managedBy: Invalid value", ""},
		{"example.com/" + strings.Repeat("q", 60), "spec.managedBy: Too long", ""},
	} {
		set, err := expand(t, Options{}, job(tc.managedBy))
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want %s", tc.managedBy, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.managedBy, err)
		default:
			if got := JobManagedElsewhere(set.Workloads[0].Object.(*batchv1.Job)); got != tc.elsewhere {
				t.Errorf("%s: managed elsewhere %q", tc.managedBy, got)
			}
		}
	}
}
