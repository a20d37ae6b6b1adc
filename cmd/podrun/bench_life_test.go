package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkMonitor measures what supervising a pod costs: the resident
// and proportional memory of each pod's monitor (podrun's conmon, one per
// pod), and the time from `podrun apply --wait` until the pod is Ready.
// Where podman is installed, conmon's memory per container is measured
// beside it. Nothing asserts a figure.
func BenchmarkMonitor(b *testing.B) {
	e := newEnv(b)
	e.loadDemo()
	const pods = 4
	var ready time.Duration
	var rss, pss, anon int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var docs []string
		for j := range pods {
			docs = append(docs, podYAML(fmt.Sprintf("bench%d", j), "  terminationGracePeriodSeconds: 1\n",
				container("one", "exec sleep 600", ""),
				container("two", "exec sleep 600", "")))
		}
		path := e.manifest("pods.yaml", strings.Join(docs, "---\n"))
		start := time.Now()
		e.must("apply", "-f", path, "--wait", "--timeout", "60s")
		ready += time.Since(start)
		b.StopTimer()
		time.Sleep(500 * time.Millisecond) // let the monitors settle
		for j := range pods {
			monitor, _ := lifePids(b, e, fmt.Sprintf("bench%d", j))
			r, p := memoryKiB(b, monitor)
			rss += r
			pss += p
			anon += procKiB(b, fmt.Sprintf("/proc/%d/status", monitor), "RssAnon:")
		}
		for j := range pods {
			e.must("delete", "pod", fmt.Sprintf("bench%d", j))
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(ready.Milliseconds())/float64(b.N), "ms-apply-to-ready/4pods")
	b.ReportMetric(float64(rss)/float64(b.N*pods), "KiB-rss/monitor")
	b.ReportMetric(float64(pss)/float64(b.N*pods), "KiB-pss/monitor")
	// Its own memory: the rest of its RSS is the binary's pages, shared
	// with every other monitor and podrun command.
	b.ReportMetric(float64(anon)/float64(b.N*pods), "KiB-anon/monitor")
	if r, p, ok := conmonMemory(b, e.demoTar); ok {
		b.ReportMetric(float64(r), "KiB-rss/conmon")
		b.ReportMetric(float64(p), "KiB-pss/conmon")
	} else {
		b.Log("no conmon figure to compare with (podman missing or unable to run here)")
	}
}

// memoryKiB reads a process's VmRSS and its Pss (smaps_rollup).
func memoryKiB(b testing.TB, pid int) (rss, pss int64) {
	b.Helper()
	return procKiB(b, fmt.Sprintf("/proc/%d/status", pid), "VmRSS:"), procKiB(b, fmt.Sprintf("/proc/%d/smaps_rollup", pid), "Pss:")
}

func procKiB(b testing.TB, file, key string) int64 {
	f, err := os.Open(file)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) >= 2 && fields[0] == key {
			n, _ := strconv.ParseInt(fields[1], 10, 64)
			return n
		}
	}
	return 0
}

// conmonMemory runs one container with podman, in stores of its own, and
// measures its conmon.
func conmonMemory(b testing.TB, demoTar string) (rss, pss int64, ok bool) {
	if _, err := exec.LookPath("podman"); err != nil {
		return 0, 0, false
	}
	dir := b.TempDir()
	podman := func(args ...string) ([]byte, error) {
		full := append([]string{"--root", dir + "/root", "--runroot", dir + "/run", "--cgroup-manager", "cgroupfs", "--events-backend", "none", "--runtime", "runc"}, args...)
		return exec.Command("podman", full...).CombinedOutput()
	}
	if out, err := podman("load", "-q", "-i", demoTar); err != nil {
		b.Logf("podman load: %v %s", err, out)
		return 0, 0, false
	}
	name := fmt.Sprintf("podrun-bench-%d", os.Getpid())
	if out, err := podman("run", "-d", "--name", name, "--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "localhost/podrun/busybox:demo", "sleep", "600"); err != nil {
		b.Logf("podman run: %v %s", err, out)
		return 0, 0, false
	}
	defer func() {
		_, _ = podman("rm", "-f", "-t", "0", name)
		_, _ = podman("system", "reset", "-f")
	}()
	time.Sleep(500 * time.Millisecond)
	out, err := podman("inspect", "-f", "{{.State.ConmonPid}}", name)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || pid <= 0 {
		b.Logf("podman inspect: %v %s", err, out)
		return 0, 0, false
	}
	r, p := memoryKiB(b, pid)
	return r, p, true
}
