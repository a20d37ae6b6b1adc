package dns

import (
	"net/netip"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/runner/objects"
)

// TestStoreSeesNewServices: a Service stored after a query is answered
// by the next one, in a namespace the store had not seen yet too, and an
// endpoint stored later joins a headless Service's answer.
func TestStoreSeesNewServices(t *testing.T) {
	dir := t.TempDir()
	st := objects.Open(dir)
	src := NewStore(dir)
	lookup := func(ns, name string) []netip.Addr {
		t.Helper()
		c, err := src.Cluster()
		if err != nil {
			t.Fatal(err)
		}
		s := c.services[ns+"/"+name]
		if s == nil {
			return nil
		}
		if headless(s) {
			var ips []netip.Addr
			for _, e := range c.endpoints(s) {
				ips = append(ips, e.addr)
			}
			return ips
		}
		return clusterIPs(s)
	}
	if got := lookup("default", "web"); got != nil {
		t.Fatalf("empty store: web = %v", got)
	}
	put := func(s *corev1.Service) {
		t.Helper()
		if _, err := st.Services.Put(s); err != nil {
			t.Fatal(err)
		}
	}
	put(svc("default", "web", "10.96.0.20"))
	if got := lookup("default", "web"); !slices.Equal(got, []netip.Addr{netip.MustParseAddr("10.96.0.20")}) {
		t.Errorf("after storing web: %v, want 10.96.0.20", got)
	}
	// Changed at once, in the same directory.
	put(svc("default", "web", "10.96.0.21"))
	if got := lookup("default", "web"); !slices.Equal(got, []netip.Addr{netip.MustParseAddr("10.96.0.21")}) {
		t.Errorf("after changing web: %v, want 10.96.0.21", got)
	}
	put(svc("prod", "db", corev1.ClusterIPNone))
	if got := lookup("prod", "db"); got != nil {
		t.Errorf("headless db without endpoints: %v", got)
	}
	if _, err := st.EndpointSlices.Put(slice("prod", "db", nil, ep("10.88.0.5", "", true))); err != nil {
		t.Fatal(err)
	}
	if got := lookup("prod", "db"); !slices.Equal(got, []netip.Addr{netip.MustParseAddr("10.88.0.5")}) {
		t.Errorf("after storing db's endpoints: %v, want 10.88.0.5", got)
	}
	if err := st.Services.Delete("default", "web"); err != nil {
		t.Fatal(err)
	}
	if got := lookup("default", "web"); got != nil {
		t.Errorf("after deleting web: %v", got)
	}
}

// TestStoreCaches: with nothing changed, a query reuses the last reading.
func TestStoreCaches(t *testing.T) {
	dir := t.TempDir()
	if _, err := objects.Open(dir).Services.Put(svc("default", "web", "10.96.0.20")); err != nil {
		t.Fatal(err)
	}
	src := NewStore(dir)
	first, err := src.Cluster()
	if err != nil {
		t.Fatal(err)
	}
	src.read = src.read.Add(settle) // as if the reading were older than the change by more than settle
	second, err := src.Cluster()
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Errorf("an unchanged store was read again")
	}
}

func TestUpstreams(t *testing.T) {
	conf := []byte("# comment\nnameserver 127.0.53.1\nnameserver 10.96.0.10\nnameserver fe80::1%eth0\nnameserver bogus\nsearch example.test\n")
	got := Upstreams(conf, netip.MustParseAddr("10.96.0.10"))
	want := []string{"127.0.53.1:53", "[fe80::1%eth0]:53"}
	if !slices.Equal(got, want) {
		t.Errorf("Upstreams = %q, want %q", got, want)
	}
}
