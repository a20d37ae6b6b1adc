package translate

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// inUserNS changes every spec of plan so that runc can carry it out from
// inside a user namespace that is not the initial one, and returns the
// warning that names the limits ignored, at most one per pod. The pod
// runs in podrun's own user namespace (no new one per pod, no id
// mappings); the default capabilities stay; device nodes are runc's
// business (it bind-mounts them when it finds itself in a user namespace).
func inUserNS(plan *Plan, u UserNS) []Warning {
	var ignored []string
	for _, c := range plan.all() {
		s := c.Spec
		if s == nil || s.Linux == nil {
			continue
		}
		if !u.Cgroup {
			ignored = append(ignored, limitsOf(c.Name, s.Linux.Resources)...)
			// Without a path runc's rootless cgroup manager makes what it
			// can and ignores what it may not; with none of the limits it
			// has nothing to write.
			s.Linux.CgroupsPath = ""
			s.Linux.Resources = nil
		}
		if s.Process != nil {
			if a := s.Process.OOMScoreAdj; a != nil && *a < u.OOMScoreAdj {
				floor := u.OOMScoreAdj
				s.Process.OOMScoreAdj = &floor
			}
			clampRlimits(s.Process.Rlimits, u.RlimitHard)
		}
	}
	if len(ignored) == 0 {
		return nil
	}
	return []Warning{{Field: "spec", Message: fmt.Sprintf(
		"resource limits ignored: podrun runs in a user namespace without a cgroup it may write (%s); "+
			"to apply them, have root create /sys/fs/cgroup/<controller>/podrun and chown it to you, or use a cgroup v2 host with systemd's user delegation",
		strings.Join(ignored, ", "))}}
}

// all lists the plan's containers, the infra first.
func (plan *Plan) all() []*Container {
	cs := []*Container{&plan.Infra}
	for i := range plan.Init {
		cs = append(cs, &plan.Init[i])
	}
	for i := range plan.Containers {
		cs = append(cs, &plan.Containers[i])
	}
	return cs
}

// limitsOf names the limits r sets for container name (memory, cpu quota,
// cpu shares other than the default, pids), as "name: memory".
func limitsOf(name string, r *specs.LinuxResources) []string {
	if r == nil {
		return nil
	}
	var l []string
	if r.Memory != nil && r.Memory.Limit != nil {
		l = append(l, "memory")
	}
	if r.CPU != nil && r.CPU.Quota != nil {
		l = append(l, "cpu limit")
	}
	if r.CPU != nil && r.CPU.Shares != nil && *r.CPU.Shares != MilliCPUToShares(0) {
		l = append(l, "cpu request")
	}
	if len(l) == 0 || name == InfraName {
		return nil
	}
	return []string{name + ": " + strings.Join(l, " ")}
}

// clampRlimits lowers every rlimit above podrun's own hard limit to it: a
// process without CAP_SYS_RESOURCE in the initial namespace cannot raise
// one, and runc would fail with EPERM.
func clampRlimits(rl []specs.POSIXRlimit, hard map[string]uint64) {
	for i := range rl {
		h, ok := hard[rl[i].Type]
		if !ok {
			continue
		}
		rl[i].Hard = min(rl[i].Hard, h)
		rl[i].Soft = min(rl[i].Soft, rl[i].Hard)
	}
}
