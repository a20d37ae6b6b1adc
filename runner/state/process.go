package state

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// Process identifies a process across time: a pid with the start time the
// kernel gave it, so that a pid reused by another process is told apart.
type Process struct {
	Pid int `json:"pid"`
	// StartTime is field 22 of /proc/PID/stat: clock ticks after boot.
	StartTime uint64 `json:"startTime"`
}

// Identify returns the identity of the live process pid.
func Identify(pid int) (Process, error) {
	st, err := readStat(pid)
	if err != nil {
		return Process{}, err
	}
	return Process{Pid: pid, StartTime: st.startTime}, nil
}

// Alive reports whether p is still running: its pid exists, holds the same
// start time, and is not a zombie.
func (p Process) Alive() bool {
	if p.Pid <= 0 {
		return false
	}
	st, err := readStat(p.Pid)
	return err == nil && st.startTime == p.StartTime && st.state != 'Z' && st.state != 'X'
}

// Signal sends sig to p if p is still the process it was. It returns an
// error matching ErrProcessGone, without signalling anything, when the pid
// has exited or now belongs to another process. Where the kernel has
// pidfds the check and the signal cannot race with pid reuse.
func (p Process) Signal(sig syscall.Signal) error {
	if p.Pid <= 0 {
		return fmt.Errorf("signalling pid %d: not a process", p.Pid)
	}
	fd, err := unix.PidfdOpen(p.Pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("signalling pid %d: %w", p.Pid, ErrProcessGone)
	}
	if err != nil { // no pidfds: check, then kill, with a tiny race
		if err := p.check(); err != nil {
			return err
		}
		return p.wrap(unix.Kill(p.Pid, sig))
	}
	defer unix.Close(fd)
	// fd pins the process: if it is still ours now, it is the one signalled.
	if err := p.check(); err != nil {
		return err
	}
	return p.wrap(unix.PidfdSendSignal(fd, sig, nil, 0))
}

// SignalGroup sends sig to the process group that p leads (a process
// started with setsid, as the pod monitor is) if p is still the process
// it was: the group's id cannot be reused while its leader lives. The
// group holds the runtime commands the leader had under way, which a
// signal to the leader alone would leave running.
func (p Process) SignalGroup(sig syscall.Signal) error {
	if p.Pid <= 1 {
		return fmt.Errorf("signalling process group %d: not a process", p.Pid)
	}
	if !p.Alive() {
		return fmt.Errorf("signalling process group %d: %w", p.Pid, ErrProcessGone)
	}
	return p.wrap(unix.Kill(-p.Pid, sig))
}

// check returns ErrProcessGone unless pid p.Pid still has p's start time.
func (p Process) check() error {
	st, err := readStat(p.Pid)
	if errors.Is(err, os.ErrNotExist) || (err == nil && st.startTime != p.StartTime) {
		return fmt.Errorf("signalling pid %d: %w", p.Pid, ErrProcessGone)
	}
	if err != nil {
		return fmt.Errorf("signalling pid %d: %w", p.Pid, err)
	}
	return nil
}

func (p Process) wrap(err error) error {
	if errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("signalling pid %d: %w", p.Pid, ErrProcessGone)
	}
	if err != nil {
		return fmt.Errorf("signalling pid %d: %w", p.Pid, err)
	}
	return nil
}

// stat is what we use of /proc/PID/stat.
type stat struct {
	state     byte
	startTime uint64
}

// readStat reads /proc/pid/stat. A missing process is os.ErrNotExist.
func readStat(pid int) (stat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, unix.ESRCH) { // it exited while we read
		err = os.ErrNotExist
	}
	if err != nil {
		return stat{}, fmt.Errorf("reading status of pid %d: %w", pid, err)
	}
	st, err := parseStat(data)
	if err != nil {
		return stat{}, fmt.Errorf("reading status of pid %d: %w", pid, err)
	}
	return st, nil
}

// parseStat parses /proc/PID/stat. The command name, field 2, is in
// parentheses and may itself hold spaces and parentheses, so the fields
// are counted from the last ')'.
func parseStat(data []byte) (stat, error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || bytes.IndexByte(data, '(') < 0 {
		return stat{}, fmt.Errorf("parsing /proc stat %q: no command name", data)
	}
	fields := bytes.Fields(data[i+1:]) // fields[0] is field 3
	const startTime = 22 - 3
	if len(fields) <= startTime || len(fields[0]) != 1 {
		return stat{}, fmt.Errorf("parsing /proc stat %q: too few fields", data)
	}
	t, err := strconv.ParseUint(string(fields[startTime]), 10, 64)
	if err != nil {
		return stat{}, fmt.Errorf("parsing /proc stat start time: %w", err)
	}
	return stat{state: fields[0][0], startTime: t}, nil
}
