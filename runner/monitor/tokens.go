package monitor

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// The kubelet's token manager renews a projected service account token
// once it is older than 80% of its lifetime or than 24 hours; the atomic
// writer then swaps the new one in. The monitor does the same for its pod.

const (
	// legacyTokenExpiration is the ServiceAccount admission plugin's
	// lifetime, which the API server extends to a year.
	legacyTokenExpiration = 3607
	maxTokenAge           = 24 * time.Hour
	defaultTokenLifetime  = time.Hour
)

// tokenRefreshPeriod is how often the pod's tokens are renewed: 80% of
// the shortest lifetime of its serviceAccountToken sources, at most 24 h;
// zero when it has none.
func tokenRefreshPeriod(pod *corev1.Pod) time.Duration {
	var period time.Duration
	for _, v := range pod.Spec.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, s := range v.Projected.Sources {
			t := s.ServiceAccountToken
			if t == nil {
				continue
			}
			every := maxTokenAge
			if t.ExpirationSeconds == nil {
				every = defaultTokenLifetime * 8 / 10
			} else if *t.ExpirationSeconds != legacyTokenExpiration {
				every = min(every, time.Duration(*t.ExpirationSeconds)*time.Second*8/10)
			}
			if period == 0 || every < period {
				period = every
			}
		}
	}
	return period
}

// refreshTokens renews the pod's tokens every period (cfg.TokenRefresh
// if set) until the pod halts. A failed renewal is logged; the volume
// keeps its last token, and the next period tries again.
func (m *monitor) refreshTokens() {
	every := tokenRefreshPeriod(m.pod)
	if every == 0 || m.cfg.RefreshTokens == nil {
		return
	}
	if m.cfg.TokenRefresh > 0 {
		every = m.cfg.TokenRefresh
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-m.halting; cancel() }()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-m.halting:
			return
		case <-tick.C:
		}
		if err := m.cfg.RefreshTokens(ctx); err != nil && ctx.Err() == nil {
			m.cfg.Log.Warn("renewing the service account tokens", "error", err)
		}
	}
}
