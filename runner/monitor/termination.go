package monitor

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/runner/crilog"
)

// The kubelet's bounds on termination messages.
const (
	maxTerminationMessage   = 4096 // bytes read from the end of the file
	maxFallbackLogLines     = 80   // FallbackToLogsOnError: last lines of the log
	maxFallbackLogMessage   = 2048 // ... and at most this many last bytes of them
	terminationMessageError = "Error on reading termination log %s: %v"
)

// terminationMessage is a terminated container's message as the kubelet
// makes it: the last 4096 bytes of the file at its
// terminationMessagePath (file, on the host); with policy
// FallbackToLogsOnError and a failed exit (code != 0), an empty file is
// replaced by the last 80 lines of its log, at most 2048 bytes.
func terminationMessage(c *corev1.Container, file, logPath string, code int) string {
	fallback := c != nil && c.TerminationMessagePolicy == corev1.TerminationMessageFallbackToLogsOnError && code != 0
	data, err := readTail(file, maxTerminationMessage)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Sprintf(terminationMessageError, file, err)
	case len(data) > 0:
		return string(data)
	}
	if !fallback || logPath == "" {
		return ""
	}
	return logTail(logPath)
}

// emptyTerminationLog empties a container's termination message file
// before its next run, as the kubelet gives every container instance a
// file of its own: a run never reports what the one before it wrote.
func emptyTerminationLog(path string) error {
	err := os.Truncate(path, 0)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("emptying the termination message file %s: %w", path, err)
	}
	return nil
}

// readTail reads at most the last n bytes of a file.
func readTail(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if off := info.Size() - n; off > 0 {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return nil, err
		}
	}
	return io.ReadAll(io.LimitReader(f, n))
}

// logTail is the end of a container's CRI log, stdout and stderr
// together, as FallbackToLogsOnError reports it.
func logTail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("Error on reading termination message from logs: %v", err)
	}
	defer f.Close()
	var b bytes.Buffer
	lines := int64(maxFallbackLogLines)
	if err := crilog.Copy(&b, f, crilog.CopyOptions{TailLines: &lines}); err != nil && !errors.Is(err, crilog.ErrMalformed) {
		return fmt.Sprintf("Error on reading termination message from logs: %v", err)
	}
	out := b.Bytes()
	if len(out) > maxFallbackLogMessage {
		out = out[len(out)-maxFallbackLogMessage:]
	}
	return string(out)
}
