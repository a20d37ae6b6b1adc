package kubelet

import "time"

// DefaultBackoff is the kubelet's restart back-off base: 10 s, doubling up
// to five minutes.
const DefaultBackoff = 10 * time.Second

// Backoff is the kubelet's crash-loop back-off for one container. The
// first restart is immediate; each later one waits the base, then twice
// as long each time up to 30 times the base (five minutes for the
// kubelet's 10 s). A container that ran for more than twice the cap (ten
// minutes) since its last exit starts again from the beginning. The zero
// Backoff has the kubelet's base.
type Backoff struct {
	Base    time.Duration // zero for DefaultBackoff
	current time.Duration // zero before the first exit
	last    time.Time     // the exit that last moved the back-off
}

// Max is the longest wait: 30 times the base.
func (b *Backoff) Max() time.Duration { return 30 * b.base() }

func (b *Backoff) base() time.Duration {
	if b.Base <= 0 {
		return DefaultBackoff
	}
	return b.Base
}

// Next returns how long to wait before restarting a container that
// exited at finished, and moves the back-off on.
func (b *Backoff) Next(finished time.Time) time.Duration {
	if b.current == 0 || finished.Sub(b.last) > 2*b.Max() {
		b.current, b.last = b.base(), finished
		return 0
	}
	wait := b.current
	b.current = min(2*b.current, b.Max())
	b.last = finished
	return wait
}
