package monitor

import (
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestDescendants(t *testing.T) {
	tests := []struct {
		name   string
		root   int
		parent map[int]int
		want   []int
	}{
		{"alone", 10, map[int]int{10: 1, 11: 1}, []int{10}},
		{"children and grandchildren", 10, map[int]int{10: 1, 11: 10, 12: 10, 13: 11, 14: 1}, []int{10, 11, 12, 13}},
		{"a loop from pid reuse ends", 10, map[int]int{10: 11, 11: 10}, []int{10, 11}},
		{"gone from /proc", 10, map[int]int{11: 10}, []int{10, 11}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := descendants(tt.root, tt.parent)
			if got[0] != tt.root {
				t.Errorf("descendants = %v, want root %d first", got, tt.root)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("descendants = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStatParent(t *testing.T) {
	tests := []struct {
		stat string
		want int
		ok   bool
	}{
		{"1234 (sleep) S 1200 1234 1200 0 -1", 1200, true},
		{"1234 (a) b) (c) R 7 1234", 7, true},
		{"1234 (sleep", 0, false},
		{"1234 (sleep) S", 0, false},
		{"1234 (sleep) S x", 0, false},
	}
	for _, tt := range tests {
		if got, ok := statParent(tt.stat); got != tt.want || ok != tt.ok {
			t.Errorf("statParent(%q) = %d, %v; want %d, %v", tt.stat, got, ok, tt.want, tt.ok)
		}
	}
}

// TestKillTree: a shell that started a child in the background is killed
// with the child, which would otherwise outlive it.
func TestKillTree(t *testing.T) {
	cmd := exec.Command("sh", "-c", "sleep 300 & sleep 300")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	var tree []int
	deadline := time.Now().Add(5 * time.Second)
	for len(tree) < 2 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the shell started no background sleep: %v", tree)
		}
		time.Sleep(20 * time.Millisecond)
		tree = descendants(cmd.Process.Pid, parents())
	}
	killTree(cmd.Process.Pid)
	<-done
	deadline = time.Now().Add(5 * time.Second)
	for _, p := range tree { // the background sleep is reparented to init, which reaps it
		for alive(p) {
			if time.Now().After(deadline) {
				t.Fatalf("process %d (%s) outlived killTree", p, comm(p))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func comm(pid int) string {
	data, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	return strings.TrimSpace(string(data))
}

// alive reports whether pid exists and is no zombie.
func alive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || !strings.HasPrefix(s[i+1:], " Z")
}
