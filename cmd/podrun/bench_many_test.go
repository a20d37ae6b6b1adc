package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podrun/podrun/internal/testenv"
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

// BenchmarkManyPodsIgnoringTerm measures `delete -f` of -podrun.bench-pods
// pods whose PID 1 ignores SIGTERM (a plain sleep), with a 2 s grace
// period: stopped side by side, as a kubelet stops them, it takes about
// one grace period, not one per pod.
func BenchmarkManyPodsIgnoringTerm(b *testing.B) {
	e := newEnv(b)
	e.loadDemo()
	n := *benchPods
	var docs []string
	for i := range n {
		docs = append(docs, podYAML(fmt.Sprintf("stubborn%d", i), "  terminationGracePeriodSeconds: 2\n",
			container("c", "exec sleep 600", "")))
	}
	many := e.manifest("stubborn.yaml", strings.Join(docs, "---\n"))
	var del time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		e.must("apply", "-f", many)
		b.StartTimer()
		start := time.Now()
		e.must("delete", "-f", many)
		del += time.Since(start)
	}
	b.ReportMetric(float64(del.Milliseconds())/float64(b.N), fmt.Sprintf("delete-ms/%dpods", n))
}

// BenchmarkPodmanManyPods measures what BenchmarkManyPods does with
// Debian's podman (`kube play` and `kube down` of the same file, on a
// bridge network of its own, with storage of its own), so that `make
// bench` reports podrun's figures beside podman's, measured on the same
// machine in the same run.
func BenchmarkPodmanManyPods(b *testing.B) {
	testenv.RequireRoot(b)
	bin := testenv.RequireBinary(b, "podman")[0]
	e := newEnv(b)
	dir := b.TempDir()
	// podman gives its infra containers open-file and process limits that
	// this machine refuses to set ("error setting rlimits ... operation
	// not permitted"), and no setting changes them: its runtime is runc
	// behind a wrapper that drops a bundle's rlimits, a sed per create, so
	// that its containers inherit the limits podrun's inherit.
	wrapper := filepath.Join(dir, "runc-limits")
	script := `#!/bin/sh
prev=
for a in "$@"; do
	[ "$prev" = --bundle ] && sed -i 's/"rlimits":\[[^]]*\]/"rlimits":[]/' "$a/config.json"
	prev=$a
done
exec ` + e.runtime + ` "$@"
`
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		b.Fatal(err)
	}
	pm := func(args ...string) {
		b.Helper()
		full := append([]string{"--runtime", wrapper, "--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"),
			"--network-config-dir", filepath.Join(dir, "net"), "--storage-driver", "vfs",
			"--events-backend", "none", "--cgroup-manager", "cgroupfs"}, args...)
		if out, err := exec.Command(bin, full...).CombinedOutput(); err != nil {
			b.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	pm("load", "-i", e.demoTar)
	pm("network", "create", "--subnet", "10.250.77.0/24", "podrunbench")
	b.Cleanup(func() { pm("network", "rm", "-f", "podrunbench") })
	n := *benchPods
	one := e.manifest("one.yaml", manyBenchPods("solo", 1))
	many := e.manifest("many.yaml", manyBenchPods("many", n))
	var applyOne, deleteOne, applyMany, deleteMany time.Duration
	timed := func(d *time.Duration, args ...string) {
		start := time.Now()
		pm(args...)
		*d += time.Since(start)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		timed(&applyOne, "kube", "play", "--network", "podrunbench", one)
		timed(&deleteOne, "kube", "down", one)
		timed(&applyMany, "kube", "play", "--network", "podrunbench", many)
		timed(&deleteMany, "kube", "down", many)
	}
	b.StopTimer()
	per := func(d time.Duration) float64 { return float64(d.Milliseconds()) / float64(b.N) }
	b.ReportMetric(per(applyOne), "podman-play-ms/1pod")
	b.ReportMetric(per(deleteOne), "podman-down-ms/1pod")
	b.ReportMetric(per(applyMany), fmt.Sprintf("podman-play-ms/%dpods", n))
	b.ReportMetric(per(deleteMany), fmt.Sprintf("podman-down-ms/%dpods", n))
}
