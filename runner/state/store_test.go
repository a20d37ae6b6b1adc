package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func samplePod() *Pod {
	created := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	return &Pod{
		UID: "8d3c", Namespace: "default", Name: "web",
		Manifest: json.RawMessage(`{"apiVersion":"v1","kind":"Pod"}`),
		Source:   "web.yaml", Created: created, Phase: PhaseRunning,
		NetNS: "/run/podrun/netns/default_web", Network: "podrun",
		CNIResult: json.RawMessage(`{"cniVersion":"1.0.0"}`),
		PodIP:     "10.88.0.2", HostIP: "127.0.0.1",
		Stage:   StageRunning,
		Ports:   []Port{{ContainerPort: 80, HostPort: 8080, Protocol: "tcp"}},
		Pin:     []Namespace{{Type: "ipc", Path: "/run/podrun/pods/default_web/ns/ipc"}},
		Monitor: Process{Pid: 100, StartTime: 5},
		Infra:   &Container{Name: "POD", ID: "default_web_infra", State: Running},
		Containers: []Container{
			{Name: "setup", Init: true, Image: "busybox", ID: "c0", State: Terminated, Reason: "Completed",
				StartedAt: created, FinishedAt: created.Add(time.Second), LogPath: "/logs/setup/0.log"},
			{Name: "app", Image: "nginx", ID: "c1", State: Running, RestartCount: 2, Ready: true,
				StartedAt: created, Pid: Process{Pid: 200, StartTime: 9}, LogPath: "/logs/app/2.log"},
		},
	}
}

// compactJSON compares raw JSON regardless of indentation: the record is
// written indented, and raw messages with it.
var compactJSON = cmp.Transformer("compact", func(m json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, m); err != nil {
		return "invalid: " + string(m)
	}
	return b.String()
})

func TestPodRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := Store{Dir: t.TempDir()}
	tests := []*Pod{
		samplePod(),
		{Namespace: "kube-system", Name: "a.b-c", Phase: PhasePending}, // the least a record holds
	}
	for _, want := range tests {
		d := s.Pod(key(t, want.Namespace, want.Name))
		if err := d.Create(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err := d.Read()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got, compactJSON); diff != "" {
			t.Errorf("round trip of %s (-want +got):\n%s", d, diff)
		}
		if got.Version != Version {
			t.Errorf("version = %d, want %d", got.Version, Version)
		}
		if err := d.Create(ctx, want); !errors.Is(err, ErrExists) {
			t.Errorf("second Create = %v, want ErrExists", err)
		}
	}
	if _, err := os.Stat(filepath.Join(s.Dir, "default_web", "state.json")); err != nil {
		t.Errorf("state file not where documented: %v", err)
	}
}

func TestPodDirChecks(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	for _, nn := range [][2]string{{"", "a"}, {"a", ""}, {"a_b", "c"}, {"a", "b/c"}, {"..", "a"}} {
		if k, err := PodKey(nn[0], nn[1]); err == nil {
			t.Errorf("PodKey(%q, %q) = %v, want an error", nn[0], nn[1], k)
		}
	}
	d := s.Pod(key(t, "default", "web"))
	if err := d.Write(&Pod{Namespace: "default", Name: "other"}); err == nil {
		t.Errorf("writing another pod's record into %s succeeded", d)
	}
	if _, err := d.Read(); !errors.Is(err, ErrNoState) {
		t.Errorf("Read of a missing pod = %v, want ErrNoState", err)
	}
	os.MkdirAll(d.Dir, 0o700)
	os.WriteFile(filepath.Join(d.Dir, "state.json"), []byte(`{"version":99}`), 0o600)
	if _, err := d.Read(); err == nil {
		t.Errorf("Read of a record from a newer podrun succeeded")
	}
}

func TestUpdateContention(t *testing.T) {
	ctx := context.Background()
	s := Store{Dir: t.TempDir()}
	if err := s.Pod(key(t, "default", "web")).Create(ctx, samplePod()); err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 10
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := s.Pod(key(t, "default", "web")) // its own fds, as another process would
			for range each {
				_, err := d.Update(ctx, func(p *Pod) error {
					p.Container("app").RestartCount++
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	p, err := s.Pod(key(t, "default", "web")).Read()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Container("app").RestartCount, 2+writers*each; got != want {
		t.Errorf("RestartCount = %d, want %d: updates were lost", got, want)
	}
}

func TestUpdate(t *testing.T) {
	ctx := context.Background()
	s := Store{Dir: t.TempDir()}
	d := s.Pod(key(t, "default", "web"))
	called := false
	_, err := d.Update(ctx, func(*Pod) error { called = true; return nil })
	if !errors.Is(err, ErrNoState) || called {
		t.Errorf("Update of a missing pod = %v, fn called %v; want ErrNoState, not called", err, called)
	}
	if _, err := os.Stat(d.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Update of a missing pod left its directory: %v", err)
	}

	d.Create(ctx, samplePod())
	boom := errors.New("boom")
	if _, err := d.Update(ctx, func(p *Pod) error { p.Phase = PhaseFailed; return boom }); !errors.Is(err, boom) {
		t.Errorf("Update = %v, want boom", err)
	}
	if p, _ := d.Read(); p.Phase != PhaseRunning {
		t.Errorf("a failed Update wrote phase %q", p.Phase)
	}
	p, err := d.Update(ctx, func(p *Pod) error { p.Phase = PhaseSucceeded; return nil })
	if err != nil || p.Phase != PhaseSucceeded {
		t.Errorf("Update = %+v, %v", p, err)
	}
}

func TestRemove(t *testing.T) {
	ctx := context.Background()
	s := Store{Dir: t.TempDir()}
	d := s.Pod(key(t, "default", "web"))
	d.Create(ctx, samplePod())
	l, err := d.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Someone waits to update the pod while we remove it.
	done := make(chan error, 1)
	go func() {
		_, err := s.Pod(key(t, "default", "web")).Update(ctx, func(*Pod) error { return nil })
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := d.Remove(); err != nil {
		t.Fatal(err)
	}
	l.Unlock()
	if err := <-done; !errors.Is(err, ErrNoState) {
		t.Errorf("Update of a pod removed meanwhile = %v, want ErrNoState", err)
	}
	if err := d.Remove(); err != nil {
		t.Errorf("removing a removed pod: %v", err)
	}
	if entries, _ := s.List(); len(entries) != 0 {
		t.Errorf("List after Remove = %+v", entries)
	}
}

func TestList(t *testing.T) {
	ctx := context.Background()
	s := Store{Dir: filepath.Join(t.TempDir(), "pods")}
	if entries, err := s.List(); err != nil || entries != nil {
		t.Errorf("List of a missing store = %v, %v; want empty", entries, err)
	}
	s.Pod(key(t, "default", "web")).Create(ctx, samplePod())
	s.Pod(key(t, "ns1", "half")).Lock(ctx) // created, never written: a killed apply
	os.WriteFile(filepath.Join(s.Dir, "ns1_half", ".state.json.tmp-123"), []byte("{"), 0o600)
	os.MkdirAll(filepath.Join(s.Dir, "ns2_bad"), 0o700)
	os.WriteFile(filepath.Join(s.Dir, "ns2_bad", "state.json"), []byte("{not json"), 0o600)
	os.WriteFile(filepath.Join(s.Dir, "stray_file"), nil, 0o600)
	os.MkdirAll(filepath.Join(s.Dir, "nounderscore"), 0o700)

	entries, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Namespace, Name string
		Phase           string
		NoState, Err    bool
	}
	var got []row
	for _, e := range entries {
		r := row{Namespace: e.Namespace(), Name: e.Name(), NoState: errors.Is(e.Err, ErrNoState), Err: e.Err != nil}
		if e.Pod != nil {
			r.Phase = e.Pod.Phase
		}
		got = append(got, r)
	}
	want := []row{
		{"default", "web", PhaseRunning, false, false},
		{"ns1", "half", "", true, true},
		{"ns2", "bad", "", false, true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
}
