package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/runner/volume"
)

// The named volumes behind PersistentVolumeClaims: applying and deleting
// claims, which pods use them, and removing their data.

// VolumeInfo is a named volume and the pods that mount it.
type VolumeInfo struct {
	*volume.Named
	Pods []string // namespace/name of each pod whose manifest names the claim
}

// Claims is the store of the named volumes that back PersistentVolumeClaims.
func (r *Runner) Claims() *volume.Store {
	return &volume.Store{Dir: filepath.Join(r.cfg.Root, "volumes")}
}

// Volumes lists the named volumes with the pods using each.
func (r *Runner) Volumes() ([]VolumeInfo, error) {
	named, err := r.Claims().List()
	if err != nil {
		return nil, err
	}
	users, err := r.claimUsers()
	if err != nil {
		return nil, err
	}
	out := make([]VolumeInfo, len(named))
	for i, n := range named {
		out[i] = VolumeInfo{Named: n, Pods: users[n.Namespace+"/"+n.Name]}
	}
	return out, nil
}

// claimUsers maps namespace/claim to the pods whose manifest mounts it.
func (r *Runner) claimUsers() (map[string][]string, error) { return r.claimUsersIf(false) }

// claimUsersIf is claimUsers; with started, a pod waiting for its
// volumes (never started, as an unscheduled pod) does not count.
func (r *Runner) claimUsersIf(started bool) (map[string][]string, error) {
	entries, err := r.pods.List()
	if err != nil {
		return nil, err
	}
	users := map[string][]string{}
	for _, e := range entries {
		if e.Pod == nil || (started && (waitingForVolumes(e.Pod) || e.Pod.Stage == state.StagePending)) {
			continue
		}
		var pod corev1.Pod
		if json.Unmarshal(e.Pod.Manifest, &pod) != nil {
			continue
		}
		for _, v := range pod.Spec.Volumes {
			if c := v.PersistentVolumeClaim; c != nil {
				key := e.Pod.Namespace + "/" + c.ClaimName
				users[key] = append(users[key], e.Pod.Namespace+"/"+e.Pod.Name)
			}
		}
	}
	return users, nil
}

// RemoveVolume deletes the named volume of claim namespace/name and its
// data. A volume a pod uses is refused (ErrInUse): delete the pod first.
func (r *Runner) RemoveVolume(namespace, name string) error {
	if _, err := r.Claims().Claimed(namespace, name); err != nil {
		return err
	}
	users, err := r.claimUsers()
	if err != nil {
		return err
	}
	if pods := users[namespace+"/"+name]; len(pods) > 0 {
		return fmt.Errorf("removing volume %s/%s: %w by pod %s: delete the pod first", namespace, name, volume.ErrInUse, strings.Join(pods, ", "))
	}
	return r.Claims().Remove(namespace, name)
}

// PruneVolumes removes every named volume whose claim was deleted and
// that no pod uses, and returns their names (namespace/name).
func (r *Runner) PruneVolumes() ([]string, error) {
	vols, err := r.Volumes()
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, v := range vols {
		if v.Bound() || len(v.Pods) > 0 {
			continue
		}
		if err := r.Claims().Remove(v.Namespace, v.Name); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, v.Namespace+"/"+v.Name)
	}
	return removed, errors.Join(errs...)
}

// ApplyClaims binds each PersistentVolumeClaim to a named volume (made
// now, or kept from before with its data) and returns, for each, "created"
// or "unchanged" as kubectl words it.
func (r *Runner) ApplyClaims(claims []*corev1.PersistentVolumeClaim) ([]Outcome, error) {
	var out []Outcome
	var errs []error
	for _, c := range claims {
		if n, err := r.Claims().Get(c.Namespace, c.Name); err != nil || !n.Bound() {
			if err := r.admitResources(c); err != nil { // a claim created now
				errs = append(errs, fmt.Errorf("persistentvolumeclaim %s/%s: %w", c.Namespace, c.Name, err))
				continue
			}
		}
		created, err := r.Claims().Bind(c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		action := "configured"
		if created {
			action = "created"
		}
		out = append(out, Outcome{Kind: "persistentvolumeclaim", Namespace: c.Namespace, Name: c.Name, Action: action})
	}
	return out, errors.Join(errs...)
}

// DeleteClaim deletes the claim namespace/name. Its data stays in the
// named volume (`podrun volume rm` or `prune` removes it) unless
// removeData is set, which deletes it too when no pod uses it. A claim a
// pod still uses stays Terminating, as the kubernetes.io/pvc-protection
// finalizer keeps it, until the last such pod is deleted.
func (r *Runner) DeleteClaim(namespace, name string, removeData bool) error {
	if removeData {
		return r.RemoveVolume(namespace, name)
	}
	users, err := r.claimUsersIf(true)
	if err != nil {
		return err
	}
	if len(users[namespace+"/"+name]) > 0 {
		return r.Claims().MarkTerminating(namespace, name, time.Now())
	}
	return r.Claims().Release(namespace, name)
}

// releaseUnusedClaims releases every Terminating claim that no pod uses
// any longer: the pod-protection finalizer's work, done as a pod is
// deleted.
func (r *Runner) releaseUnusedClaims() error {
	vols, err := r.Claims().List()
	if err != nil {
		return err
	}
	users, err := r.claimUsersIf(true)
	if err != nil {
		return err
	}
	var errs []error
	for _, v := range vols {
		if v.Terminating() && len(users[v.Namespace+"/"+v.Name]) == 0 {
			errs = append(errs, r.Claims().Release(v.Namespace, v.Name))
		}
	}
	return errors.Join(errs...)
}
