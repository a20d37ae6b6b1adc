package monitor

import (
	"context"
	"log/slog"
	"time"
)

// timeStep logs, at debug level, how long the step named took once the
// returned function is called.
func (m *monitor) timeStep(step string, args ...any) func() {
	if m.cfg.Log == nil || !m.cfg.Log.Enabled(context.Background(), slog.LevelDebug) {
		return func() {}
	}
	start := time.Now()
	return func() {
		m.cfg.Log.Debug("monitor step", append([]any{"step", step, "took", time.Since(start)}, args...)...)
	}
}
