package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podrun/podrun/runner"
	"github.com/podrun/podrun/runner/state"
)

// BenchmarkMonitorProcesses measures, in one run, the memory of what
// supervises a 10-replica Deployment (its supervisor and every process
// holding its pods' monitors, from smaps_rollup, idle) in each process
// model: a monitor process per pod, as podrun runs, against every
// monitor in one process (runner.MonitorHostEnv, the experiment), and
// the first with the Go runtime's own knobs turned. Nothing asserts a
// size. docs/workloads.md ("Memory") holds the numbers.
func BenchmarkMonitorProcesses(b *testing.B) {
	e := newEnv(b)
	e.loadDemo()
	const n = 10
	deploy := e.manifest("deploy.yaml", benchDeploymentYAML("bench", n))
	probed := e.manifest("probed.yaml", benchProbedYAML("bench", n))
	models := []struct {
		name  string
		env   []string // NAME=value for every podrun process
		probe bool     // an exec readiness probe every second, measured after 15 s
	}{
		{"per-pod", nil, false},
		{"one-process", []string{runner.MonitorHostEnv + "=1"}, false},
		{"per-pod-free", []string{"PODRUN_X_FREE=1"}, false},
		{"per-pod-gogc50", []string{"GOGC=50"}, false},
		{"per-pod-memlimit4m", []string{"GOMEMLIMIT=4MiB"}, false},
		{"per-pod-maxprocs1", []string{"GOMAXPROCS=1"}, false},
		{"per-pod-probed", nil, true},
		{"one-process-probed", []string{runner.MonitorHostEnv + "=1"}, true},
	}
	sums := make([]smaps, len(models))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for m, model := range models {
			for _, kv := range model.env {
				k, v, _ := strings.Cut(kv, "=")
				os.Setenv(k, v)
			}
			file, idle := deploy, 3*time.Second // idle: no step under way
			if model.probe {
				file, idle = probed, 15*time.Second
			}
			e.must("apply", "--wait", "-f", file)
			time.Sleep(idle)
			pids := map[int]bool{e.workloadRecord("deployment", "bench").Supervisor.Pid: true}
			for name := range e.deployPods("bench") {
				pids[e.monitorPid(b, name)] = true
			}
			var sum smaps
			for pid := range pids {
				sum = sum.add(readSmaps(b, pid))
			}
			sum.procs = len(pids)
			sums[m] = sums[m].add(sum)
			sums[m].procs = sum.procs
			e.must("delete", "-f", file)
			for _, kv := range model.env {
				k, _, _ := strings.Cut(kv, "=")
				os.Unsetenv(k)
			}
		}
	}
	b.StopTimer()
	for m, model := range models {
		s := sums[m]
		b.Logf("%-22s %2d processes  Rss %6d KiB  Pss %6d KiB  anonymous %6d KiB", model.name, s.procs, s.rss/int64(b.N), s.pss/int64(b.N), s.anon/int64(b.N))
		b.ReportMetric(float64(s.pss)/float64(b.N), "pss-KiB/"+model.name)
		b.ReportMetric(float64(s.anon)/float64(b.N), "anon-KiB/"+model.name)
	}
}

// smaps is what /proc/PID/smaps_rollup says of processes, summed, in KiB.
type smaps struct {
	rss, pss, anon int64
	procs          int
}

func (s smaps) add(o smaps) smaps {
	return smaps{rss: s.rss + o.rss, pss: s.pss + o.pss, anon: s.anon + o.anon, procs: s.procs + o.procs}
}

func readSmaps(b testing.TB, pid int) smaps {
	b.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	s := smaps{procs: 1}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "Rss:":
			s.rss = v
		case "Pss:":
			s.pss = v
		case "Anonymous:":
			s.anon = v
		}
	}
	return s
}

// monitorPid is the pid of the process holding pod name's monitor.
func (e *env) monitorPid(b testing.TB, name string) int {
	var st state.Pod
	data, err := os.ReadFile(filepath.Join(e.runRoot, "pods", "default_"+name, "state.json"))
	if err == nil {
		err = json.Unmarshal(data, &st)
	}
	if err != nil {
		b.Fatal(err)
	}
	return st.Monitor.Pid
}

// benchProbedYAML is benchDeploymentYAML with an exec readiness probe
// every second: monitors at work, not only idle.
func benchProbedYAML(name string, n int) string {
	return benchDeploymentYAML(name, n) + `        readinessProbe:
          exec: {command: ["true"]}
          periodSeconds: 1
`
}
