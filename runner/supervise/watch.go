package supervise

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/unix"
)

// watcher turns inotify events into wake-ups: a pod directory made or
// removed under the pods store, a state file replaced in a watched pod's
// directory, the workload's object.json replaced, or its directory gone.
// Reading an inotify fd costs nothing while nothing happens: the
// supervisor sleeps in the Go runtime's poller.
type watcher struct {
	f       *os.File
	fd      int // f's descriptor, kept: f.Fd() would make f blocking
	podsWD  int
	dirWD   int
	podsDir string
	pods    map[string]int // pod directory name -> watch
	wake    chan struct{}  // one pending wake-up at most
	done    chan struct{}
}

const (
	dirEvents = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_DELETE_SELF | unix.IN_ONLYDIR
	podEvents = unix.IN_MOVED_TO | unix.IN_CLOSE_WRITE | unix.IN_ONLYDIR
)

// podStateFile is the file whose replacement in a pod's directory says
// that the pod changed (state.PodDir writes it atomically, by rename).
const podStateFile = "state.json"

// newWatcher watches podsDir (made if missing) and the workload's dir.
func newWatcher(podsDir, dir string) (*watcher, error) {
	if err := os.MkdirAll(podsDir, 0o700); err != nil {
		return nil, fmt.Errorf("watching pods: %w", err)
	}
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("watching pods: inotify: %w", err)
	}
	w := &watcher{
		f:       os.NewFile(uintptr(fd), "inotify"), // non-blocking: the runtime's poller waits
		fd:      fd,
		podsDir: podsDir,
		pods:    map[string]int{},
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	if w.podsWD, err = unix.InotifyAddWatch(fd, podsDir, dirEvents); err != nil {
		w.f.Close()
		return nil, fmt.Errorf("watching %s: %w", podsDir, err)
	}
	if w.dirWD, err = unix.InotifyAddWatch(fd, dir, dirEvents|unix.IN_CLOSE_WRITE); err != nil {
		w.f.Close()
		return nil, fmt.Errorf("watching %s: %w", dir, err)
	}
	go w.read()
	return w, nil
}

// Close stops the watcher.
func (w *watcher) Close() error {
	err := w.f.Close()
	<-w.done
	return err
}

// read delivers wake-ups until the watcher is closed.
func (w *watcher) read() {
	defer close(w.done)
	buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			return // closed; a real error cannot be mended by reading again
		}
		if w.relevant(buf[:n]) {
			select {
			case w.wake <- struct{}{}:
			default:
			}
		}
	}
}

// relevant reports whether a batch of events says something a controller
// may care about. Writes to the workload's own record and log do not.
func (w *watcher) relevant(buf []byte) bool {
	any := false
	for off := 0; off+unix.SizeofInotifyEvent <= len(buf); {
		ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
		nameBytes := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
		off += unix.SizeofInotifyEvent + int(ev.Len)
		name := string(trimNUL(nameBytes))
		switch wd := int(ev.Wd); {
		case ev.Mask&unix.IN_Q_OVERFLOW != 0:
			any = true // events were lost: look at everything
		case wd == w.podsWD:
			any = true // a pod made or removed
		case wd == w.dirWD:
			if name == ObjectFile || ev.Mask&(unix.IN_DELETE_SELF|unix.IN_IGNORED) != 0 {
				any = true // re-applied, or deleted
			}
		default:
			if name == podStateFile || ev.Mask&unix.IN_IGNORED != 0 {
				any = true
			}
		}
	}
	return any
}

func trimNUL(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

// watchPods makes the watched pod directories exactly those named (as
// state keys' File: "<namespace>_<name>"). A pod removed meanwhile is
// skipped: its removal woke us already.
func (w *watcher) watchPods(names []string) {
	want := map[string]bool{}
	fd := w.fd
	for _, n := range names {
		want[n] = true
		if _, ok := w.pods[n]; ok {
			continue
		}
		wd, err := unix.InotifyAddWatch(fd, filepath.Join(w.podsDir, n), podEvents)
		if err == nil {
			w.pods[n] = wd
		} else if !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ENOTDIR) {
			continue
		}
	}
	for n, wd := range w.pods {
		if !want[n] {
			_, _ = unix.InotifyRmWatch(fd, uint32(wd))
			delete(w.pods, n)
		}
	}
}
