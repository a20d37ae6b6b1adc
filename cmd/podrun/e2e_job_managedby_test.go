package main

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
)

// TestJobManagedElsewhere: a Job whose spec.managedBy names another
// controller is accepted, said so in one line, and left alone: no pods,
// no status, as the built-in controller leaves it; its managedBy cannot
// change.
func TestJobManagedElsewhere(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	manifest := func(managedBy string) string {
		return e.manifest("job.yaml", `apiVersion: batch/v1
kind: Job
metadata: {name: queued}
spec:
  managedBy: `+managedBy+`
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: main, image: localhost/podrun/busybox:demo, command: ["true"]}
`)
	}
	path := manifest("example.com/queue")
	out, errOut, err := e.run("apply", "-f", path)
	if err != nil || out != "job.batch/queued created\n" ||
		!strings.Contains(errOut, `job.batch/queued: spec.managedBy is "example.com/queue": podrun's Job controller leaves it to that controller and runs no pods for it`) {
		t.Fatalf("apply: %v\n%s%s", err, out, errOut)
	}
	time.Sleep(3 * time.Second) // the supervisor has had time to act, if it would
	if pods := e.podsOf("queued-"); len(pods) != 0 {
		t.Errorf("pods of a Job managed elsewhere: %v", slices.Sorted(maps.Keys(pods)))
	}
	var job batchv1.Job
	if err := json.Unmarshal([]byte(e.must("get", "job", "queued", "-o", "json")), &job); err != nil {
		t.Fatal(err)
	}
	if job.Status.StartTime != nil || len(job.Status.Conditions) != 0 || job.Spec.ManagedBy == nil || *job.Spec.ManagedBy != "example.com/queue" {
		t.Errorf("job: managedBy %v, status %+v", job.Spec.ManagedBy, job.Status)
	}
	if _, errOut, err := e.run("apply", "-f", manifest("kubernetes.io/job-controller")); err == nil || !strings.Contains(errOut, "managedBy") {
		t.Errorf("changing managedBy: %v %s", err, errOut)
	}
	e.must("delete", "job", "queued")
}
