package runner

import (
	"syscall"
	"testing"
)

func TestParseSignal(t *testing.T) {
	tests := []struct {
		in   string
		want syscall.Signal
	}{
		{"SIGTERM", syscall.SIGTERM},
		{"TERM", syscall.SIGTERM},
		{"term", syscall.SIGTERM},
		{"sigterm", syscall.SIGTERM},
		{"SIGKILL", syscall.SIGKILL},
		{"SIGQUIT", syscall.SIGQUIT},
		{"INT", syscall.SIGINT},
		{"HUP", syscall.SIGHUP},
		{"SIGUSR1", syscall.SIGUSR1},
		{"SIGWINCH", syscall.SIGWINCH},
		{"15", syscall.SIGTERM},
		{"9", syscall.SIGKILL},
		{"1", syscall.SIGHUP},
		{"37", syscall.Signal(37)}, // a real-time signal by number
		{"64", syscall.Signal(64)},
		// Not signals.
		{"0", 0},
		{"65", 0},
		{"-15", 0},
		{"", 0},
		{"SIG", 0},
		{"bogus", 0},
		{"SIGBOGUS", 0},
		{" SIGTERM", 0},
	}
	for _, tt := range tests {
		if got := parseSignal(tt.in); got != tt.want {
			t.Errorf("parseSignal(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestParseRealtimeSignal(t *testing.T) {
	for in, want := range map[string]int{"SIGRTMIN": 34, "SIGRTMIN+3": 37, "RTMIN+3": 37, "sigrtmin+30": 64, "SIGRTMIN+31": 0, "SIGRTMIN-1": 0, "SIGRTMIN3": 0} {
		if got := int(parseSignal(in)); got != want {
			t.Errorf("parseSignal(%q) = %d, want %d", in, got, want)
		}
	}
}
