package proxy

import (
	"slices"
	"strings"
)

// saved is what iptables-save printed for the nat and filter tables:
// per table, its chains and its rules (the "-A" lines, verbatim).
type saved struct {
	chains map[string][]string
	rules  map[string][]string
}

// parseSave reads iptables-save output.
func parseSave(out string) saved {
	s := saved{chains: map[string][]string{}, rules: map[string][]string{}}
	table := ""
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "*"):
			table = line[1:]
		case strings.HasPrefix(line, ":"):
			if f := strings.Fields(line[1:]); len(f) > 0 {
				s.chains[table] = append(s.chains[table], f[0])
			}
		case strings.HasPrefix(line, "-A "):
			s.rules[table] = append(s.rules[table], line)
		}
	}
	return s
}

// ownChains are table's chains whose names start with prefix, sorted.
func (s saved) ownChains(table, prefix string) []string {
	var out []string
	for _, c := range s.chains[table] {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// refsTo are table's rules, outside chains named with prefix, that jump or
// go to one of them.
func (s saved) refsTo(table, prefix string) []string {
	var out []string
	for _, r := range s.rules[table] {
		f := strings.Fields(r)
		if len(f) < 2 || strings.HasPrefix(f[1], prefix) {
			continue
		}
		if t := target(f); strings.HasPrefix(t, prefix) {
			out = append(out, r)
		}
	}
	return out
}

// jumpState is where a jump rule stands in its built-in chain.
type jumpState int

const (
	jumpMissing jumpState = iota
	// jumpLate: a rule of someone else's comes before it, which could
	// accept (or otherwise decide) a packet before the instance sees it.
	jumpLate
	// jumpFirst: only other podrun instances' jumps, which decide nothing
	// for this instance's addresses, come before it.
	jumpFirst
)

// jump finds j's rule: its state, and its saved line.
func (s saved) jump(j jump) (jumpState, string) {
	late := false
	for _, r := range s.rules[j.Table] {
		f := strings.Fields(r)
		if len(f) < 2 || f[1] != j.From {
			continue
		}
		t := target(f)
		if t == j.To {
			if late {
				return jumpLate, r
			}
			return jumpFirst, r
		}
		if !strings.HasPrefix(t, "PODRUN-") {
			late = true
		}
	}
	return jumpMissing, ""
}

// target is the chain a rule's fields jump or go to, or "".
func target(f []string) string {
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "-j" || f[i] == "-g" {
			return f[i+1]
		}
	}
	return ""
}
