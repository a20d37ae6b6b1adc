package runner

import (
	"context"
	"log/slog"
	"time"
)

// timeStep logs, at debug level, how long the step named took once the
// returned function is called: `defer r.timeStep("netns")()`.
func (r *Runner) timeStep(step string, args ...any) func() {
	if !r.cfg.Log.Enabled(context.Background(), slog.LevelDebug) {
		return func() {}
	}
	start := time.Now()
	return func() {
		r.cfg.Log.Debug("apply step", append([]any{"step", step, "took", time.Since(start)}, args...)...)
	}
}
