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

	"github.com/podrun/podrun/runner/state"
)

// BenchmarkMonitorProcesses measures, in one run, the memory of the
// monitors of a 10-replica Deployment's pods and of its supervisor (from
// smaps_rollup, summed over the processes), idle and with a readiness
// probe a second, with the monitors on one processor (as podrun runs
// them) and on as many as GOMAXPROCS gives them: 2 (this machine's
// default before) and 8 (a laptop's). Nothing asserts a size: a rise of
// anon-KiB/monitors is the regression to look for. docs/workloads.md
// ("Memory") holds the numbers, and the experiment that measured one
// process holding every monitor.
func BenchmarkMonitorProcesses(b *testing.B) {
	e := newEnv(b)
	e.loadDemo()
	const n = 10
	idle := e.manifest("deploy.yaml", benchDeploymentYAML("bench", n))
	probed := e.manifest("probed.yaml", benchProbedYAML("bench", n))
	models := []struct {
		name, gomaxprocs string // "" leaves GOMAXPROCS unset
		probe            bool   // a readiness probe a second, measured after 15 s
	}{
		{"idle", "", false},
		{"idle-gomaxprocs2", "2", false},
		{"idle-gomaxprocs8", "8", false},
		{"probed", "", true},
		{"probed-gomaxprocs2", "2", true},
	}
	monitors, supervisors := make([]smaps, len(models)), make([]smaps, len(models))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for m, model := range models {
			if model.gomaxprocs != "" {
				os.Setenv("GOMAXPROCS", model.gomaxprocs) // every podrun process's, the supervisor's too
			}
			file, wait := idle, 3*time.Second // idle: no step under way
			if model.probe {
				file, wait = probed, 15*time.Second
			}
			e.must("apply", "--wait", "-f", file)
			time.Sleep(wait)
			supervisors[m] = supervisors[m].add(readSmaps(b, e.workloadRecord("deployment", "bench").Supervisor.Pid))
			for name := range e.deployPods("bench") {
				monitors[m] = monitors[m].add(readSmaps(b, e.monitorPid(b, name)))
			}
			e.must("delete", "-f", file)
			os.Unsetenv("GOMAXPROCS")
		}
	}
	b.StopTimer()
	for m, model := range models {
		mon, sup := monitors[m].per(b.N), supervisors[m].per(b.N)
		b.Logf("%-20s %d monitors: Rss %6d Pss %6d anonymous %6d KiB; supervisor: Rss %6d Pss %6d anonymous %6d KiB",
			model.name, mon.procs, mon.rss, mon.pss, mon.anon, sup.rss, sup.pss, sup.anon)
		b.ReportMetric(float64(mon.pss), "pss-KiB/monitors-"+model.name)
		b.ReportMetric(float64(mon.anon), "anon-KiB/monitors-"+model.name)
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

// per is s averaged over n iterations.
func (s smaps) per(n int) smaps {
	k := int64(n)
	return smaps{rss: s.rss / k, pss: s.pss / k, anon: s.anon / k, procs: s.procs / n}
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

// monitorPid is the pid of pod name's monitor.
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
