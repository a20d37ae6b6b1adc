package main

import (
	"fmt"
	"testing"
	"time"
)

// TestTerminationMessagePerRun: each run of a container gets an empty
// termination message file, as the kubelet gives each container instance
// a file of its own. The script appends, so a file kept across the
// restart would report "run 1run 2".
func TestTerminationMessagePerRun(t *testing.T) {
	e := lifeEnv(t)
	script := `n=$(( $(cat /dev/shm/runs 2>/dev/null || echo 0) + 1 )); echo $n > /dev/shm/runs; printf "run $n" >> /dev/termination-log; test $n -gt 1`
	e.must("apply", "-f", e.manifest("pod.yaml", podYAML("message", "  restartPolicy: OnFailure\n  terminationGracePeriodSeconds: 1\n",
		container("main", script, ""))))
	eventually(t, 20*time.Second, func() error {
		cs := lifeStatus(e.pod("message"), "main")
		if cs == nil || cs.State.Terminated == nil || cs.LastTerminationState.Terminated == nil {
			return fmt.Errorf("not yet restarted and ended: %+v", cs)
		}
		now, last := cs.State.Terminated, cs.LastTerminationState.Terminated
		if cs.RestartCount != 1 || now.ExitCode != 0 || now.Message != "run 2" || last.ExitCode != 1 || last.Message != "run 1" {
			return fmt.Errorf("restarts %d, state (%d, %q), lastState (%d, %q); want 1, (0, \"run 2\"), (1, \"run 1\")",
				cs.RestartCount, now.ExitCode, now.Message, last.ExitCode, last.Message)
		}
		return nil
	})
	e.must("delete", "pod", "message", "--grace-period", "0")
}
