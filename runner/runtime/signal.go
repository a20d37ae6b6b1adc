package runtime

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Real-time signals as glibc numbers them (the kernel's 32 and 33 are the
// threading library's), so SIGRTMIN+3 is 37 as Docker and moby count.
const (
	sigRTMin = 34
	sigRTMax = 64
)

// aliases are the second names of signals that unix.SignalNum knows by
// their first.
var aliases = map[string]string{"SIGIOT": "SIGABRT", "SIGCLD": "SIGCHLD", "SIGPOLL": "SIGIO"}

// ParseSignal is the number of a signal named as kubelet.Signal writes it:
// "SIGTERM", "SIGRTMIN+3", "SIGRTMAX-1" or a number such as "15".
func ParseSignal(name string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(name); err == nil && n > 0 && n <= sigRTMax {
		return syscall.Signal(n), nil
	}
	if rest, ok := strings.CutPrefix(name, "SIGRTMIN"); ok {
		return realtime(name, sigRTMin, rest, "+")
	}
	if rest, ok := strings.CutPrefix(name, "SIGRTMAX"); ok {
		return realtime(name, sigRTMax, rest, "-")
	}
	if a, ok := aliases[name]; ok {
		name = a
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("reading signal %q: no such signal", name)
}

// realtime is base plus or minus the offset in rest ("", "+3", "-1").
func realtime(name string, base int, rest, sign string) (syscall.Signal, error) {
	if rest == "" {
		return syscall.Signal(base), nil
	}
	n, err := strconv.Atoi(strings.TrimPrefix(rest, sign))
	if err != nil || !strings.HasPrefix(rest, sign) || n < 0 || n > sigRTMax-sigRTMin {
		return 0, fmt.Errorf("reading signal %q: no such signal", name)
	}
	if sign == "-" {
		n = -n
	}
	return syscall.Signal(base + n), nil
}
