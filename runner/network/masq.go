package network

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// cleanMasq removes the masquerading rules the bridge (or ptp) plugin
// made for the pod when DEL could not: these plugins find the pod's
// addresses in its namespace, so with the namespace gone their DEL frees
// the address but leaves the rules (containernetworking/plugins#810, not
// fixed as of v1.9). The rules are the nat table's ones whose comment is
// exactly the plugin's `name: "<network>" id: "<pod>"`; the per-pod chains
// they jump to are deleted once empty. Nothing else is touched.
func cleanMasq(ctx context.Context, network, id string) error {
	comment := fmt.Sprintf(`name: %q id: %q`, network, id)
	var errs []error
	for _, cmd := range []string{"iptables", "ip6tables"} {
		if _, err := exec.LookPath(cmd); err != nil {
			continue
		}
		if err := cleanMasqWith(ctx, cmd, comment); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// cleanMasqWith removes the nat rules with comment through cmd.
func cleanMasqWith(ctx context.Context, cmd, comment string) error {
	out, err := exec.CommandContext(ctx, cmd+"-save", "-t", "nat").Output()
	if err != nil {
		return fmt.Errorf("listing %s nat rules: %w", cmd, err)
	}
	rules, chains := rulesWithComment(string(out), comment)
	for _, rule := range rules {
		args := append([]string{"-w", "-t", "nat", "-D"}, rule[1:]...)
		if out, err := exec.CommandContext(ctx, cmd, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("deleting %s rule %q: %w: %s", cmd, strings.Join(rule, " "), err, out)
		}
	}
	for _, chain := range chains {
		for _, op := range []string{"-F", "-X"} {
			if out, err := exec.CommandContext(ctx, cmd, "-w", "-t", "nat", op, chain).CombinedOutput(); err != nil {
				return fmt.Errorf("deleting %s chain %s: %w: %s", cmd, chain, err, out)
			}
		}
	}
	return nil
}

// rulesWithComment picks from iptables-save output the rules (as argv,
// "-A" first) whose comment is comment, and the CNI- chains they jump to
// that hold nothing else.
func rulesWithComment(save, comment string) (rules [][]string, chains []string) {
	targets := map[string]bool{}
	others := map[string]bool{}
	for _, line := range strings.Split(save, "\n") {
		if !strings.HasPrefix(line, "-A ") {
			continue
		}
		argv := splitRule(line)
		if !hasComment(argv, comment) {
			others[argv[1]] = true
			continue
		}
		rules = append(rules, argv)
		if t := flag(argv, "-j"); strings.HasPrefix(t, "CNI-") {
			targets[t] = true
		}
	}
	for t := range targets {
		if !others[t] {
			chains = append(chains, t)
		}
	}
	return rules, chains
}

// hasComment reports whether argv has `--comment comment`.
func hasComment(argv []string, comment string) bool {
	return flag(argv, "--comment") == comment
}

// flag is the value following name in argv, or "".
func flag(argv []string, name string) string {
	for i := 0; i+1 < len(argv); i++ {
		if argv[i] == name {
			return argv[i+1]
		}
	}
	return ""
}

// splitRule splits an iptables-save line into arguments: words separated
// by spaces, where "double quoted" words may hold spaces and \" or \\.
func splitRule(line string) []string {
	var argv []string
	var cur strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quoted && c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
		case c == '"':
			quoted, inWord = !quoted, true
		case c == ' ' && !quoted:
			if inWord {
				argv = append(argv, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		argv = append(argv, cur.String())
	}
	return argv
}
