package monitor

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestThreshold(t *testing.T) {
	tests := []struct {
		name             string
		success, failure int32
		initial          bool
		outcomes         []bool
		want             []bool // result after each outcome
	}{
		{"liveness fails after three failures in a row", 1, 3, true,
			[]bool{false, false, true, false, false, false},
			[]bool{true, true, true, true, true, false}},
		{"readiness needs two successes", 2, 1, false,
			[]bool{true, false, true, true, false},
			[]bool{false, false, false, true, false}},
		{"zero thresholds count as one", 0, 0, false,
			[]bool{true, false},
			[]bool{true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := newThreshold(&corev1.Probe{SuccessThreshold: tt.success, FailureThreshold: tt.failure}, tt.initial)
			for i, ok := range tt.outcomes {
				th.observe(ok)
				if th.result != tt.want[i] {
					t.Fatalf("after outcome %d (%v): result %v, want %v", i, ok, th.result, tt.want[i])
				}
			}
		})
	}
}

func TestHealthStatus(t *testing.T) {
	tests := []struct {
		frame []byte
		want  int
	}{
		{[]byte{0, 0, 0, 0, 2, 0x08, 1}, 1},
		{[]byte{0, 0, 0, 0, 2, 0x08, 2}, 2},
		{[]byte{0, 0, 0, 0, 0}, 0},
		{[]byte{0, 0, 0, 0, 3, 0x08, 1}, -1},
		{[]byte{0, 0}, -1},
		{[]byte{0, 0, 0, 0, 2, 0x10, 1}, -1},
	}
	for _, tt := range tests {
		if got := healthStatus(tt.frame); got != tt.want {
			t.Errorf("healthStatus(%x) = %d, want %d", tt.frame, got, tt.want)
		}
	}
}
