// Command podrun runs Kubernetes manifests on this machine with an OCI
// runtime and CNI networking: no cluster, no API server, no daemon.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/podrun/podrun/runner/pause"
)

func main() {
	// Inside an infra container the binary is the pod's pause process.
	if os.Args[0] == pause.Name || filepath.Base(os.Args[0]) == "pause" {
		pause.Run()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCommand().ExecuteContext(ctx)
	stop()
	os.Exit(exitCode(err))
}

// exitError carries an exit code chosen by a command.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "error:", err)
	return 1
}
