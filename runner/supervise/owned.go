package supervise

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/podrun/podrun/runner/state"
)

// OwnedObject is an object a workload owns besides its pods, kept in its
// directory (owned/<kind>_<name>.json): a Deployment's ReplicaSets, say,
// which its supervisor runs too. Pods that name an owned object's uid in
// an ownerReference belong to the workload as if they named its own.
type OwnedObject struct {
	Kind, Name string
	UID        string
	Object     json.RawMessage
}

// ReadOwned lists the objects the workload owns, by kind and name. No
// lock is needed.
func (d *Dir) ReadOwned() ([]OwnedObject, error) {
	entries, err := os.ReadDir(filepath.Join(d.Path, ownedDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading what %s owns: %w", d.Key, err)
	}
	var out []OwnedObject
	for _, e := range entries {
		base, ok := strings.CutSuffix(e.Name(), ".json")
		kind, name, ok2 := strings.Cut(base, "_")
		if !ok || !ok2 || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(d.Path, ownedDir, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("reading what %s owns: %w", d.Key, err)
		}
		uid, err := objectUID(data)
		if err != nil {
			return nil, fmt.Errorf("reading %s %s of %s: %w", kind, name, d.Key, err)
		}
		out = append(out, OwnedObject{Kind: kind, Name: name, UID: uid, Object: data})
	}
	return out, nil
}

// ownedPath checks an owned object's kind and name and returns its file.
func (d *Dir) ownedPath(kind, name string) (string, error) {
	if _, err := NewKey(kind, d.Namespace(), name); err != nil {
		return "", err
	}
	return filepath.Join(d.Path, ownedDir, kind+"_"+name+".json"), nil
}

// PutOwned stores obj as the owned object kind/name, stamped as the API
// server stamps what it stores (Stamp), and returns what it wrote. Unlike
// an applied object, an owned one keeps its status: its controller is the
// workload's, which records it there. The caller holds the lock.
func (d *Dir) PutOwned(kind, name string, obj any) ([]byte, error) {
	path, err := d.ownedPath(kind, name)
	if err != nil {
		return nil, err
	}
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	data, _, err := Stamp(old, obj, time.Now())
	if err == nil {
		data, err = keepStatus(data, obj)
	}
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := state.WriteFile(path, data, 0o600); err != nil {
		return nil, fmt.Errorf("storing %s %s of %s: %w", kind, name, d.Key, err)
	}
	return data, nil
}

// keepStatus puts obj's status back into data, which Stamp stripped of
// it: an owned object is written by its controller, which owns its
// status (a CronJob's Job records its conditions there).
func keepStatus(data []byte, obj any) ([]byte, error) {
	m, err := toMap(obj)
	if err != nil {
		return nil, err
	}
	status, ok := m["status"]
	if !ok || status == nil {
		return data, nil
	}
	var stamped map[string]any
	if err := json.Unmarshal(data, &stamped); err != nil {
		return nil, err
	}
	stamped["status"] = status
	out, err := json.MarshalIndent(stamped, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// DeleteOwned removes the owned object kind/name; a missing one is no
// error. The caller holds the lock.
func (d *Dir) DeleteOwned(kind, name string) error {
	path, err := d.ownedPath(kind, name)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("deleting %s %s of %s: %w", kind, name, d.Key, err)
	}
	return nil
}

// UIDs are the uid of the workload's object and of every object it owns:
// a pod that names one of them in an ownerReference is the workload's.
func (d *Dir) UIDs() ([]string, error) {
	data, err := d.ReadObject()
	if err != nil {
		return nil, err
	}
	uid, err := objectUID(data)
	if err != nil {
		return nil, err
	}
	owned, err := d.ReadOwned()
	if err != nil {
		return nil, err
	}
	uids := []string{uid}
	for _, o := range owned {
		uids = append(uids, o.UID)
	}
	return uids, nil
}

func objectUID(data []byte) (string, error) {
	var obj struct {
		Metadata struct {
			UID string `json:"uid"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(data, &obj); err != nil {
		return "", err
	}
	return obj.Metadata.UID, nil
}

// Stamp is obj as the API server would store it, given the stored old
// (nil for none): without status, keeping old's uid, creation time and
// generation; a new uid, creation time now and generation 1 for a new
// object; generation grown by one when the spec changed. action is
// "created", "configured" (anything changed) or "unchanged", as kubectl
// apply says.
func Stamp(old []byte, obj any, now time.Time) (data []byte, action string, err error) {
	fresh, err := toMap(obj)
	if err != nil {
		return nil, "", err
	}
	delete(fresh, "status")
	meta, _ := fresh["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		fresh["metadata"] = meta
	}
	action = "created"
	var prev map[string]any
	if old != nil && json.Unmarshal(old, &prev) == nil {
		pmeta, _ := prev["metadata"].(map[string]any)
		for _, f := range []string{"uid", "creationTimestamp", "generation"} {
			if v, ok := pmeta[f]; ok {
				meta[f] = v
			}
		}
		action = "unchanged"
		if !reflect.DeepEqual(prev["spec"], fresh["spec"]) {
			gen, _ := meta["generation"].(float64)
			meta["generation"] = gen + 1
			action = "configured"
		} else if !reflect.DeepEqual(prev, fresh) {
			action = "configured"
		}
	}
	if uid, _ := meta["uid"].(string); uid == "" {
		meta["uid"] = NewUID()
		meta["creationTimestamp"] = now.UTC().Format(time.RFC3339)
		meta["generation"] = 1
	}
	data, err = json.MarshalIndent(fresh, "", "  ")
	if err != nil {
		return nil, "", err
	}
	return append(data, '\n'), action, nil
}

// toMap is obj as generic JSON.
func toMap(obj any) (map[string]any, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encoding the object: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("encoding the object: %w", err)
	}
	return m, nil
}

// NewUID is a random (version 4) UUID, as the API server gives objects.
func NewUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// putOwned is Env.PutOwned: under the workload's lock, while this
// process is its supervisor.
func (s *supervisor) putOwned(ctx context.Context, kind, name string, obj any) ([]byte, error) {
	var data []byte
	_, err := s.cfg.Dir.Update(ctx, func(rec *Record) error {
		if err := s.mine(rec); err != nil {
			return err
		}
		var err error
		data, err = s.cfg.Dir.PutOwned(kind, name, obj)
		return err
	})
	return data, err
}

func (s *supervisor) deleteOwned(ctx context.Context, kind, name string) error {
	_, err := s.cfg.Dir.Update(ctx, func(rec *Record) error {
		if err := s.mine(rec); err != nil {
			return err
		}
		return s.cfg.Dir.DeleteOwned(kind, name)
	})
	return err
}
