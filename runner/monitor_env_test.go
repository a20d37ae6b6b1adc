package runner

import (
	"slices"
	"testing"
)

// A monitor runs on one processor unless the user's GOMAXPROCS says
// otherwise (docs/workloads.md, "Memory").
func TestMonitorEnv(t *testing.T) {
	for _, tc := range []struct {
		env, want []string
	}{
		{nil, []string{"GOMAXPROCS=1"}},
		{[]string{"PATH=/bin"}, []string{"PATH=/bin", "GOMAXPROCS=1"}},
		{[]string{"GOMAXPROCS=4", "PATH=/bin"}, []string{"GOMAXPROCS=4", "PATH=/bin"}},
		{[]string{"MYGOMAXPROCS=4"}, []string{"MYGOMAXPROCS=4", "GOMAXPROCS=1"}},
	} {
		if got := monitorEnv(slices.Clone(tc.env)); !slices.Equal(got, tc.want) {
			t.Errorf("monitorEnv(%q) = %q, want %q", tc.env, got, tc.want)
		}
	}
}
