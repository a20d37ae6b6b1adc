package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/internal/testenv"
	"github.com/podrun/podrun/internal/testregistry"
)

// TestImagePullProgress pulls from a registry on 127.0.0.1 with stderr
// on a pseudo-terminal: a line per layer, named by its digest's first 12
// hex digits, ending "Pull complete". Without a terminal, or with -q,
// no progress is printed.
func TestImagePullProgress(t *testing.T) {
	e := newEnv(t)
	reg := testregistry.Start(t, "", "")
	demo := testregistry.Demo(t)
	v1, v2 := reg.Push(t, "podrun/busybox:v1", demo), reg.Push(t, "podrun/busybox:v2", demo)
	layers, err := demo.Layers()
	if err != nil || len(layers) == 0 {
		t.Fatalf("the demo image's layers: %v, %d", err, len(layers))
	}

	stdout, shown := e.pullOnTerminal(t, "image", "pull", v1)
	if !strings.HasPrefix(stdout, "Pulled image: "+v1) {
		t.Errorf("stdout: %q", stdout)
	}
	if !strings.Contains(shown, v1+":") {
		t.Errorf("the terminal shows no line for the image %s:\n%q", v1, shown)
	}
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		if want := d.Hex[:12] + ": Pull complete"; !strings.Contains(shown, want) {
			t.Errorf("the terminal lacks %q:\n%q", want, shown)
		}
	}

	out, errOut, err := e.run("image", "pull", v2)
	if err != nil || !strings.HasPrefix(out, "Pulled image: "+v2) || errOut != "" {
		t.Errorf("pull without a terminal: %v, stdout %q, stderr %q (want no progress)", err, out, errOut)
	}
	stdout, shown = e.pullOnTerminal(t, "image", "pull", "-q", v1)
	if !strings.HasPrefix(stdout, "sha256:") || shown != "" {
		t.Errorf("pull -q on a terminal: stdout %q, terminal %q (want the digest and no progress)", stdout, shown)
	}
}

// pullOnTerminal runs podrun with its stderr on a new pseudo-terminal and
// returns its stdout and what the terminal showed.
func (e *env) pullOnTerminal(t *testing.T, args ...string) (stdout, shown string) {
	t.Helper()
	master, slave := openPty(t)
	defer master.Close()
	full := append([]string{"--root", e.root, "--run-root", e.runRoot, "--runtime", e.runtime,
		"--network", e.network, "--cni-config-dir", e.confDir}, args...)
	cmd := exec.Command(e.bin, full...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, slave
	if err := cmd.Start(); err != nil {
		slave.Close()
		t.Fatal(err)
	}
	slave.Close() // the child holds it; the master reads EIO once it exits
	read := make(chan string)
	go func() {
		var b bytes.Buffer
		io.Copy(&b, master) // ends with EIO when the last slave fd closes
		read <- b.String()
	}()
	err := cmd.Wait()
	shown = <-read
	if err != nil {
		t.Fatalf("podrun %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), shown)
	}
	return out.String(), shown
}

// openPty opens a pseudo-terminal pair through /dev/ptmx.
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	testenv.Need(t, err == nil, fmt.Sprintf("no pseudo-terminals here: %v", err))
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		t.Fatalf("unlocking the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		t.Fatalf("getting the pseudo-terminal's number: %v", err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		t.Fatalf("opening the pseudo-terminal's other end: %v", err)
	}
	return master, slave
}
