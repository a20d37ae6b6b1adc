package runtime

import (
	"syscall"
	"testing"
)

func TestParseSignal(t *testing.T) {
	tests := []struct {
		in   string
		want syscall.Signal // 0: an error
	}{
		{"SIGTERM", syscall.SIGTERM},
		{"SIGKILL", syscall.SIGKILL},
		{"SIGQUIT", syscall.SIGQUIT},
		{"SIGUSR1", syscall.SIGUSR1},
		{"SIGWINCH", syscall.SIGWINCH},
		{"SIGIOT", syscall.SIGABRT},
		{"SIGCLD", syscall.SIGCHLD},
		{"SIGPOLL", syscall.SIGIO},
		{"15", syscall.SIGTERM},
		{"9", syscall.SIGKILL},
		{"37", syscall.Signal(37)}, // a real-time signal by number
		{"64", syscall.Signal(64)},
		{"SIGRTMIN", 34},
		{"SIGRTMIN+3", 37},
		{"SIGRTMIN+30", 64},
		{"SIGRTMAX", 64},
		{"SIGRTMAX-1", 63},
		{"SIGRTMAX-30", 34},
		// Not signals.
		{"0", 0},
		{"65", 0},
		{"-15", 0},
		{"", 0},
		{"SIGBOGUS", 0},
		{"SIGRTMIN+31", 0},
		{"SIGRTMIN-1", 0},
		{"SIGRTMIN3", 0},
		{"SIGRTMAX+1", 0},
	}
	for _, tt := range tests {
		got, err := ParseSignal(tt.in)
		if got != tt.want || (err != nil) != (tt.want == 0) {
			t.Errorf("ParseSignal(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

// TestParseSignalNames: every Linux signal name kubelet.Signal accepts.
func TestParseSignalNames(t *testing.T) {
	for _, name := range []string{
		"SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGIOT", "SIGBUS", "SIGFPE",
		"SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT",
		"SIGCHLD", "SIGCLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG",
		"SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPOLL", "SIGPWR", "SIGSYS",
	} {
		if _, err := ParseSignal(name); err != nil {
			t.Error(err)
		}
	}
}
