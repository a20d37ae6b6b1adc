package translate

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestPauseLibs: a dynamic pause binary's interpreter and libraries become
// read-only binds at their own paths in the infra spec, and nowhere else.
func TestPauseLibs(t *testing.T) {
	libs := []string{"/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"}
	pod := basePod()
	in := baseInput(pod)
	static, err := Pod(in)
	if err != nil {
		t.Fatal(err)
	}
	in.PauseLibs = libs
	plan, err := Pod(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range libs {
		i := slices.IndexFunc(plan.Infra.Spec.Mounts, func(m specs.Mount) bool { return m.Destination == l })
		if i < 0 {
			t.Errorf("infra spec does not mount %s", l)
			continue
		}
		want := specs.Mount{Destination: l, Type: "bind", Source: l, Options: []string{"rbind", "ro", "nosuid", "nodev"}}
		if diff := cmp.Diff(want, plan.Infra.Spec.Mounts[i]); diff != "" {
			t.Errorf("mount of %s (-want +got):\n%s", l, diff)
		}
	}
	if got, want := len(plan.Infra.Spec.Mounts), len(static.Infra.Spec.Mounts)+len(libs); got != want {
		t.Errorf("infra has %d mounts, want %d", got, want)
	}
	if diff := cmp.Diff(static.Init, plan.Init); diff != "" {
		t.Errorf("init containers changed (-static +dynamic):\n%s", diff)
	}
	if diff := cmp.Diff(static.Containers, plan.Containers); diff != "" {
		t.Errorf("app containers changed (-static +dynamic):\n%s", diff)
	}
	for _, bad := range []string{"lib/libc.so.6", "/lib/../etc/passwd", "/", "/pause"} {
		in.PauseLibs = []string{bad}
		if _, err := Pod(in); err == nil {
			t.Errorf("PauseLibs %q accepted", bad)
		}
	}
}
