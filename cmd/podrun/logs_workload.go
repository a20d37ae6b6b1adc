package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/runner"
	"github.com/podrun/podrun/runner/supervise"
)

// logsPod is the pod logs reads: POD or pod/POD, or for KIND/NAME of a
// workload (job/NAME, deployment/NAME) one of its pods, chosen as kubectl
// chooses, saying so on standard error when it had a choice.
func (g *globals) logsPod(cmd *cobra.Command, arg string) (podRef, error) {
	kind, name, ok := strings.Cut(arg, "/")
	res := findWorkloadResource(kind)
	if !ok || res == nil {
		return g.podArg(arg)
	}
	r, err := g.runner()
	if err != nil {
		return podRef{}, err
	}
	ns := g.ns()
	var all []runner.Workload
	if res.list != nil {
		all, err = res.list(r, ns)
	} else {
		all, err = r.ListWorkloads(res.kind, ns)
	}
	if err != nil {
		return podRef{}, err
	}
	i := slices.IndexFunc(all, func(w runner.Workload) bool { return w.Name == name })
	if i < 0 {
		return podRef{}, fmt.Errorf("%s.%s %q not found", res.plural, res.apiGroup, name)
	}
	uids, err := workloadUIDs(&all[i])
	if err != nil {
		return podRef{}, err
	}
	pods, err := r.List(contextOf(cmd), ns)
	if err != nil {
		return podRef{}, err
	}
	owned := supervise.Owned(pods, uids...)
	if len(owned) == 0 {
		return podRef{}, fmt.Errorf("%s/%s has no pods", res.kind, name)
	}
	slices.SortStableFunc(owned, byLogging)
	if len(owned) > 1 {
		fmt.Fprintf(cmd.ErrOrStderr(), "Found %d pods, using pod/%s\n", len(owned), owned[0].Name)
	}
	return podRef{namespace: owned[0].Namespace, name: owned[0].Name}, nil
}

// workloadUIDs are the uids of a workload and of the objects it owns: a
// pod naming one is its.
func workloadUIDs(w *runner.Workload) ([]string, error) {
	var meta struct {
		Metadata struct{ UID string } `json:"metadata"`
	}
	if err := json.Unmarshal(w.Object, &meta); err != nil {
		return nil, fmt.Errorf("reading %s %s: %w", w.Kind, w.Name, err)
	}
	uids := []string{meta.Metadata.UID}
	for _, o := range w.Owned {
		uids = append(uids, o.UID)
	}
	return uids, nil
}

// byLogging orders pods as kubectl's ByLogging picks the one to read:
// Running (and finished) before Unknown before Pending, ready before
// not, ready longer first, more restarts first, older first.
func byLogging(a, b corev1.Pod) int {
	rank := map[corev1.PodPhase]int{corev1.PodRunning: 0, corev1.PodUnknown: 1, corev1.PodPending: 2}
	if ra, rb := rank[a.Status.Phase], rank[b.Status.Phase]; ra != rb {
		return ra - rb
	}
	ta, readyA := readySince(&a)
	tb, readyB := readySince(&b)
	if readyA != readyB {
		if readyA {
			return -1
		}
		return 1
	}
	if readyA && !ta.Equal(tb) {
		return earlierFirst(ta, tb)
	}
	if ra, rb := maxRestarts(&a), maxRestarts(&b); ra != rb {
		return int(rb - ra)
	}
	return earlierFirst(a.CreationTimestamp.Time, b.CreationTimestamp.Time)
}

// earlierFirst orders times, a zero time last.
func earlierFirst(a, b time.Time) int {
	switch {
	case a.Equal(b):
		return 0
	case a.IsZero():
		return 1
	case b.IsZero():
		return -1
	}
	return a.Compare(b)
}

func readySince(p *corev1.Pod) (time.Time, bool) {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.LastTransitionTime.Time, c.Status == corev1.ConditionTrue
		}
	}
	return time.Time{}, false
}

func maxRestarts(p *corev1.Pod) int32 {
	var n int32
	for _, cs := range p.Status.ContainerStatuses {
		n = max(n, cs.RestartCount)
	}
	return n
}
