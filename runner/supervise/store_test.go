package supervise

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestNewKey(t *testing.T) {
	for _, c := range []struct{ kind, ns, name string }{
		{"Deployment", "default", "web"},
		{"deploy/x", "default", "web"},
		{"", "default", "web"},
		{"deployment", "a_b", "web"},
		{"deployment", "default", ".."},
		{"deployment", "default", "a/b"},
	} {
		if _, err := NewKey(c.kind, c.ns, c.name); err == nil {
			t.Errorf("NewKey(%q, %q, %q) accepted", c.kind, c.ns, c.name)
		}
	}
	k, err := NewKey("deployment", "default", "web")
	if err != nil || k.String() != "deployment/default/web" {
		t.Fatalf("NewKey: %v %v", k, err)
	}
	if got := (Store{Dir: "/s"}).Workload(k).Path; got != "/s/deployment/default_web" {
		t.Errorf("path %q", got)
	}
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	s := Store{Dir: filepath.Join(t.TempDir(), "workloads")}
	if keys, err := s.List(); err != nil || len(keys) != 0 {
		t.Fatalf("empty store: %v %v", keys, err)
	}
	k, _ := NewKey("job", "ns1", "pi")
	d := s.Workload(k)
	if _, err := d.Lock(ctx); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lock before Create: %v", err)
	}
	if _, err := d.Read(); !errors.Is(err, ErrNotFound) {
		t.Errorf("Read before Create: %v", err)
	}
	if err := d.Create(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReadObject(); !errors.Is(err, ErrNotFound) {
		t.Errorf("ReadObject before WriteObject: %v", err)
	}
	if err := d.WriteObject([]byte(`{"kind":"Job"}`)); err != nil {
		t.Fatal(err)
	}
	rec, err := d.Update(ctx, func(r *Record) error { r.Starts++; return nil })
	if err != nil || rec.Starts != 1 {
		t.Fatalf("Update: %+v %v", rec, err)
	}
	os.WriteFile(filepath.Join(s.Dir, "job", "not-a-workload"), nil, 0o600)
	if keys, err := s.List(); err != nil || !slices.Equal(keys, []Key{k}) {
		t.Errorf("List: %v %v", keys, err)
	}
	l, err := d.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Remove(); err != nil {
		t.Fatal(err)
	}
	l.Unlock()
	if _, err := os.Stat(d.Path); !os.IsNotExist(err) {
		t.Errorf("directory left: %v", err)
	}
	if err := d.Remove(); err != nil {
		t.Errorf("removing twice: %v", err)
	}
}

func TestAddEvent(t *testing.T) {
	var r Record
	now := time.Unix(1000, 0)
	r.AddEvent(now, "Normal", "SuccessfulCreate", "Created pod: a")
	r.AddEvent(now.Add(time.Second), "Normal", "SuccessfulCreate", "Created pod: a")
	r.AddEvent(now, "Normal", "SuccessfulCreate", "Created pod: b")
	if len(r.Events) != 2 || r.Events[0].Count != 2 || !r.Events[0].LastTime.Equal(now.Add(time.Second)) {
		t.Errorf("events %+v", r.Events)
	}
	for range MaxEvents + 5 {
		r.AddEvent(now, "Warning", "X", string(rune('a'+len(r.Events)%26))+"!")
	}
	if len(r.Events) != MaxEvents {
		t.Errorf("%d events kept, want %d", len(r.Events), MaxEvents)
	}
}
