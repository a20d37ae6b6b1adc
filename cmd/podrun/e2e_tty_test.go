package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ttyScript reports what a container's standard streams are, then runs
// until /tmp/stop exists.
const ttyScript = `tty; test -t 0 && echo stdin-is-tty; test -t 1 && echo stdout-is-tty; stty size; echo TERM=$TERM; until test -e /tmp/stop; do sleep 0.1; done`

// TestTTY: a tty container's streams are a pseudo-terminal of 80x24,
// whose output is logged as stdout with plain line ends; a container
// without tty has none; a restart gets a new terminal; exec with and
// without -t works in a tty container.
func TestTTY(t *testing.T) {
	e := lifeEnv(t)
	e.must("apply", "-f", e.manifest("pod.yaml", podYAML("term", "  terminationGracePeriodSeconds: 1\n",
		container("tty", ttyScript, "    tty: true\n    stdin: true\n"),
		container("plain", ttyScript, ""))))
	want := map[string]string{
		"tty":   "/dev/pts/0\nstdin-is-tty\nstdout-is-tty\n24 80\nTERM=xterm\n",
		"plain": "not a tty\n",
	}
	for name, w := range want {
		eventually(t, 10*time.Second, func() error {
			// plain's stdout and stderr are two pipes whose lines may
			// interleave either way; the terminal is one stream.
			got := e.must("logs", "term", "-c", name)
			if name == "tty" && !strings.HasPrefix(got, w) || !strings.Contains(got, w) ||
				name == "plain" && strings.Contains(got, "is-tty") {
				return fmt.Errorf("logs of %s: %q, want %q", name, got, w)
			}
			return nil
		})
	}
	// The terminal is logged as stdout.
	if out := e.must("logs", "term", "-c", "tty", "--timestamps"); strings.Count(out, "\n") < 5 || strings.Contains(out, "\r") {
		t.Errorf("timestamped logs of tty: %q", out)
	}
	if _, err := os.Stat(e.runRoot + "/pods/default_term/console/tty"); !os.IsNotExist(err) {
		t.Errorf("the console socket's directory stays: %v", err)
	}
	log := readLog(t, e, "term", "tty", 0)
	if !strings.Contains(log, " stdout F /dev/pts/0\n") || strings.Contains(log, " stderr ") {
		t.Errorf("CRI log of tty:\n%s", log)
	}

	// exec without -t makes no terminal, as kubectl exec; with -it from a
	// terminal, one of its own.
	if out := e.must("exec", "term", "-c", "tty", "--", "sh", "-c", "test -t 1 || echo no terminal"); out != "no terminal\n" {
		t.Errorf("exec without -t: %q", out)
	}
	if out := execInTerminal(t, e, "term", "tty", "sh", "-c", "tty; stty size"); !strings.Contains(out, "/dev/pts/1") {
		t.Errorf("exec -it: %q", out)
	}

	// A restart gets a new terminal.
	e.must("exec", "term", "-c", "tty", "--", "touch", "/tmp/stop")
	eventually(t, 20*time.Second, func() error {
		cs := lifeStatus(e.pod("term"), "tty")
		if cs == nil || cs.RestartCount != 1 || cs.State.Running == nil {
			return fmt.Errorf("not restarted: %+v", cs)
		}
		if got := e.must("logs", "term", "-c", "tty"); !strings.HasPrefix(got, want["tty"]) {
			return fmt.Errorf("logs after the restart: %q", got)
		}
		return nil
	})
	e.must("delete", "pod", "term", "--grace-period", "0")
}

// readLog is the CRI log file of a container's run.
func readLog(t *testing.T, e *env, pod, ctr string, run int) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("%s/pods/default_%s/logs/%s/%d.log", e.runRoot, pod, ctr, run))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// execInTerminal runs podrun exec -it with a pseudo-terminal as its
// standard streams, and returns what it wrote there.
func execInTerminal(t *testing.T, e *env, pod, ctr string, args ...string) string {
	t.Helper()
	master, slave := ttyPair(t)
	defer master.Close()
	full := append([]string{"--root", e.root, "--run-root", e.runRoot, "--runtime", e.runtime,
		"exec", "-it", pod, "-c", ctr, "--"}, args...)
	cmd := exec.Command(e.bin, full...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	done := make(chan string)
	go func() {
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			b.Write(buf[:n])
			if err != nil { // EIO once podrun and the exec are gone
				done <- b.String()
				return
			}
		}
	}()
	if err := cmd.Wait(); err != nil {
		t.Errorf("podrun exec -it: %v", err)
	}
	select {
	case out := <-done:
		return out
	case <-time.After(10 * time.Second):
		t.Fatal("the terminal of podrun exec -it stayed open")
		return ""
	}
}

// ttyPair opens a new pseudo-terminal's master and slave.
func ttyPair(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return m, s
}
