package monitor

import (
	"syscall"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestStopSignal(t *testing.T) {
	usr1 := corev1.SIGUSR1
	tests := []struct {
		lifecycle *corev1.Lifecycle
		image     syscall.Signal
		want      syscall.Signal
	}{
		{nil, 0, syscall.SIGTERM},
		{nil, syscall.SIGQUIT, syscall.SIGQUIT},
		{&corev1.Lifecycle{StopSignal: &usr1}, syscall.SIGQUIT, syscall.SIGUSR1},
	}
	for _, tt := range tests {
		m := &monitor{cfg: Config{Image: func(string) (Image, error) { return Image{StopSignal: tt.image}, nil }}}
		c := &ctr{m: m, image: "img", spec: corev1.Container{Lifecycle: tt.lifecycle}}
		if got := c.stopSignal(); got != tt.want {
			t.Errorf("lifecycle %v, image %v: %v, want %v", tt.lifecycle, tt.image, got, tt.want)
		}
	}
}
