package monitor

import (
	"syscall"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestStopSignal: the container's stop signal reaches the process as the
// number kubelet.StopSignal names (the precedence itself is tested there).
func TestStopSignal(t *testing.T) {
	usr1 := corev1.SIGUSR1
	tests := []struct {
		lifecycle *corev1.Lifecycle
		image     string
		want      syscall.Signal
	}{
		{nil, "", syscall.SIGTERM},
		{nil, "QUIT", syscall.SIGQUIT},
		{nil, "SIGRTMIN+3", syscall.Signal(37)},
		{&corev1.Lifecycle{StopSignal: &usr1}, "SIGQUIT", syscall.SIGUSR1},
	}
	for _, tt := range tests {
		m := &monitor{cfg: Config{Image: func(string) (Image, error) { return Image{StopSignal: tt.image}, nil }}}
		c := &ctr{m: m, image: "img", spec: corev1.Container{Lifecycle: tt.lifecycle}}
		if got := c.stopSignal(); got != tt.want {
			t.Errorf("lifecycle %v, image %q: %v, want %v", tt.lifecycle, tt.image, got, tt.want)
		}
	}
}
