package kubelet

import (
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// DefaultGracePeriod is terminationGracePeriodSeconds when a pod sets none.
const DefaultGracePeriod = corev1.DefaultTerminationGracePeriodSeconds * time.Second

// GracePeriod is how long a pod's containers are given to stop: the
// override (delete's --grace-period) when not nil, else the pod's
// terminationGracePeriodSeconds, else 30 s.
func GracePeriod(spec *corev1.PodSpec, override *time.Duration) time.Duration {
	switch {
	case override != nil:
		return *override
	case spec.TerminationGracePeriodSeconds != nil:
		return time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
	}
	return DefaultGracePeriod
}

// ProbeGracePeriod is how long a container killed by a failed probe is
// given: the probe's terminationGracePeriodSeconds, else the pod's.
func ProbeGracePeriod(spec *corev1.PodSpec, p *corev1.Probe) time.Duration {
	if p.TerminationGracePeriodSeconds != nil {
		return time.Duration(*p.TerminationGracePeriodSeconds) * time.Second
	}
	return GracePeriod(spec, nil)
}

// StopSignal is the signal that stops container c, by the kubelet's
// precedence: its lifecycle.stopSignal, else its image's STOPSIGNAL
// (imageSignal, as the image config writes it: "SIGQUIT", "QUIT" or "3"),
// else SIGTERM. A value that names no Linux signal is passed over. The
// result is a name ("SIGUSR1", "SIGRTMIN+3") or, when the image gave one,
// a number ("3").
func StopSignal(c *corev1.Container, imageSignal string) string {
	if l := c.Lifecycle; l != nil && l.StopSignal != nil {
		if s, ok := Signal(string(*l.StopSignal)); ok {
			return s
		}
	}
	if s, ok := Signal(imageSignal); ok {
		return s
	}
	return string(corev1.SIGTERM)
}

// signals are the Linux signal names below the real-time ones.
var signals = map[string]bool{
	"SIGHUP": true, "SIGINT": true, "SIGQUIT": true, "SIGILL": true, "SIGTRAP": true,
	"SIGABRT": true, "SIGIOT": true, "SIGBUS": true, "SIGFPE": true, "SIGKILL": true,
	"SIGUSR1": true, "SIGSEGV": true, "SIGUSR2": true, "SIGPIPE": true, "SIGALRM": true,
	"SIGTERM": true, "SIGSTKFLT": true, "SIGCHLD": true, "SIGCLD": true, "SIGCONT": true,
	"SIGSTOP": true, "SIGTSTP": true, "SIGTTIN": true, "SIGTTOU": true, "SIGURG": true,
	"SIGXCPU": true, "SIGXFSZ": true, "SIGVTALRM": true, "SIGPROF": true, "SIGWINCH": true,
	"SIGIO": true, "SIGPOLL": true, "SIGPWR": true, "SIGSYS": true,
}

// Signal reads a signal as a pod or an image config names it: "SIGTERM",
// "term", "15", "SIGRTMIN", "SIGRTMIN+3", "SIGRTMAX-1". It returns the
// canonical form (upper case, with the SIG prefix; a number as it is) and
// whether it names a Linux signal.
func Signal(s string) (string, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		return s, n > 0 && n < 65
	}
	s = strings.ToUpper(s)
	if !strings.HasPrefix(s, "SIG") {
		s = "SIG" + s
	}
	if signals[s] {
		return s, true
	}
	for _, rt := range []struct{ prefix, sign string }{{"SIGRTMIN", "+"}, {"SIGRTMAX", "-"}} {
		rest, ok := strings.CutPrefix(s, rt.prefix)
		if !ok {
			continue
		}
		if rest == "" {
			return s, true
		}
		n, err := strconv.Atoi(strings.TrimPrefix(rest, rt.sign))
		return s, err == nil && strings.HasPrefix(rest, rt.sign) && n >= 0 && n <= 30
	}
	return s, false
}
