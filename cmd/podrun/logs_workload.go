package main

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

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
