package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/podrun/podrun/runner/state"
)

// BenchmarkDeployment measures `apply --wait` of a 10-replica Deployment
// until all its pods are Ready, and the memory (Rss and Pss) of what
// supervises it, its supervisor and its pods' monitors, against the same
// for 10 bare Pods of the same container, in the same iterations. Nothing
// asserts a time or a size.
func BenchmarkDeployment(b *testing.B) {
	e := newEnv(b)
	e.loadDemo()
	const n = 10
	deploy := e.manifest("deploy.yaml", benchDeploymentYAML("bench", n))
	pods := e.manifest("pods.yaml", manyBenchPods("bare", n))
	var applyDeploy, applyPods time.Duration
	var rssDeploy, pssDeploy, rssPods, pssPods int64
	timed := func(d *time.Duration, args ...string) {
		start := time.Now()
		e.must(args...)
		*d += time.Since(start)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		timed(&applyDeploy, "apply", "--wait", "-f", deploy)
		time.Sleep(2 * time.Second) // idle: no step under way
		sup := e.workloadRecord("deployment", "bench").Supervisor
		rss, pss := memoryKiB(b, sup.Pid)
		for name := range e.deployPods("bench") {
			r, p := e.monitorMemory(b, name)
			rss, pss = rss+r, pss+p
		}
		rssDeploy, pssDeploy = rssDeploy+rss, pssDeploy+pss
		e.must("delete", "-f", deploy)

		timed(&applyPods, "apply", "--wait", "-f", pods)
		time.Sleep(2 * time.Second)
		rss, pss = 0, 0
		for j := range n {
			r, p := e.monitorMemory(b, fmt.Sprintf("bare%d", j))
			rss, pss = rss+r, pss+p
		}
		rssPods, pssPods = rssPods+rss, pssPods+pss
		e.must("delete", "-f", pods)
	}
	b.StopTimer()
	per := func(d time.Duration) float64 { return float64(d.Milliseconds()) / float64(b.N) }
	avg := func(kib int64) float64 { return float64(kib) / float64(b.N) }
	b.ReportMetric(per(applyDeploy), "apply-wait-ms/deployment")
	b.ReportMetric(per(applyPods), "apply-wait-ms/pods")
	b.ReportMetric(avg(rssDeploy), "rss-KiB/deployment")
	b.ReportMetric(avg(pssDeploy), "pss-KiB/deployment")
	b.ReportMetric(avg(rssPods), "rss-KiB/pods")
	b.ReportMetric(avg(pssPods), "pss-KiB/pods")
}

// monitorMemory is the Rss and Pss of pod name's monitor.
func (e *env) monitorMemory(b testing.TB, name string) (rss, pss int64) {
	var st state.Pod
	data, err := os.ReadFile(filepath.Join(e.runRoot, "pods", "default_"+name, "state.json"))
	if err == nil {
		err = json.Unmarshal(data, &st)
	}
	if err != nil {
		b.Fatal(err)
	}
	return memoryKiB(b, st.Monitor.Pid)
}

// benchDeploymentYAML is a Deployment of n pods of manyBenchPods's
// container.
func benchDeploymentYAML(name string, n int) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  replicas: %[2]d
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      containers:
      - name: c
        image: localhost/podrun/busybox:demo
        command: ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"]
`, name, n)
}
