package rootless

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/runner/flock"
	"github.com/podrun/podrun/runner/state"
)

// HolderCommand is the hidden podrun command that is the holder.
const HolderCommand = "rootless-holder"

// ErrHolder wraps failures to start or find the namespace holder.
var ErrHolder = errors.New("the rootless namespace holder")

// HolderDir is where, under a run root, the holder's record, locks, logs
// and slirp4netns's API socket are.
func HolderDir(runRoot string) string { return filepath.Join(runRoot, "rootless") }

// APISocket is slirp4netns's API socket of the run root's holder, where
// hostPorts are published (add_hostfwd).
func APISocket(runRoot string) string {
	return filepath.Join(HolderDir(runRoot), "slirp4netns.sock")
}

// Record is what the run root keeps of a running holder.
type Record struct {
	Holder state.Process `json:"holder"`
	Slirp  state.Process `json:"slirp4netns"`
	// UserNS and NetNS are the inodes of the holder's namespaces: a pid
	// reused by another process has other ones.
	UserNS    uint64 `json:"userNS"`
	NetNS     uint64 `json:"netNS"`
	APISocket string `json:"apiSocket"` // slirp4netns's API (port forwarding)
	// HostLoopback: pods reach the host's loopback at 10.0.2.2.
	HostLoopback bool `json:"hostLoopback,omitempty"`
}

// Uplink identifies the record's slirp4netns, "PID:STARTTIME".
func (r Record) Uplink() string {
	return strconv.Itoa(r.Slirp.Pid) + ":" + strconv.FormatUint(r.Slirp.StartTime, 10)
}

// Holder starts, finds and stops the holder of one run root.
type Holder struct {
	Dir string // <run root>/rootless: record, lock, logs, slirp4netns's socket
	// Keep are directories of the run root (pods, workloads) that keep
	// the holder running while they hold anything.
	Keep    []string
	Self    string // the podrun binary
	User    User
	Machine Machine
	Log     *slog.Logger
	// HostLoopback lets pods reach the host's loopback services through
	// slirp4netns (at 10.0.2.2); off by default, as in Podman.
	HostLoopback bool
}

// ErrHostLoopback is returned when a command asks for host loopback
// other than the running holder's.
var ErrHostLoopback = errors.New("the running namespace holder has the other host loopback setting")

func (h Holder) recordPath() string { return filepath.Join(h.Dir, "holder.json") }

// Lease is a holder in use: while one is open, Release stops nothing.
type Lease struct {
	Record
	use *flock.Lock
}

// Close ends the lease.
func (l *Lease) Close() error { return l.use.Unlock() }

// Ensure returns the running holder, starting one if there is none (or
// only a dead one's record). Two locks in Dir order this: every command
// holds use.lock shared while it uses the holder (Release needs it
// exclusive), and start.lock serialises finding and starting.
func (h Holder) Ensure(ctx context.Context) (*Lease, error) {
	if err := PrivateDir(h.Dir); err != nil {
		return nil, err
	}
	use, err := flock.Shared(ctx, filepath.Join(h.Dir, "use.lock"))
	if err != nil {
		return nil, fmt.Errorf("locking %s: %w", h.Dir, err)
	}
	start, err := flock.Exclusive(ctx, filepath.Join(h.Dir, "start.lock"))
	if err != nil {
		use.Unlock()
		return nil, fmt.Errorf("locking %s: %w", h.Dir, err)
	}
	defer start.Unlock()
	rec, ok := h.Find()
	if !ok {
		rec, err = h.replace(ctx, rec)
	} else if rec.HostLoopback != h.HostLoopback {
		err = fmt.Errorf("%w (%t, asked %t): it is set when the first pod of %s starts; delete every pod there to change it",
			ErrHostLoopback, rec.HostLoopback, h.HostLoopback, filepath.Dir(h.Dir))
	}
	if err != nil {
		use.Unlock()
		return nil, err
	}
	return &Lease{Record: rec, use: use}, nil
}

// Find returns the holder the record names if it still runs.
func (h Holder) Find() (Record, bool) {
	var rec Record
	if err := readJSON(h.recordPath(), &rec); err != nil {
		return Record{}, false
	}
	return rec, h.alive(rec)
}

// alive checks rec against /proc: the holder's pid, start time and user
// namespace, and slirp4netns's pid and start time.
func (h Holder) alive(rec Record) bool {
	if !rec.Holder.Alive() || !rec.Slirp.Alive() {
		return false
	}
	ino, err := nsInode(rec.Holder.Pid, "user")
	return err == nil && ino == rec.UserNS
}

// replace starts a holder in place of old, a dead one's record (or none).
// What old held is stopped; if processes (pods' monitors) still live in
// its namespaces, the new holder joins those, so that a crash of the
// holder loses no pod: only the uplink is made anew.
func (h Holder) replace(ctx context.Context, old Record) (Record, error) {
	if old.UserNS == 0 {
		return h.start(ctx, 0)
	}
	// The record stays until a new one replaces it: a failed start
	// leaves it for the next command to try again.
	stopProcesses(old)
	for try := 0; ; try++ {
		members := h.Members(old)
		if len(members) == 0 || try == 5 {
			return h.start(ctx, 0)
		}
		h.logger().Info("the rootless namespace holder had gone; a new one joins its namespaces", "via", members[0])
		rec, err := h.start(ctx, members[0])
		if err == nil || procAlive(members[0]) {
			return rec, err
		}
		// The process went while the holder joined it: try another.
	}
}

// procAlive reports whether pid is a process that has not exited.
func procAlive(pid int) bool {
	st, err := state.Identify(pid)
	return err == nil && st.Alive()
}

// start makes the holder (in new namespaces, or in those of process via)
// and its uplink, and records them; on failure nothing of them is left.
func (h Holder) start(ctx context.Context, via int) (rec Record, err error) {
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
			err = fmt.Errorf("%w: %w", ErrHolder, err)
		}
	}()
	holder, sync, exitR, err := h.spawn(via)
	if err != nil {
		return Record{}, err
	}
	undo = append(undo, func() { exitR.Close(); sync.Close(); holder.Process.Kill(); holder.Wait() })
	pid := holder.Process.Pid
	if via == 0 {
		if err := h.mapIDs(pid); err != nil {
			return Record{}, err
		}
	} else if pid, err = h.joined(holder); err != nil {
		return Record{}, err
	}
	rec.APISocket = filepath.Join(h.Dir, "slirp4netns.sock")
	rec.HostLoopback = h.HostLoopback
	slirp, err := h.uplink(ctx, pid, exitR, rec.APISocket)
	if err != nil {
		return Record{}, err
	}
	undo = append(undo, func() { slirp.Process.Kill(); slirp.Wait() })
	if _, err := sync.Write([]byte("1")); err != nil {
		return Record{}, fmt.Errorf("starting the holder: %w", err)
	}
	sync.Close()
	if rec.Holder, err = state.Identify(pid); err != nil {
		return Record{}, err
	}
	if rec.Slirp, err = state.Identify(slirp.Process.Pid); err != nil {
		return Record{}, err
	}
	if rec.UserNS, err = nsInode(rec.Holder.Pid, "user"); err != nil {
		return Record{}, err
	}
	if rec.NetNS, err = nsInode(rec.Holder.Pid, "net"); err != nil {
		return Record{}, err
	}
	if err := state.WriteJSON(h.recordPath(), rec); err != nil {
		return Record{}, err
	}
	// Both outlive this command: init (or a subreaper) reaps them.
	holder.Process.Release()
	slirp.Process.Release()
	h.logger().Debug("started the rootless namespace holder", "pid", rec.Holder.Pid, "slirp4netns", rec.Slirp.Pid)
	return rec, nil
}

func (h Holder) logger() *slog.Logger {
	if h.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Log
}

// spawn starts the holder in new user, mount and network namespaces (or
// through nsenter in those of process via), waiting on its sync pipe;
// exitR is the read end of the pipe that only the holder holds open for
// writing.
func (h Holder) spawn(via int) (cmd *exec.Cmd, sync, exitR *os.File, err error) {
	syncR, sync, err := os.Pipe()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("starting the holder: %w", err)
	}
	defer syncR.Close()
	exitR, exitW, err := os.Pipe()
	if err != nil {
		sync.Close()
		return nil, nil, nil, fmt.Errorf("starting the holder: %w", err)
	}
	defer exitW.Close()
	logf, err := os.OpenFile(filepath.Join(h.Dir, "holder.log"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		sync.Close()
		exitR.Close()
		return nil, nil, nil, fmt.Errorf("starting the holder: %w", err)
	}
	defer logf.Close()
	cmd = exec.Command(h.Self, HolderCommand)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWNET,
		Setsid:     true,
	}
	if via != 0 {
		cmd = exec.Command("nsenter", "--preserve-credentials", "-U", "-m", "-n", "-t", strconv.Itoa(via), "--", h.Self, HolderCommand)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	}
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.ExtraFiles = []*os.File{syncR, exitW}
	if err := cmd.Start(); err != nil {
		sync.Close()
		exitR.Close()
		return nil, nil, nil, fmt.Errorf("starting the holder in new namespaces: %w (see `podrun info`)", err)
	}
	return cmd, sync, exitR, nil
}

// joined waits until nsenter has become the holder (it execs it, so the
// pid stays) and returns its pid.
func (h Holder) joined(cmd *exec.Cmd) (int, error) {
	pid := cmd.Process.Pid
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !procAlive(pid) {
			return 0, fmt.Errorf("joining the namespaces of the old holder's processes: nsenter exited (see %s)", filepath.Join(h.Dir, "holder.log"))
		}
		if strings.Contains(string(raw), HolderCommand) && !strings.HasPrefix(string(raw), "nsenter") {
			return pid, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0, errors.New("joining the namespaces of the old holder's processes: nsenter did not start the holder")
}

// mapIDs writes the holder's uid and gid maps with newuidmap and
// newgidmap: root is the user, 1.. the subordinate ranges.
func (h Holder) mapIDs(pid int) error {
	m := h.Machine.withDefaults()
	for _, f := range []struct {
		tool, file string
		id         int
	}{{"newuidmap", m.SubUID, h.User.UID}, {"newgidmap", m.SubGID, h.User.GID}} {
		ranges, err := SubIDs(f.file, h.User.Name, h.User.UID)
		if err != nil {
			return err
		}
		tool, err := m.lookPath(f.tool)
		if err != nil {
			return fmt.Errorf("%s is not installed (sudo apt-get install uidmap)", f.tool)
		}
		args := append([]string{strconv.Itoa(pid)}, MapArgs(f.id, ranges)...)
		if out, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("%s %s: %v: %s (check %s, see `podrun info`)", tool, strings.Join(args, " "), err, strings.TrimSpace(string(out)), f.file)
		}
	}
	return nil
}

// uplink starts slirp4netns on the holder's network namespace, in its
// own session, and waits until it is ready. The host's loopback is not
// reachable from pods; it exits when exitR's writer (the holder) does.
func (h Holder) uplink(ctx context.Context, pid int, exitR *os.File, socket string) (*exec.Cmd, error) {
	defer exitR.Close()
	m := h.Machine.withDefaults()
	bin, err := m.lookPath("slirp4netns")
	if err != nil {
		return nil, errors.New("slirp4netns is not installed (sudo apt-get install slirp4netns)")
	}
	os.Remove(socket)
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer readyR.Close()
	logf, err := os.OpenFile(filepath.Join(h.Dir, "slirp4netns.log"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		readyW.Close()
		return nil, err
	}
	defer logf.Close()
	args := []string{"--configure", "--mtu=65520", "--enable-sandbox", "--enable-seccomp",
		"--exit-fd=3", "--ready-fd=4", "--api-socket", socket, strconv.Itoa(pid), "tap0"}
	if !h.HostLoopback {
		args = append([]string{"--disable-host-loopback"}, args...)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.ExtraFiles = []*os.File{exitR, readyW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	readyW.Close()
	if err != nil {
		return nil, fmt.Errorf("starting slirp4netns: %w", err)
	}
	ready := make(chan error, 1)
	go func() {
		b := make([]byte, 1)
		_, err := readyR.Read(b)
		ready <- err
	}()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	select {
	case err = <-ready:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		out, _ := os.ReadFile(logf.Name())
		return nil, fmt.Errorf("slirp4netns did not get ready (%v): %s (is /dev/net/tun usable? see `podrun info`)", err, strings.TrimSpace(string(out)))
	}
	return cmd, nil
}

// Release stops the holder when the run root holds no pod and no
// process but the holder lives in its user namespace, unless another
// command holds a lease on it. It reports whether it stopped one.
func (h Holder) Release() (bool, error) {
	lock, err := flock.TryExclusive(filepath.Join(h.Dir, "use.lock"))
	if err != nil {
		return false, nil // another command uses it, or there is none
	}
	defer lock.Unlock()
	rec, ok := h.Find()
	if h.busy(rec) {
		// A dead holder's record stays too, so that the next command's
		// holder joins the namespaces its pods still live in.
		return false, nil
	}
	return ok, h.stopRecorded(rec)
}

// busy reports whether the holder still serves something: an entry in
// one of the Keep directories (a pod, a workload), or a process (a
// monitor, a supervisor, a command) in its user namespace.
func (h Holder) busy(rec Record) bool {
	for _, dir := range h.Keep {
		if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
			return true
		}
	}
	// A command's last children (a killed sleep, an exiting monitor) may
	// take a moment to go.
	for i := 0; ; i++ {
		if len(h.Members(rec)) == 0 {
			return false
		}
		if i == 20 {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Members lists the live processes in rec's user and network namespaces
// other than the holder and slirp4netns (pods' monitors, commands), as
// far as the user may see them.
func (h Holder) Members(rec Record) []int {
	var pids []int
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == rec.Holder.Pid || pid == rec.Slirp.Pid {
			continue
		}
		// The network namespace too: a zombie keeps its user namespace
		// (in its credentials) but has left the others.
		if ino, err := nsInode(pid, "user"); err != nil || ino != rec.UserNS {
			continue
		}
		if ino, err := nsInode(pid, "net"); err == nil && ino == rec.NetNS {
			pids = append(pids, pid)
		}
	}
	return pids
}

// stopRecorded ends the holder and slirp4netns that rec names and
// removes the record.
func (h Holder) stopRecorded(rec Record) error {
	stopProcesses(rec)
	if err := os.Remove(h.recordPath()); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("removing the holder's record: %w", err)
	}
	os.Remove(filepath.Join(h.Dir, "slirp4netns.sock"))
	return nil
}

// stopProcesses ends the holder and slirp4netns that rec names, those
// still running with the recorded start times: SIGTERM, then SIGKILL.
func stopProcesses(rec Record) {
	for _, p := range []state.Process{rec.Holder, rec.Slirp} {
		if p.Pid <= 0 || !p.Alive() {
			continue
		}
		p.Signal(syscall.SIGTERM)
		deadline := time.Now().Add(3 * time.Second)
		for p.Alive() && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if p.Alive() {
			p.Signal(syscall.SIGKILL)
		}
	}
}

// RunHolder is the holder's body: it waits for the go-ahead on fd 3
// (its id maps written, its uplink up), keeps fd 4 open for
// slirp4netns's exit-fd, and waits for SIGTERM. A parent that dies
// before the go-ahead makes it exit.
func RunHolder() error {
	sync := os.NewFile(3, "sync")
	keep := os.NewFile(4, "exit")
	if sync == nil || keep == nil {
		return errors.New("the rootless namespace holder is started by podrun, not by hand")
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	signal.Ignore(syscall.SIGHUP, syscall.SIGPIPE)
	b := make([]byte, 1)
	if n, _ := sync.Read(b); n != 1 {
		return errors.New("the podrun command starting the holder went away")
	}
	sync.Close()
	<-sigs
	keep.Close()
	return nil
}

// nsInode is the inode of /proc/PID/ns/KIND.
func nsInode(pid int, kind string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(fmt.Sprintf("/proc/%d/ns/%s", pid, kind), &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// SelfUserNS is the inode of this process's user namespace.
func SelfUserNS() (uint64, error) { return nsInode(os.Getpid(), "user") }
