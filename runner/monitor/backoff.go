package monitor

import "time"

// DefaultBackoff is the kubelet's restart back-off: 10 s, doubling up to
// five minutes.
const DefaultBackoff = 10 * time.Second

// backoff is the kubelet's crash-loop back-off for one container. The
// first restart is immediate; each later one waits base, then twice as
// long each time up to 30×base (five minutes for the kubelet's 10 s). A
// container that ran for more than 2×max (ten minutes) since its last
// exit starts again from the beginning.
type backoff struct {
	base    time.Duration
	current time.Duration // zero before the first exit
	last    time.Time     // the exit that last moved the back-off
}

func newBackoff(base time.Duration) backoff {
	if base <= 0 {
		base = DefaultBackoff
	}
	return backoff{base: base}
}

func (b *backoff) max() time.Duration { return 30 * b.base }

// next returns how long to wait before restarting a container that
// exited at finished, and moves the back-off on.
func (b *backoff) next(finished time.Time) time.Duration {
	if b.current == 0 || finished.Sub(b.last) > 2*b.max() {
		b.current, b.last = b.base, finished
		return 0
	}
	wait := b.current
	b.current = min(2*b.current, b.max())
	b.last = finished
	return wait
}
