package monitor

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// killTree kills the process pid and every process descended from it,
// so that a probe or hook that times out leaves nothing running in its
// container, not even what it started in the background (the kubelet
// leaves those with some runtimes). The tree is stopped first, then
// looked at again until no new process appears, then killed: a process
// that forks between the look and the kill cannot leave a child behind.
// The monitor runs in the host's pid namespace, so the pids are the
// host's, as the runtime writes them to --pid-file.
func killTree(pid int) {
	stopped := map[int]bool{}
	for range 10 { // a bound, in case processes keep appearing
		found := false
		for _, p := range descendants(pid, parents()) {
			if !stopped[p] {
				_ = syscall.Kill(p, syscall.SIGSTOP)
				stopped[p], found = true, true
			}
		}
		if !found {
			break
		}
	}
	for p := range stopped {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
}

// descendants is root and every process below it in the parent map
// (pid -> parent pid), root first, parents before their children.
func descendants(root int, parent map[int]int) []int {
	children := map[int][]int{}
	for p, pp := range parent {
		children[pp] = append(children[pp], p)
	}
	out := []int{root}
	seen := map[int]bool{root: true}
	for i := 0; i < len(out); i++ {
		for _, c := range children[out[i]] {
			if !seen[c] { // a snapshot of /proc taken over time may loop
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// parents maps every process in /proc to its parent.
func parents() map[int]int {
	m := map[int]int{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return m
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone since
		}
		if pp, ok := statParent(string(data)); ok {
			m[pid] = pp
		}
	}
	return m
}

// statParent reads the parent pid from a /proc/<pid>/stat line: the field
// after the state, which follows the command name in parentheses (a name
// that may itself hold spaces and parentheses, so the last ')' ends it).
func statParent(stat string) (int, bool) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 2 {
		return 0, false
	}
	pp, err := strconv.Atoi(f[1])
	return pp, err == nil
}
