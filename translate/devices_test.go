package translate

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// deviceAllowed evaluates device cgroup rules as runc does: in order, each
// matching rule deciding anew, starting from deny.
func deviceAllowed(rules []specs.LinuxDeviceCgroup, typ string, major, minor int64, access string) bool {
	allowed := false
	for _, r := range rules {
		if r.Type != "" && r.Type != "a" && r.Type != typ ||
			r.Major != nil && *r.Major != major || r.Minor != nil && *r.Minor != minor ||
			!strings.Contains(r.Access, access) {
			continue
		}
		allowed = r.Allow
	}
	return allowed
}

// TestDeviceCgroupDeniesImageDevices: device nodes an image carries (a
// Debian root file system's /dev/console, a disk) cannot be opened in any
// unprivileged container of a pod, infra included: the rules start with
// deny-all and allow only the standard character devices (and mknod).
func TestDeviceCgroupDeniesImageDevices(t *testing.T) {
	plan, err := Pod(baseInput(basePod()))
	if err != nil {
		t.Fatal(err)
	}
	denied := []struct {
		typ          string
		major, minor int64
	}{{"c", 5, 1}, {"c", 4, 0}, {"c", 10, 232}, {"b", 8, 0}, {"b", 7, 0}, {"c", 1, 1}}
	allowed := []struct {
		typ          string
		major, minor int64
	}{{"c", 1, 3}, {"c", 1, 5}, {"c", 1, 9}, {"c", 5, 0}, {"c", 136, 4}}
	for _, c := range planContainersForTest(plan) {
		rules := c.Spec.Linux.Resources.Devices
		if len(rules) == 0 || rules[0].Allow || rules[0].Access != "rwm" || rules[0].Type != "" && rules[0].Type != "a" {
			t.Errorf("%s: first device rule %+v, want deny-all", c.Name, rules)
		}
		for _, d := range denied {
			for _, a := range []string{"r", "w"} {
				if deviceAllowed(rules, d.typ, d.major, d.minor, a) {
					t.Errorf("%s: %s %d:%d access %s allowed", c.Name, d.typ, d.major, d.minor, a)
				}
			}
		}
		for _, d := range allowed {
			if !deviceAllowed(rules, d.typ, d.major, d.minor, "w") {
				t.Errorf("%s: %s %d:%d denied", c.Name, d.typ, d.major, d.minor)
			}
		}
	}
}

func planContainersForTest(p *Plan) []Container {
	out := append([]Container{p.Infra}, p.Init...)
	return append(out, p.Containers...)
}
