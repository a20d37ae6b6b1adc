// Package ready is the one line a detached child of podrun (a pod's
// monitor, a workload's supervisor) writes to the command that started it
// once it is ready, or has failed to be: a JSON Report on a pipe. The
// command waits for it with Wait.
//
// Package ready prints nothing.
package ready

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"
)

// Report is the child's ready line: an empty Error when it is ready.
type Report struct {
	Error string `json:"error,omitempty"`
}

// ErrExited is Wait's error when the pipe closes, or its deadline passes,
// before a report: the child exited (or hung) before it was ready.
var ErrExited = errors.New("exited before it was ready")

// Wait reads the report from f, for at most timeout: nil when the child is
// ready, its Error when it failed, ErrExited when no report came, or
// ctx's error when ctx ends first.
func Wait(ctx context.Context, f *os.File, timeout time.Duration) error {
	_ = f.SetReadDeadline(time.Now().Add(timeout))
	done := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(f).ReadBytes('\n')
		if err != nil {
			done <- ErrExited
			return
		}
		var rep Report
		if err := json.Unmarshal(line, &rep); err != nil {
			done <- fmt.Errorf("reading the ready line: %w", err)
			return
		}
		if rep.Error != "" {
			done <- errors.New(rep.Error)
			return
		}
		done <- nil
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
