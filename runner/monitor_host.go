package runner

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/runner/flock"
	"github.com/podrun/podrun/runner/state"
)

// MonitorHostEnv, set to 1, makes apply hand every pod's monitor to one
// process per run root (MonitorHostCommand) instead of starting a
// process per pod. It is the experiment that measured the memory of the
// two process models (docs/workloads.md, "Memory"), for benchmarks only:
// one process losing every pod when it dies is why podrun keeps a
// process per pod. Leave it unset.
const MonitorHostEnv = "PODRUN_TEST_MONITOR_HOST"

// MonitorHostCommand is the hidden podrun verb of the process that runs
// several pods' monitors under MonitorHostEnv.
const MonitorHostCommand = "monitor-host"

// monitorHostAddr is the abstract unix socket of the run root's monitor
// host.
func (r *Runner) monitorHostAddr() string {
	sum := sha256.Sum256([]byte(r.cfg.RunRoot))
	return "@podrun-monitor-host-" + hex.EncodeToString(sum[:8])
}

// startHostedMonitor is startMonitor under MonitorHostEnv: it asks the
// run root's monitor host, started if there is none, to run the pod's
// monitor, handing it the ready pipe and the pod's monitor.log.
func (r *Runner) startHostedMonitor(ctx context.Context, h podHandle) error {
	dir, l := h.dir, h.layout
	st, err := dir.Read()
	if err != nil {
		return err
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer readyR.Close()
	logPath := filepath.Join(l.Dir, "monitor.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		readyW.Close()
		return err
	}
	defer logFile.Close()
	pid, err := r.handToHost(ctx, st.Namespace+"/"+st.Name, readyW, logFile)
	readyW.Close()
	if err != nil {
		return fmt.Errorf("handing the pod to the monitor host: %w", err)
	}
	proc, err := state.Identify(pid)
	if err == nil {
		_, err = dir.Update(ctx, func(s *state.Pod) error { s.Monitor, s.Stage = proc, state.StageMonitor; return nil })
	}
	if err != nil {
		return err
	}
	r.reached(dir, state.StageMonitor)
	if err := waitReady(ctx, readyR, logPath); err != nil {
		return err
	}
	return r.recordStage(ctx, dir, state.StageRunning)
}

// handToHost sends the pod's name and files to the monitor host, under the
// run root's host lock so that a host that is exiting takes no pod, and
// returns the host's pid once it has taken the pod.
func (r *Runner) handToHost(ctx context.Context, pod string, files ...*os.File) (int, error) {
	lock, err := flock.Exclusive(ctx, filepath.Join(r.cfg.RunRoot, "monitor-host.lock"))
	if err != nil {
		return 0, err
	}
	defer lock.Unlock()
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: r.monitorHostAddr(), Net: "unix"})
	if err != nil {
		if err := r.startMonitorHost(); err != nil {
			return 0, err
		}
		if conn, err = net.DialUnix("unix", nil, &net.UnixAddr{Name: r.monitorHostAddr(), Net: "unix"}); err != nil {
			return 0, err
		}
	}
	defer conn.Close()
	fds := make([]int, len(files))
	for i, f := range files {
		fds[i] = int(f.Fd())
	}
	if _, _, err := conn.WriteMsgUnix([]byte(pod+"\n"), unix.UnixRights(fds...), nil); err != nil {
		return 0, err
	}
	if _, err := bufio.NewReader(conn).ReadString('\n'); err != nil {
		return 0, fmt.Errorf("waiting for the monitor host to take the pod: %w", err)
	}
	raw, err := conn.SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *unix.Ucred
	cerr := raw.Control(func(fd uintptr) { cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) })
	if err = errors.Join(cerr, err); err != nil {
		return 0, err
	}
	return int(cred.Pid), nil
}

// startMonitorHost starts the monitor host in a session of its own and
// waits until it listens.
func (r *Runner) startMonitorHost() error {
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer readyR.Close()
	logFile, err := os.OpenFile(filepath.Join(r.cfg.RunRoot, "monitor-host.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		readyW.Close()
		return err
	}
	defer logFile.Close()
	args := []string{"--root", r.cfg.Root, "--run-root", r.cfg.RunRoot, "--runtime", r.cfg.Runtime, MonitorHostCommand}
	cmd := exec.Command(r.cfg.Self, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Dir = "/"
	cmd.ExtraFiles = []*os.File{readyW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	readyW.Close()
	if err != nil {
		return err
	}
	defer cmd.Process.Release()
	if _, err := bufio.NewReader(readyR).ReadString('\n'); err != nil {
		return fmt.Errorf("the monitor host exited before listening")
	}
	return nil
}

// hosted is one pod whose monitor runs in the monitor host.
type hosted struct {
	dir  *state.PodDir
	stop chan struct{}
	once sync.Once
}

// HostMonitors is the monitor host: it runs the monitor of every pod
// handed to it (startHostedMonitor) in a goroutine of this process, stops
// a pod's monitor on SIGTERM once the pod's state says it is being
// deleted, and returns once the last pod's monitor has returned. It
// writes a line to listening once it accepts pods.
func (r *Runner) HostMonitors(ctx context.Context, listening *os.File, log *slog.Logger) error {
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: r.monitorHostAddr(), Net: "unix"})
	if err != nil {
		return err
	}
	_, _ = listening.WriteString("\n")
	listening.Close()
	var (
		mu    sync.Mutex
		pods  = map[*hosted]bool{}
		empty = make(chan struct{}, 1)
	)
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT)
	go func() {
		for range sigs {
			mu.Lock()
			for p := range pods {
				if st, err := p.dir.Read(); err != nil || !st.Deleting.IsZero() {
					p.once.Do(func() { close(p.stop) })
				}
			}
			mu.Unlock()
		}
	}()
	go func() {
		for {
			conn, err := ln.AcceptUnix()
			if err != nil {
				return
			}
			ns, name, files, err := readHandOver(conn)
			if err != nil {
				log.Warn("taking a pod", "error", err)
				conn.Close()
				continue
			}
			k, err := state.PodKey(ns, name)
			if err != nil {
				log.Warn("taking a pod", "error", err)
				conn.Close()
				continue
			}
			p := &hosted{dir: r.pod(k).dir, stop: make(chan struct{})}
			mu.Lock()
			pods[p] = true
			mu.Unlock()
			_, _ = conn.Write([]byte("\n"))
			conn.Close()
			go func() {
				defer files[1].Close()
				plog := slog.New(slog.NewTextHandler(files[1], nil))
				if err := r.Monitor(ctx, ns, name, MonitorOptions{Ready: files[0], Log: plog, Stop: p.stop}); err != nil {
					plog.Error("monitoring the pod", "error", err)
				}
				_, _ = p.dir.Update(context.Background(), func(s *state.Pod) error { s.Monitor = state.Process{}; return nil })
				mu.Lock()
				delete(pods, p)
				if len(pods) == 0 {
					select {
					case empty <- struct{}{}:
					default:
					}
				}
				mu.Unlock()
			}()
		}
	}()
	for range empty {
		lock, err := flock.Exclusive(ctx, filepath.Join(r.cfg.RunRoot, "monitor-host.lock"))
		if err != nil {
			return err
		}
		mu.Lock()
		n := len(pods)
		mu.Unlock()
		if n == 0 {
			ln.Close() // exits holding the lock: no pod is handed over meanwhile
			return nil
		}
		lock.Unlock()
	}
	return nil
}

// readHandOver reads a pod's name, namespace/name, and its ready pipe and
// log file from a connection.
func readHandOver(conn *net.UnixConn) (ns, name string, files []*os.File, err error) {
	buf, oob := make([]byte, 512), make([]byte, unix.CmsgSpace(2*4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return "", "", nil, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return "", "", nil, fmt.Errorf("reading the pod's files: %v", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 2 {
		return "", "", nil, fmt.Errorf("reading the pod's files: %v", err)
	}
	files = []*os.File{os.NewFile(uintptr(fds[0]), "ready"), os.NewFile(uintptr(fds[1]), "monitor.log")}
	ns, name, ok := strings.Cut(strings.TrimSpace(string(buf[:n])), "/")
	if !ok {
		return "", "", nil, fmt.Errorf("reading the pod's name: %q", buf[:n])
	}
	return ns, name, files, nil
}
