package main

import (
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"
)

var benchPods = flag.Int("podrun.bench-pods", 20, "pods BenchmarkManyPods applies and deletes at once (try 100)")

// BenchmarkManyPods measures `apply -f` and `delete -f` of one file of
// -podrun.bench-pods pods against the same of one pod, in the same
// iterations, and reports each and their ratios: how far starting and
// stopping pods side by side is from one pod's time. The pods stop on
// SIGTERM, so the deletes measure podrun's own work, not grace periods.
// Nothing asserts a time.
func BenchmarkManyPods(b *testing.B) {
	e := newEnv(b)
	e.loadDemo()
	n := *benchPods
	one := e.manifest("one.yaml", manyBenchPods("solo", 1))
	many := e.manifest("many.yaml", manyBenchPods("many", n))
	var applyOne, deleteOne, applyMany, deleteMany time.Duration
	timed := func(d *time.Duration, args ...string) {
		start := time.Now()
		e.must(args...)
		*d += time.Since(start)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		timed(&applyOne, "apply", "-f", one)
		timed(&deleteOne, "delete", "-f", one)
		timed(&applyMany, "apply", "-f", many)
		timed(&deleteMany, "delete", "-f", many)
	}
	b.StopTimer()
	per := func(d time.Duration) float64 { return float64(d.Milliseconds()) / float64(b.N) }
	b.ReportMetric(per(applyOne), "apply-ms/1pod")
	b.ReportMetric(per(deleteOne), "delete-ms/1pod")
	b.ReportMetric(per(applyMany), fmt.Sprintf("apply-ms/%dpods", n))
	b.ReportMetric(per(deleteMany), fmt.Sprintf("delete-ms/%dpods", n))
	b.ReportMetric(float64(applyMany)/float64(applyOne), "apply-ratio")
	b.ReportMetric(float64(deleteMany)/float64(deleteOne), "delete-ratio")
}

// manyBenchPods is one file of n pods of one container that exits on
// SIGTERM.
func manyBenchPods(prefix string, n int) string {
	var docs []string
	for i := range n {
		docs = append(docs, podYAML(fmt.Sprintf("%s%d", prefix, i), "",
			container("c", "trap 'exit 0' TERM; sleep 600 & wait", "")))
	}
	return strings.Join(docs, "---\n")
}
