package monitor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// A terminal's size when nothing has resized it: what programs that ask
// (stty size, editors) see.
const (
	terminalRows = 24
	terminalCols = 80
)

// maxSocketPath is the longest path a unix socket address holds
// (sun_path, less its terminating NUL).
const maxSocketPath = 107

// consoleTimeout bounds the wait for the runtime's pseudo-terminal once
// its create command has succeeded.
const consoleTimeout = 10 * time.Second

// wantsTTY reports whether container name has tty set, which translate
// turns into process.terminal.
func (m *monitor) wantsTTY(name string) bool {
	for _, c := range append(append(m.pod.Spec.InitContainers[:0:0], m.pod.Spec.InitContainers...), m.pod.Spec.Containers...) {
		if c.Name == name {
			return c.TTY
		}
	}
	return false
}

// console is the unix socket on which the runtime hands over the master
// of the pseudo-terminal it makes for one run of a tty container, as
// containerd's shim receives it. It lives in a directory of its own,
// mode 0700, under the pod's directory, removed by close.
type console struct {
	dir, path string
	ln        *net.UnixListener
	got       chan consoleResult // accept's one result
	taken     bool               // master has received it
}

type consoleResult struct {
	fd   int // the master, -1 with err
	name string
	err  error
}

// listenConsole makes the console socket of container name. When the
// pod's directory is too deep for a socket address, the directory is
// made under the system's temporary directory instead.
func (m *monitor) listenConsole(name string) (*console, error) {
	dir := filepath.Join(m.cfg.Layout.Dir, "console", name)
	var err error
	if len(filepath.Join(dir, "sock")) > maxSocketPath {
		dir, err = os.MkdirTemp("", "podrun-console-") // 0700
	} else {
		err = makePrivateDir(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("making the console socket directory of container %q: %w", name, err)
	}
	c := &console{dir: dir, path: filepath.Join(dir, "sock"), got: make(chan consoleResult, 1)}
	c.ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: c.path, Net: "unix"})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("listening on the console socket of container %q: %w", name, err)
	}
	go c.accept()
	return c, nil
}

// makePrivateDir makes dir afresh, mode 0700 whatever the umask.
func makePrivateDir(dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil { // a crashed monitor's
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}

// accept takes the runtime's one connection and the master it sends.
func (c *console) accept() {
	conn, err := c.ln.AcceptUnix()
	if err != nil {
		c.got <- consoleResult{fd: -1, err: err}
		return
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(consoleTimeout))
	fd, name, err := receiveFd(conn)
	c.got <- consoleResult{fd, name, err}
}

// master waits for the pseudo-terminal's master, gives it the default
// size and returns it, non-blocking so that closing it ends a read.
func (c *console) master(ctx context.Context) (*os.File, error) {
	var res consoleResult
	select {
	case res = <-c.got:
		c.taken = true
	case <-time.After(consoleTimeout):
		return nil, fmt.Errorf("waiting for the runtime's terminal on %s: timed out after %s", c.path, consoleTimeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if res.err != nil {
		return nil, fmt.Errorf("receiving the runtime's terminal on %s: %w", c.path, res.err)
	}
	err := unix.IoctlSetWinsize(res.fd, unix.TIOCSWINSZ, &unix.Winsize{Row: terminalRows, Col: terminalCols})
	if err == nil {
		err = unix.SetNonblock(res.fd, true)
	}
	if err != nil {
		unix.Close(res.fd)
		return nil, fmt.Errorf("setting up the terminal %s: %w", res.name, err)
	}
	return os.NewFile(uintptr(res.fd), res.name), nil
}

// close stops listening and removes the socket's directory. A master
// that was not taken is closed.
func (c *console) close() {
	_ = c.ln.Close()
	_ = os.RemoveAll(c.dir)
	if c.taken {
		return
	}
	go func() {
		if res := <-c.got; res.fd >= 0 {
			unix.Close(res.fd)
		}
	}()
}

// receiveFd reads one message carrying one file descriptor (SCM_RIGHTS),
// as runc sends a terminal's master: the data is the terminal's name.
func receiveFd(conn *net.UnixConn) (fd int, name string, err error) {
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4*4)) // room for a few fds, to close extras
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return -1, "", err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return -1, "", fmt.Errorf("parsing the control message: %w", err)
	}
	var fds []int
	for i := range msgs {
		got, err := unix.ParseUnixRights(&msgs[i])
		if err == nil {
			fds = append(fds, got...)
		}
	}
	if len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return -1, "", fmt.Errorf("expected one file descriptor, got %d", len(fds))
	}
	unix.CloseOnExec(fds[0])
	return fds[0], string(buf[:n]), nil
}

// terminalReader reads a terminal's master with its "\r\n" line ends
// made "\n", as the kubelet's runtimes log a terminal line by line. A
// read error (EIO once every process has closed the terminal) ends it.
func terminalReader(master *os.File) io.ReadCloser {
	return &crlfReader{br: newBufReader(master), c: master}
}

func newBufReader(r io.Reader) *bufio.Reader { return bufio.NewReaderSize(r, 32<<10) }

type crlfReader struct {
	br      *bufio.Reader
	c       io.Closer
	pending []byte
	err     error
}

func (r *crlfReader) Read(p []byte) (int, error) {
	for len(r.pending) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		line, err := r.br.ReadSlice('\n')
		if n := len(line); n >= 2 && line[n-2] == '\r' && line[n-1] == '\n' {
			line = append(line[:n-2], '\n')
		}
		r.pending = line
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			r.err = err
		}
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

func (r *crlfReader) Close() error { return r.c.Close() }
