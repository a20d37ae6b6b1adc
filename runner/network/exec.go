package network

import (
	"context"
	"encoding/json"
	"slices"
	"sync"

	"github.com/containernetworking/cni/pkg/invoke"
)

// prevExec runs plugins for libcni and fills one gap in it: libcni hands
// DEL a prevResult only from its own cache, which an ADD that failed
// half-way never wrote (and which may be gone while the pod's state still
// holds the result). Plugins such as firewall then cannot find what to
// remove. prevExec records the last result an ADD plugin returned, and
// gives DEL the result carried by its context when libcni gave none.
type prevExec struct {
	invoke.Exec
}

// prevKey carries a *prevResult in a context.
type prevKey struct{}

// prevResult is the result ADD reached, for DEL.
type prevResult struct {
	mu  sync.Mutex
	raw json.RawMessage
}

func (p *prevResult) get() json.RawMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.raw
}

func (p *prevResult) set(raw json.RawMessage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.raw = raw
}

// withPrevResult returns ctx carrying p.
func withPrevResult(ctx context.Context, p *prevResult) context.Context {
	return context.WithValue(ctx, prevKey{}, p)
}

// ExecPlugin runs the plugin, recording ADD results and filling DEL's
// prevResult from ctx.
func (e prevExec) ExecPlugin(ctx context.Context, path string, stdin []byte, environ []string) ([]byte, error) {
	p, _ := ctx.Value(prevKey{}).(*prevResult)
	if p != nil && slices.Contains(environ, "CNI_COMMAND=DEL") {
		stdin = injectPrevResult(stdin, p.get())
	}
	out, err := e.Exec.ExecPlugin(ctx, path, stdin, environ)
	if err == nil && p != nil && slices.Contains(environ, "CNI_COMMAND=ADD") && json.Valid(out) {
		p.set(out)
	}
	return out, err
}

// injectPrevResult adds prev to a plugin's config unless it has one.
func injectPrevResult(conf []byte, prev json.RawMessage) []byte {
	if len(prev) == 0 {
		return conf
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(conf, &m); err != nil {
		return conf
	}
	if _, ok := m["prevResult"]; ok {
		return conf
	}
	m["prevResult"] = prev
	out, err := json.Marshal(m)
	if err != nil {
		return conf
	}
	return out
}
