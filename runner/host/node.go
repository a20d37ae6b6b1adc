package host

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/kube/kubelet"
)

// Allocatable is kubelet.NodeAllocatable of this machine: every CPU,
// all its memory and the root file system's size. An error says the
// memory could not be read; the list then holds the rest.
func Allocatable() (corev1.ResourceList, error) {
	var disk int64
	var st unix.Statfs_t
	if unix.Statfs("/", &st) == nil {
		disk = int64(st.Blocks) * st.Bsize
	}
	mem, err := memTotal()
	return kubelet.NodeAllocatable(goruntime.NumCPU(), mem, disk), err
}

// memTotal reads MemTotal, in bytes, from /proc/meminfo.
func memTotal() (int64, error) {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, fmt.Errorf("reading the machine's memory: %w", err)
	}
	return parseMemTotal(data)
}

func parseMemTotal(meminfo []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(meminfo))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("reading MemTotal in /proc/meminfo: %w", err)
			}
			return kb * 1024, nil
		}
	}
	return 0, errors.New("reading /proc/meminfo: no MemTotal")
}
