package translate

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestInUserNS(t *testing.T) {
	mem, shares, adj := int64(64<<20), uint64(512), -997
	mk := func() *Plan {
		return &Plan{
			Infra: Container{Name: InfraName, Spec: &specs.Spec{Process: &specs.Process{}, Linux: &specs.Linux{CgroupsPath: "/podrun/u/POD", Resources: &specs.LinuxResources{}}}},
			Containers: []Container{{Name: "app", Spec: &specs.Spec{
				Process: &specs.Process{OOMScoreAdj: &adj, Rlimits: []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1 << 20, Soft: 1 << 20}}},
				Linux: &specs.Linux{CgroupsPath: "/podrun/u/app", Resources: &specs.LinuxResources{
					Memory: &specs.LinuxMemory{Limit: &mem}, CPU: &specs.LinuxCPU{Shares: &shares}}},
			}}},
		}
	}
	u := UserNS{Nested: true, OOMScoreAdj: 0, RlimitHard: map[string]uint64{"RLIMIT_NOFILE": 4096}}

	plan := mk()
	w := inUserNS(plan, u)
	if len(w) != 1 || !strings.Contains(w[0].Message, "app: memory cpu request") {
		t.Errorf("warnings = %v, want one naming app's memory and cpu request", w)
	}
	for _, c := range plan.all() {
		if c.Spec.Linux.CgroupsPath != "" || c.Spec.Linux.Resources != nil {
			t.Errorf("%s: cgroupsPath %q, resources %v; want neither without a writable cgroup", c.Name, c.Spec.Linux.CgroupsPath, c.Spec.Linux.Resources)
		}
	}
	app := plan.Containers[0].Spec.Process
	if *app.OOMScoreAdj != 0 {
		t.Errorf("oom_score_adj = %d, want the floor 0", *app.OOMScoreAdj)
	}
	if r := app.Rlimits[0]; r.Hard != 4096 || r.Soft != 4096 {
		t.Errorf("RLIMIT_NOFILE = %d/%d, want clamped to 4096", r.Soft, r.Hard)
	}

	plan = mk()
	u.Cgroup = true
	if w := inUserNS(plan, u); len(w) != 0 {
		t.Errorf("with a writable cgroup: warnings %v, want none", w)
	}
	if plan.Containers[0].Spec.Linux.Resources.Memory == nil || plan.Containers[0].Spec.Linux.CgroupsPath == "" {
		t.Error("with a writable cgroup the limits and path must stay")
	}
}
