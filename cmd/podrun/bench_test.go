package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkPodStart measures `podrun apply` of a two-container pod, from
// the command's start until both containers run, against bare `runc run
// -d` of the same two containers from a prepared bundle, side by side in
// the same iterations. It reports both and their ratio; nothing asserts a
// time.
func BenchmarkPodStart(b *testing.B) {
	e := newEnv(b)
	e.loadDemo()
	path := e.manifest("pod.yaml", podYAML("bench", "",
		container("one", "trap 'exit 0' TERM; sleep 600 & wait", ""),
		container("two", "trap 'exit 0' TERM; sleep 600 & wait", "")))
	bundles := bareBundles(b, e, 2)
	runcRoot := filepath.Join(b.TempDir(), "runc")

	var podrun, bare time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		e.must("apply", "-f", path)
		podrun += time.Since(start)
		b.StopTimer()
		e.must("delete", "pod", "bench", "--grace-period", "0")

		b.StartTimer()
		start = time.Now()
		for j, bundle := range bundles {
			runDetached(b, e.runtime, "--root", runcRoot, "run", "-d", "--bundle", bundle, fmt.Sprintf("bare%d", j))
		}
		bare += time.Since(start)
		b.StopTimer()
		for j := range bundles {
			run(b, e.runtime, "--root", runcRoot, "delete", "-f", fmt.Sprintf("bare%d", j))
		}
		b.StartTimer()
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(podrun.Milliseconds())/n, "podrun-ms/pod")
	b.ReportMetric(float64(bare.Milliseconds())/n, "runc-ms/pod")
	b.ReportMetric(float64(podrun)/float64(bare), "ratio")
}

// bareBundles makes n plain bundles, as `runc spec` writes them, running
// sleep from the demo image's unpacked layer as a read-only rootfs.
func bareBundles(b *testing.B, e *env, n int) []string {
	b.Helper()
	layers, _ := filepath.Glob(filepath.Join(e.root, "images", "layers", "sha256", "*"))
	if len(layers) != 1 {
		b.Fatalf("want the demo image's one layer, found %v", layers)
	}
	var bundles []string
	for i := 0; i < n; i++ {
		dir := filepath.Join(b.TempDir(), fmt.Sprintf("bundle%d", i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		run(b, e.runtime, "spec", "--bundle", dir)
		var spec map[string]any
		data, err := os.ReadFile(filepath.Join(dir, "config.json"))
		if err != nil {
			b.Fatal(err)
		}
		if err := json.Unmarshal(data, &spec); err != nil {
			b.Fatal(err)
		}
		spec["root"] = map[string]any{"path": layers[0], "readonly": true}
		proc := spec["process"].(map[string]any)
		proc["terminal"] = false
		proc["args"] = []string{"sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"}
		data, _ = json.Marshal(spec)
		if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
			b.Fatal(err)
		}
		bundles = append(bundles, dir)
	}
	return bundles
}

func run(tb testing.TB, name string, args ...string) {
	tb.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		tb.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// runDetached runs a command whose children keep its stdio (runc run -d):
// files, not pipes, so that nothing waits for them to close.
func runDetached(tb testing.TB, name string, args ...string) {
	tb.Helper()
	devNull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer devNull.Close()
	cmd := exec.Command(name, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devNull, devNull, devNull
	if err := cmd.Run(); err != nil {
		tb.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
}
