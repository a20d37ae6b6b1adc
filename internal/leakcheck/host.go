package leakcheck

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// interfaceSet lists the host's network interfaces.
func interfaceSet() (map[string]bool, error) {
	entries, err := os.ReadDir("/sys/class/net")
	if err != nil {
		return nil, fmt.Errorf("listing network interfaces: %w", err)
	}
	set := map[string]bool{}
	for _, e := range entries {
		set[e.Name()] = true
	}
	return set, nil
}

// interfaceLeaks lists interfaces on Bridge, and new marked ones.
func (s *Snapshot) interfaceLeaks() ([]string, error) {
	now, err := interfaceSet()
	if err != nil {
		return nil, err
	}
	var leaks []string
	for name := range now {
		if s.opts.Bridge != "" && name != s.opts.Bridge && master(name) == s.opts.Bridge {
			leaks = append(leaks, fmt.Sprintf("interface %s on bridge %s", name, s.opts.Bridge))
			continue
		}
		if !s.interfaces[name] && marked(name, s.opts.Markers) {
			leaks = append(leaks, "interface "+name)
		}
	}
	return leaks, nil
}

// master is the name of the interface name is enslaved to, or "".
func master(name string) string {
	link, err := os.Readlink(filepath.Join("/sys/class/net", name, "master"))
	if err != nil {
		return ""
	}
	return filepath.Base(link)
}

// ruleSet reads the nat and filter rules and chains of iptables and
// ip6tables, and the policy routing rules and routes of every table.
func ruleSet() (map[string]bool, error) {
	set := map[string]bool{}
	for _, cmd := range []string{"iptables-save", "ip6tables-save"} {
		if _, err := exec.LookPath(cmd); err != nil {
			continue
		}
		for _, table := range []string{"nat", "filter"} {
			out, err := exec.Command(cmd, "-t", table).Output()
			if err != nil {
				return nil, fmt.Errorf("running %s -t %s: %w", cmd, table, err)
			}
			for _, line := range strings.Split(string(out), "\n") {
				if strings.HasPrefix(line, "-A ") || strings.HasPrefix(line, ":") {
					set[cmd+" -t "+table+" "+strings.TrimSuffix(chainName(line), " ")] = true
				}
			}
		}
	}
	for _, args := range [][]string{{"rule", "show"}, {"route", "show", "table", "all"}} {
		out, err := exec.Command("ip", args...).Output()
		if err != nil {
			return nil, fmt.Errorf("running ip %s: %w", strings.Join(args, " "), err)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if line != "" {
				set["ip "+args[0]+" "+line] = true
			}
		}
	}
	return set, nil
}

// chainName keeps of a chain's line (":NAME POLICY [packets:bytes]") its
// name, as its counters change; other lines are kept whole.
func chainName(line string) string {
	if name, _, ok := strings.Cut(line, " "); ok && strings.HasPrefix(line, ":") {
		return name
	}
	return line
}

// ruleLeaks lists new marked rules.
func (s *Snapshot) ruleLeaks() ([]string, error) {
	now, err := ruleSet()
	if err != nil {
		return nil, err
	}
	var leaks []string
	for rule := range now {
		if !s.rules[rule] && marked(rule, s.opts.Markers) {
			leaks = append(leaks, "rule "+rule)
		}
	}
	return leaks, nil
}

// processLeaks lists processes, other than this one, whose command line
// is marked or whose root or working directory is under Roots.
func (s *Snapshot) processLeaks() ([]string, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("listing processes: %w", err)
	}
	self := os.Getpid()
	var leaks []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		if why := s.processLeak(pid); why != "" {
			leaks = append(leaks, fmt.Sprintf("process %d %s", pid, why))
		}
	}
	return leaks, nil
}

// processLeak says why pid is the test's, or "".
func (s *Snapshot) processLeak(pid int) string {
	dir := "/proc/" + strconv.Itoa(pid)
	raw, _ := os.ReadFile(dir + "/cmdline")
	cmdline := string(bytes.TrimRight(bytes.ReplaceAll(raw, []byte{0}, []byte{' '}), " "))
	if marked(cmdline, s.opts.Markers) {
		return fmt.Sprintf("%q", cmdline)
	}
	for _, link := range []string{"root", "cwd"} {
		target, err := os.Readlink(dir + "/" + link)
		if err == nil && under(target, s.opts.Roots) {
			return fmt.Sprintf("%q with %s %s", cmdline, link, target)
		}
	}
	return ""
}
