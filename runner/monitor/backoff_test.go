package monitor

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	tests := []struct {
		name  string
		base  time.Duration
		exits []time.Duration // offsets from t0
		want  []time.Duration
	}{
		{"first restart is immediate", 0, []time.Duration{0}, []time.Duration{0}},
		{"doubling from 10s", 0,
			[]time.Duration{0, time.Second, 20 * time.Second, time.Minute},
			[]time.Duration{0, 10 * time.Second, 20 * time.Second, 40 * time.Second}},
		{"capped at five minutes", 0,
			[]time.Duration{0, 1, 2, 3, 4, 5, 6, 7, 8},
			[]time.Duration{0, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 300 * time.Second, 300 * time.Second, 300 * time.Second}},
		{"reset after ten minutes without an exit", 0,
			[]time.Duration{0, time.Second, time.Second + 10*time.Minute + time.Second},
			[]time.Duration{0, 10 * time.Second, 0}},
		{"scaled base for tests", 100 * time.Millisecond,
			[]time.Duration{0, 1, 2},
			[]time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBackoff(tt.base)
			for i, off := range tt.exits {
				if got := b.next(t0.Add(off)); got != tt.want[i] {
					t.Errorf("exit %d: wait %v, want %v", i, got, tt.want[i])
				}
			}
		})
	}
}
