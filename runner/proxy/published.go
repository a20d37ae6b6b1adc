package proxy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// InstanceName derives an instance name from a run root: 8 hexadecimal
// digits of the SHA-256 of its absolute, cleaned path. Two run roots get
// two instances; the same run root always the same one.
func InstanceName(runRoot string) string {
	if abs, err := filepath.Abs(runRoot); err == nil {
		runRoot = abs
	}
	sum := sha256.Sum256([]byte(filepath.Clean(runRoot)))
	return hex.EncodeToString(sum[:4])
}

// PublishedPort is a host port some podrun instance publishes a Service on.
type PublishedPort struct {
	Instance string
	Protocol corev1.Protocol
	Port     int32
}

// PublishedPorts lists the host ports every podrun instance on the machine
// publishes (NodePorts and LoadBalancer ports), read from the nat table:
// what a NodePort allocator must avoid, since the instances share the
// host's ports. exec nil runs iptables-save with os/exec.
func PublishedPorts(ctx context.Context, exec Runner) ([]PublishedPort, error) {
	if exec == nil {
		exec = osExec{}
	}
	var all strings.Builder
	for _, table := range []string{"nat", "filter"} {
		out, err := exec.Run(ctx, nil, "iptables-save", "-t", table)
		if err != nil {
			return nil, fmt.Errorf("reading the iptables %s table (is iptables installed? make deps): %w", table, err)
		}
		all.Write(out)
	}
	return publishedPorts(parseSave(all.String())), nil
}

// publishedPorts finds the rules of PODRUN-<instance>-NODEPORTS chains,
// and the rejects of host ports without endpoints in PODRUN-<instance>-FILTER.
func publishedPorts(s saved) []PublishedPort {
	var out []PublishedPort
	var rules []string
	rules = append(rules, s.rules["nat"]...)
	for _, r := range s.rules["filter"] {
		if strings.Contains(r, " host port has no endpoints") {
			rules = append(rules, r)
		}
	}
	for _, r := range rules {
		f := strings.Fields(r)
		if len(f) < 2 || !strings.HasPrefix(f[1], "PODRUN-") {
			continue
		}
		inst, ok := strings.CutSuffix(strings.TrimPrefix(f[1], "PODRUN-"), "-NODEPORTS")
		if !ok {
			inst, ok = strings.CutSuffix(strings.TrimPrefix(f[1], "PODRUN-"), "-FILTER")
		}
		if !ok {
			continue
		}
		var pp PublishedPort
		for i := 0; i+1 < len(f); i++ {
			switch f[i] {
			case "-p":
				pp.Protocol = corev1.Protocol(strings.ToUpper(f[i+1]))
			case "--dport":
				n, err := strconv.ParseInt(f[i+1], 10, 32)
				if err == nil {
					pp.Port = int32(n)
				}
			}
		}
		if pp.Port != 0 {
			pp.Instance = inst
			out = append(out, pp)
		}
	}
	slices.SortFunc(out, func(a, b PublishedPort) int {
		if a.Port != b.Port {
			return int(a.Port - b.Port)
		}
		return strings.Compare(string(a.Protocol)+a.Instance, string(b.Protocol)+b.Instance)
	})
	return slices.Compact(out)
}
