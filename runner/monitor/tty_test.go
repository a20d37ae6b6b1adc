package monitor

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/translate"
)

// TestConsole: the console socket lives in a 0700 directory of its own
// (under the pod's directory, or a temporary one when that is too deep
// for a socket address), hands over the master a runtime sends with its
// name, sized 80x24, and is removed by close.
func TestConsole(t *testing.T) {
	tests := []struct {
		name     string
		podDir   string
		inPodDir bool
	}{
		{"short pod directory", t.TempDir(), true},
		{"pod directory too deep for a socket", filepath.Join(t.TempDir(), strings.Repeat("d", 100)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &monitor{cfg: Config{Layout: translate.Layout{Dir: tt.podDir}}}
			c, err := m.listenConsole("app")
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.HasPrefix(c.path, tt.podDir); got != tt.inPodDir {
				t.Errorf("socket %s in the pod directory: %v, want %v", c.path, got, tt.inPodDir)
			}
			if fi, err := os.Stat(c.dir); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("socket directory: %v, %v; want mode 0700", fi, err)
			}
			ptm, _ := openTestPty(t)
			go sendFd(t, c.path, "/dev/pts/7", int(ptm.Fd()))
			master, err := c.master(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer master.Close()
			ws, err := unix.IoctlGetWinsize(int(master.Fd()), unix.TIOCGWINSZ)
			if err != nil || ws.Row != 24 || ws.Col != 80 {
				t.Errorf("window size %+v, %v; want 24 rows, 80 columns", ws, err)
			}
			if master.Name() != "/dev/pts/7" {
				t.Errorf("name %q, want the runtime's /dev/pts/7", master.Name())
			}
			c.close()
			if _, err := os.Stat(c.dir); !os.IsNotExist(err) {
				t.Errorf("socket directory left after close: %v", err)
			}
		})
	}
}

// TestConsoleClosedUnused: closing a console nothing connected to ends
// master's wait with an error and leaves nothing behind.
func TestConsoleClosedUnused(t *testing.T) {
	m := &monitor{cfg: Config{Layout: translate.Layout{Dir: t.TempDir()}}}
	c, err := m.listenConsole("app")
	if err != nil {
		t.Fatal(err)
	}
	_ = c.ln.Close()
	if _, err := c.master(context.Background()); err == nil {
		t.Error("master of a closed console: no error")
	}
	c.close()
	if _, err := os.Stat(c.dir); !os.IsNotExist(err) {
		t.Errorf("socket directory left after close: %v", err)
	}
}

// sendFd connects to path and sends fd with name, as runc does.
func sendFd(t *testing.T, path, name string, fd int) {
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Error(err)
		return
	}
	defer conn.Close()
	if _, _, err := conn.(*net.UnixConn).WriteMsgUnix([]byte(name), unix.UnixRights(fd), nil); err != nil {
		t.Error(err)
	}
}

func openTestPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// TestTerminalReader: "\r\n" line ends become "\n", whatever the reads'
// sizes; a lone "\r" stays; the source's error ends it after the data.
func TestTerminalReader(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a\r\nb\r\n", "a\nb\n"},
		{"progress\r50%\r\n", "progress\r50%\n"},
		{"no end", "no end"},
		{"\r\n\r\n", "\n\n"},
	}
	for _, tt := range tests {
		for _, src := range []io.Reader{strings.NewReader(tt.in), iotest.OneByteReader(strings.NewReader(tt.in))} {
			r := &crlfReader{br: newBufReader(src), c: io.NopCloser(nil)}
			got, err := io.ReadAll(iotest.HalfReader(r))
			if err != nil || string(got) != tt.want {
				t.Errorf("%q: got %q, %v; want %q", tt.in, got, err, tt.want)
			}
		}
	}
}
