package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestRulesDeleteStopSignal: delete stops a container with its
// lifecycle.stopSignal, whether the pod's monitor does it or, the monitor
// gone, delete itself. The container ignores SIGTERM and exits 0 on
// SIGUSR1, telling another pod so; the grace period is long, so a delete
// that sent SIGTERM would take it all.
func TestRulesDeleteStopSignal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	e.must("apply", "-f", e.manifest("ear.yaml", podYAML("ear", "  terminationGracePeriodSeconds: 1\n",
		container("listen", "while true; do nc -l -p 7000; done", ""))))
	ear := e.pod("ear").Status.PodIP
	for _, monitorGone := range []bool{false, true} {
		name := map[bool]string{false: "usr1-monitor", true: "usr1-delete"}[monitorGone]
		e.must("apply", "-f", e.manifest(name+".yaml", podYAML(name, "  terminationGracePeriodSeconds: 30\n",
			container("main", fmt.Sprintf("trap 'echo %s | nc -w 1 %s 7000; exit 0' USR1; trap '' TERM; sleep 600 & wait", name, ear),
				"    lifecycle:\n      stopSignal: SIGUSR1\n"))))
		if monitorGone {
			killMonitor(t, e, name)
		}
		start := time.Now()
		e.must("delete", "pod", name)
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s: delete took %v: the container was not sent SIGUSR1", name, d)
		}
		eventually(t, 5*time.Second, func() error {
			if out := e.must("logs", "ear"); !strings.Contains(out, name+"\n") {
				return fmt.Errorf("%s: the container did not handle SIGUSR1; the other pod heard %q", name, out)
			}
			return nil
		})
	}
	e.must("delete", "pod", "ear")
}
