package monitor

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/runner/volume"
	"github.com/podrun/podrun/translate"
)

// defaultHousekeeping is how often the kubelet's eviction manager looks
// at local storage: every 10 s.
const defaultHousekeeping = 10 * time.Second

// evictionGrace is the grace period of a local-storage eviction: the
// kubelet's immediateEvictionGracePeriodSeconds, whatever the pod asks.
const evictionGrace = time.Second

// sizeLimit is a disk-backed emptyDir with a sizeLimit.
type sizeLimit struct {
	name  string
	dir   string
	limit int64
	text  string // the limit as the manifest wrote it
}

// sizeLimits lists the pod's disk-backed emptyDirs that have a
// sizeLimit; a Memory emptyDir's tmpfs enforces its own.
func sizeLimits(pod *corev1.Pod, l translate.Layout) []sizeLimit {
	var out []sizeLimit
	for _, v := range pod.Spec.Volumes {
		ed := v.EmptyDir
		if ed == nil || ed.Medium != corev1.StorageMediumDefault || ed.SizeLimit == nil || ed.SizeLimit.Sign() <= 0 {
			continue
		}
		out = append(out, sizeLimit{name: v.Name, dir: l.VolumeDir(v.Name), limit: ed.SizeLimit.Value(), text: ed.SizeLimit.String()})
	}
	return out
}

// enforceSizeLimits measures each limited emptyDir every housekeeping
// period and evicts the pod, as the kubelet's eviction manager does, once
// one uses more than its sizeLimit.
func (m *monitor) enforceSizeLimits() {
	limits := sizeLimits(m.pod, m.cfg.Layout)
	if len(limits) == 0 {
		return
	}
	every := m.cfg.Housekeeping
	if every <= 0 {
		every = defaultHousekeeping
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-m.halting:
			return
		case <-tick.C:
		}
		if msg := m.exceeded(limits); msg != "" {
			m.evict(msg)
			return
		}
	}
}

// exceeded returns the eviction message for the first volume past its
// limit, or "".
func (m *monitor) exceeded(limits []sizeLimit) string {
	for _, l := range limits {
		used, err := volume.Usage(l.dir, l.limit)
		if err != nil {
			m.cfg.Log.Warn("measuring an emptyDir", "volume", l.name, "error", err)
			continue
		}
		if used > l.limit {
			return fmt.Sprintf("Usage of EmptyDir volume %q exceeds the limit %q.", l.name, l.text)
		}
	}
	return ""
}

// evict fails the pod with reason Evicted and stops its containers with
// the eviction's grace period. The pod stays, Failed, until deleted.
func (m *monitor) evict(msg string) {
	m.update(func(s *state.Pod) {
		s.Phase, s.Reason, s.Message = state.PhaseFailed, "Evicted", msg
		s.AddEvent(time.Now(), "Warning", "Evicted", "", msg)
	})
	m.stopPodGrace(context.Background(), evictionGrace)
}
