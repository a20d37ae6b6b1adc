package main

import (
	"strconv"
	"strings"
	"testing"
)

// BenchmarkServiceConnect times, from inside a real pod, a connection and
// HTTP exchange through a Service's ClusterIP against the same to the
// pod's own address, in one run: the ratio is what the proxy's rules
// (DNAT, masquerade, conntrack) add. Each iteration is 200 connections
// each way, from netecho in the client pod.
func BenchmarkServiceConnect(b *testing.B) {
	e := newEnv(b)
	e.loadDemo()
	path := e.manifest("web.yaml", strings.Join([]string{
		e.webPod("bench-web", "app: bench"), e.clientPod("bench-client", ""),
		serviceYAML("bench", "  selector: {app: bench}\n  ports:\n  - {port: 80, targetPort: 8080}\n"),
	}, "---\n"))
	e.must("apply", "-f", path, "--wait", "--timeout", "60s")
	b.Cleanup(func() { e.run("delete", "-f", path, "--grace-period", "0") })
	vip := e.service("bench").Spec.ClusterIP + ":80"
	direct := e.pod("bench-web").Status.PodIP + ":8080"
	connect := func(addr string) float64 {
		out, err := e.inPod("bench-client", "/tools/netecho connect "+addr+" 200")
		if err != nil {
			b.Fatal(err)
		}
		us, err := strconv.ParseFloat(strings.TrimSpace(out), 64)
		if err != nil {
			b.Fatalf("netecho connect %s printed %q", addr, out)
		}
		return us
	}
	connect(vip) // warm both paths: ARP, conntrack, the page cache
	connect(direct)
	var viaService, toPod float64
	b.ResetTimer()
	for range b.N {
		viaService += connect(vip)
		toPod += connect(direct)
	}
	b.ReportMetric(viaService/float64(b.N), "us/connect-clusterip")
	b.ReportMetric(toPod/float64(b.N), "us/connect-pod")
	b.ReportMetric(viaService/toPod, "ratio")
	b.Logf("through %s: %.0f µs, to %s: %.0f µs", vip, viaService/float64(b.N), direct, toPod/float64(b.N))
}
