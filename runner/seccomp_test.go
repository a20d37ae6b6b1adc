package runner

import (
	"slices"
	"testing"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestDefaultSeccompMatchesMoby: for the default capability set and for
// every capability, filtering our resolved profile gives what moby's own
// loader gives for a spec with that bounding set.
func TestDefaultSeccompMatchesMoby(t *testing.T) {
	prof, err := defaultSeccomp()
	if err != nil {
		t.Fatal(err)
	}
	for _, caps := range [][]string{
		{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
		{"CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_MODULE", "CAP_SYS_BOOT", "CAP_SYS_TIME", "CAP_SYS_NICE", "CAP_SYSLOG", "CAP_BPF", "CAP_PERFMON", "CAP_SYS_PACCT", "CAP_SYS_RAWIO", "CAP_SYS_TTY_CONFIG", "CAP_SYS_CHROOT"},
	} {
		want, err := seccomp.GetDefaultProfile(&specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: caps}}})
		if err != nil {
			t.Fatal(err)
		}
		got := prof.Filter(caps)
		if got.DefaultAction != want.DefaultAction || !slices.Equal(got.Architectures, want.Architectures) || len(got.Syscalls) != len(want.Syscalls) {
			t.Fatalf("caps %v: got %d rules, %v; moby %d rules, %v", caps, len(got.Syscalls), got.Architectures, len(want.Syscalls), want.Architectures)
		}
		for i := range got.Syscalls {
			if !slices.Equal(got.Syscalls[i].Names, want.Syscalls[i].Names) || got.Syscalls[i].Action != want.Syscalls[i].Action {
				t.Errorf("caps %v: rule %d: %v, moby %v", caps, i, got.Syscalls[i].Names, want.Syscalls[i].Names)
			}
		}
	}
}
