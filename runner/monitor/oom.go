package monitor

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Reasons of a terminated container, as the kubelet reports them.
const (
	ReasonCompleted = "Completed"
	ReasonError     = "Error"
	ReasonOOMKilled = "OOMKilled"
)

// exitReason is the kubelet's reason for a container's exit: OOMKilled
// when the kernel's OOM killer killed a process of the container's
// cgroup (whatever the exit code, as containerd reports it), else
// Completed for exit code 0 and Error otherwise. It must be called
// before the runtime deletes the container, which removes its cgroup.
func exitReason(bundle string, code int) string {
	switch {
	case oomKilled(bundle):
		return ReasonOOMKilled
	case code == 0:
		return ReasonCompleted
	}
	return ReasonError
}

// cgroupRoot is where the cgroup hierarchies are mounted.
var cgroupRoot = "/sys/fs/cgroup"

// oomKilled reports whether the memory cgroup of the container whose
// bundle is given counted an OOM kill: the oom_kill line of cgroup v1's
// memory.oom_control, or of cgroup v2's memory.events.
func oomKilled(bundle string) bool {
	cg := cgroupsPath(bundle)
	if cg == "" {
		return false
	}
	for _, f := range []string{
		filepath.Join(cgroupRoot, "memory", cg, "memory.oom_control"),
		filepath.Join(cgroupRoot, cg, "memory.events"),
	} {
		if n, ok := counter(f, "oom_kill"); ok {
			return n > 0
		}
	}
	return false
}

// cgroupsPath reads linux.cgroupsPath from a bundle's config.json.
func cgroupsPath(bundle string) string {
	data, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return ""
	}
	var spec struct {
		Linux struct {
			CgroupsPath string `json:"cgroupsPath"`
		} `json:"linux"`
	}
	if json.Unmarshal(data, &spec) != nil || strings.Contains(spec.Linux.CgroupsPath, "..") {
		return ""
	}
	return spec.Linux.CgroupsPath
}

// counter reads "key value" from a cgroup file of such lines.
func counter(file, key string) (int64, bool) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, false
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && f[0] == key {
			n, err := strconv.ParseInt(f[1], 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
