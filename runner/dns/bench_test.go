package dns

import (
	"context"
	"testing"

	"github.com/miekg/dns"

	"github.com/podrun/podrun/runner/objects"
)

// BenchmarkAnswerStore is one Service lookup's cost in the handler, the
// store unchanged since the last query (the resolver's steady state).
func BenchmarkAnswerStore(b *testing.B) {
	dir := b.TempDir()
	st := objects.Open(dir)
	for _, name := range []string{"web", "db", "cache", "api"} {
		if _, err := st.Services.Put(svc("default", name, "10.96.0.20")); err != nil {
			b.Fatal(err)
		}
	}
	h := &Handler{Source: NewStore(dir), Domain: "cluster.local"}
	q := new(dns.Msg)
	q.SetQuestion("web.default.svc.cluster.local.", dns.TypeA)
	h.Answer(context.Background(), q, "udp")
	h.Source.(*Store).read = h.Source.(*Store).read.Add(settle)
	for b.Loop() {
		if m := h.Answer(context.Background(), q, "udp"); len(m.Answer) != 1 {
			b.Fatal(m)
		}
	}
}
