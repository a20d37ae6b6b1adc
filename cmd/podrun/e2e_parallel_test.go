package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// ignoreTERM is a PID 1 that only SIGKILL stops, as `sleep` is.
const ignoreTERM = "trap '' TERM; while true; do sleep 1; done"

// manyPods is one file of n pods whose PID 1 ignores SIGTERM, each with
// grace seconds to stop.
func manyPods(prefix string, n, grace int) string {
	var docs []string
	for i := range n {
		docs = append(docs, podYAML(fmt.Sprintf("%s%d", prefix, i),
			fmt.Sprintf("  terminationGracePeriodSeconds: %d\n", grace),
			container("c", ignoreTERM, "")))
	}
	return strings.Join(docs, "---\n")
}

// TestDeleteManyPodsInParallel: delete -f stops a file's pods side by
// side, so that their grace periods pass together. Stopped one after
// another, at most one pod at a time would be Terminating; here every
// pod is seen Terminating at once, with no clock in the assertion.
func TestDeleteManyPodsInParallel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	const n = 6
	path := e.manifest("pods.yaml", manyPods("stubborn", n, 3))
	e.must("apply", "-f", path)

	out := deleteSeenTogether(t, e, n, "delete", "-f", path)
	var want strings.Builder
	for i := range n {
		fmt.Fprintf(&want, "pod %q deleted\n", fmt.Sprintf("stubborn%d", i))
	}
	if out != want.String() {
		t.Errorf("delete -f said\n%s\nwant, in the file's order,\n%s", out, want.String())
	}
	if got := e.must("get", "pods"); !strings.Contains(got, "No resources found") {
		t.Errorf("pods left after delete -f:\n%s", got)
	}
}

// TestDeletePodsByNameInParallel: delete pod a b c stops its pods side
// by side too, and reports them in the order named.
func TestDeletePodsByNameInParallel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	const n = 3
	e.must("apply", "-f", e.manifest("pods.yaml", manyPods("named", n, 3)))
	out := deleteSeenTogether(t, e, n, "delete", "pod", "named2", "named0", "named1")
	want := "pod \"named2\" deleted\npod \"named0\" deleted\npod \"named1\" deleted\n"
	if out != want {
		t.Errorf("delete said\n%s\nwant, in the order named,\n%s", out, want)
	}
	if got := e.must("get", "pods"); !strings.Contains(got, "No resources found") {
		t.Errorf("pods left after delete:\n%s", got)
	}
}

// deleteSeenTogether runs podrun args, a delete of n pods, in the
// background, and fails unless get shows all n Terminating at one time
// before it ends, or if it fails. It returns the delete's output.
func deleteSeenTogether(t *testing.T, e *env, n int, args ...string) string {
	t.Helper()
	var out, errOut string
	deleted := make(chan error, 1)
	go func() {
		var err error
		out, errOut, err = e.run(args...)
		deleted <- err
	}()
	for most := 0; most < n; time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-deleted:
			t.Fatalf("%s ended (%v) before all %d pods were seen Terminating at once (at most %d)\n%s%s",
				strings.Join(args, " "), err, n, most, out, errOut)
		default:
		}
		most = max(most, terminating(t, e))
	}
	if err := <-deleted; err != nil {
		t.Fatalf("%s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// terminating counts the pods that get shows with a deletion timestamp.
func terminating(t *testing.T, e *env) int {
	t.Helper()
	stdout, _, err := e.run("get", "pods", "-o", "json")
	if err != nil {
		return 0 // a pod removed between listing and reading
	}
	var list corev1.PodList
	if err := json.Unmarshal([]byte(stdout), &list); err != nil {
		t.Fatalf("get pods -o json: %v\n%s", err, stdout)
	}
	n := 0
	for _, p := range list.Items {
		if p.DeletionTimestamp != nil {
			n++
		}
	}
	return n
}
