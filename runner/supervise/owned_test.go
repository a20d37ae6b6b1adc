package supervise

import (
	"encoding/json"
	"testing"
	"time"
)

type object struct {
	Metadata map[string]any `json:"metadata"`
	Spec     map[string]any `json:"spec,omitempty"`
	Status   map[string]any `json:"status,omitempty"`
}

func decodeObject(t *testing.T, data []byte) object {
	t.Helper()
	var o object
	if err := json.Unmarshal(data, &o); err != nil {
		t.Fatal(err)
	}
	return o
}

// TestStamp: uid and creation time are kept across applies, the
// generation grows with the spec only, the status is not stored.
func TestStamp(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	obj := func(replicas int, labels map[string]any) object {
		return object{Metadata: map[string]any{"name": "web", "labels": labels}, Spec: map[string]any{"replicas": replicas}, Status: map[string]any{"replicas": 9}}
	}
	first, action, err := Stamp(nil, obj(2, nil), now)
	if err != nil || action != "created" {
		t.Fatalf("first: %s %v", action, err)
	}
	o1 := decodeObject(t, first)
	if o1.Metadata["uid"] == "" || o1.Metadata["generation"] != 1.0 || o1.Metadata["creationTimestamp"] != "2026-01-02T03:04:05Z" || o1.Status != nil {
		t.Errorf("first stored %+v", o1)
	}
	for _, c := range []struct {
		obj    object
		action string
		gen    float64
	}{
		{obj(2, nil), "unchanged", 1},
		{obj(2, map[string]any{"a": "b"}), "configured", 1},
		{obj(3, nil), "configured", 2},
	} {
		data, action, err := Stamp(first, c.obj, now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		o := decodeObject(t, data)
		if action != c.action || o.Metadata["generation"] != c.gen || o.Metadata["uid"] != o1.Metadata["uid"] || o.Metadata["creationTimestamp"] != o1.Metadata["creationTimestamp"] {
			t.Errorf("again: %s %+v; want %s, generation %v", action, o.Metadata, c.action, c.gen)
		}
	}
}

func TestOwnedObjects(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	k, _ := NewKey("deployment", "default", "web")
	d := s.Workload(k)
	d.Create()
	d.WriteObject([]byte(`{"metadata":{"uid":"w-1"}}`))
	if _, err := d.PutOwned("replicaset", "web_x", object{}); err == nil {
		t.Error("an owned object named with _ was stored")
	}
	data, err := d.PutOwned("replicaset", "web-abc", object{Metadata: map[string]any{"name": "web-abc"}})
	if err != nil {
		t.Fatal(err)
	}
	uid := decodeObject(t, data).Metadata["uid"].(string)
	again, _ := d.PutOwned("replicaset", "web-abc", object{Metadata: map[string]any{"name": "web-abc"}, Spec: map[string]any{"replicas": 2}, Status: map[string]any{"replicas": 2.0}})
	if o := decodeObject(t, again); o.Metadata["uid"] != uid || o.Status["replicas"] != 2.0 {
		t.Errorf("an owned object's uid changed on update, or its status was not kept: %+v", o)
	}
	owned, err := d.ReadOwned()
	if err != nil || len(owned) != 1 || owned[0].Kind != "replicaset" || owned[0].Name != "web-abc" || owned[0].UID != uid {
		t.Fatalf("ReadOwned: %+v %v", owned, err)
	}
	if uids, err := d.UIDs(); err != nil || len(uids) != 2 || uids[0] != "w-1" || uids[1] != uid {
		t.Errorf("UIDs: %v %v", uids, err)
	}
	if err := d.DeleteOwned("replicaset", "web-abc"); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteOwned("replicaset", "web-abc"); err != nil {
		t.Errorf("deleting twice: %v", err)
	}
	if owned, _ := d.ReadOwned(); len(owned) != 0 {
		t.Errorf("left %+v", owned)
	}
}

// TestOwnedKeepsStatus: an owned object's status is its controller's
// record, kept, unlike an applied object's.
func TestOwnedKeepsStatus(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	k, _ := NewKey("deployment", "default", "web")
	d := s.Workload(k)
	d.Create()
	data, err := d.PutOwned("replicaset", "web-abc", object{Metadata: map[string]any{"name": "web-abc"}, Status: map[string]any{"replicas": 2.0}})
	if err != nil {
		t.Fatal(err)
	}
	if o := decodeObject(t, data); o.Status["replicas"] != 2.0 || o.Metadata["uid"] == nil {
		t.Errorf("stored %+v", o)
	}
}
