package monitor

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/kube/kubelet"
)

// threshold turns probe outcomes into a result as the kubelet does: the
// result changes after successThreshold successes in a row, or
// failureThreshold failures in a row.
type threshold struct {
	success, failure int32
	result           bool
	run              int32 // outcomes in a row that disagree with result
}

func newThreshold(p *corev1.Probe, initial bool) *threshold {
	return &threshold{success: max(p.SuccessThreshold, 1), failure: max(p.FailureThreshold, 1), result: initial}
}

// observe records one outcome and reports whether the result changed.
func (t *threshold) observe(ok bool) bool {
	if ok == t.result {
		t.run = 0
		return false
	}
	t.run++
	need := t.failure
	if ok {
		need = t.success
	}
	if t.run < need {
		return false
	}
	t.result, t.run = ok, 0
	return true
}

// probeKind names a probe as events and messages do.
type probeKind string

const (
	startupProbe   probeKind = "Startup"
	livenessProbe  probeKind = "Liveness"
	readinessProbe probeKind = "Readiness"
)

// probe runs p against run r every periodSeconds after
// initialDelaySeconds, each attempt bounded by timeoutSeconds, until ctx
// ends or onChange returns true (done). Each failure is an Unhealthy
// event; onChange hears every change of the thresholded result.
func (c *ctr) probe(ctx context.Context, r *run, kind probeKind, p *corev1.Probe, initial bool, onChange func(bool) bool) {
	th := newThreshold(p, initial)
	delay := time.Until(r.startedAt.Add(time.Duration(p.InitialDelaySeconds) * time.Second))
	period := time.Duration(max(p.PeriodSeconds, 1)) * time.Second
	timeout := time.Duration(max(p.TimeoutSeconds, 1)) * time.Second
	timer := time.NewTimer(max(delay, 0))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		pctx, cancel := context.WithTimeout(ctx, timeout)
		out, err := c.m.do(pctx, c, probeAction(p))
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			c.m.event("Warning", "Unhealthy", c.object(), fmt.Sprintf("%s probe failed: %s", kind, probeMessage(out, err)))
		}
		if th.observe(err == nil) && onChange(th.result) {
			return
		}
		timer.Reset(period)
	}
}

func probeMessage(out string, err error) string {
	msg := err.Error()
	if out = strings.TrimSpace(out); out != "" && !strings.Contains(msg, out) {
		msg += ": " + out
	}
	return msg
}

// runProbes probes run r as the kubelet does: the startup probe first,
// then liveness and readiness side by side. Without a readiness probe a
// started container is ready. It returns when ctx ends (the caller
// cancels it when the run exits).
func (c *ctr) runProbes(ctx context.Context, r *run) {
	if p := c.spec.StartupProbe; p != nil {
		started := false
		c.probe(ctx, r, startupProbe, p, false, func(ok bool) bool {
			if !ok {
				c.m.event("Normal", "Killing", c.object(), fmt.Sprintf("Container %s failed startup probe, will be restarted", c.name))
				go c.kill(context.WithoutCancel(ctx), r, c.probeGrace(p), "")
				return true
			}
			started = true
			return true
		})
		if !started {
			return
		}
	}
	c.setStarted(r)
	if p := c.spec.LivenessProbe; p != nil {
		go c.probe(ctx, r, livenessProbe, p, true, func(ok bool) bool {
			if ok {
				return false
			}
			c.m.event("Normal", "Killing", c.object(), fmt.Sprintf("Container %s failed liveness probe, will be restarted", c.name))
			go c.kill(context.WithoutCancel(ctx), r, c.probeGrace(p), "")
			return true
		})
	}
	if p := c.spec.ReadinessProbe; p != nil {
		c.probe(ctx, r, readinessProbe, p, false, func(ok bool) bool {
			c.setReady(r, ok)
			return false
		})
		return
	}
	c.setReady(r, true)
	<-ctx.Done() // the liveness probe runs until the run ends
}

// probeGrace is the grace period of a container killed by a failed probe.
func (c *ctr) probeGrace(p *corev1.Probe) time.Duration {
	return kubelet.ProbeGracePeriod(&c.m.pod.Spec, p)
}
