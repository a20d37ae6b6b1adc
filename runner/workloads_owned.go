package runner

import (
	"errors"
	"sort"

	"github.com/podrun/podrun/runner/supervise"
)

// The objects a workload owns besides pods (a Deployment's ReplicaSets)
// are listed and got as workloads of their kind, as kubectl shows a
// Deployment's ReplicaSets beside the standalone ones. Their record is
// their owner's: they have no supervisor of their own.

// ownedWorkloads are the objects of kind owned by the workloads of keys
// in namespace ("" for every namespace).
func (r *Runner) ownedWorkloads(keys []supervise.Key, kind, namespace string) []Workload {
	var out []Workload
	for _, k := range keys {
		if k.Kind == kind || (namespace != "" && k.Namespace() != namespace) {
			continue
		}
		owner, err := r.workload(k)
		if err != nil {
			continue
		}
		for _, o := range owner.Owned {
			if o.Kind == kind {
				out = append(out, ownedWorkload(owner, o))
			}
		}
	}
	return out
}

func ownedWorkload(owner *Workload, o supervise.OwnedObject) Workload {
	return Workload{
		Kind: o.Kind, Namespace: owner.Namespace, Name: o.Name,
		Object:     o.Object,
		Supervised: owner.Supervised,
		Deleting:   owner.Deleting,
	}
}

// ownedWorkload finds kind namespace/name among the objects that
// workloads own; ErrWorkloadNotFound when none does.
func (r *Runner) findOwned(kind, namespace, name string) (*Workload, error) {
	keys, err := r.Workloads().List()
	if err != nil {
		return nil, err
	}
	for _, w := range r.ownedWorkloads(keys, kind, namespace) {
		if w.Name == name {
			return &w, nil
		}
	}
	return nil, ErrWorkloadNotFound
}

// withOwned adds to list, the workloads of kind, the objects of kind that
// other workloads own, sorted by namespace and name.
func (r *Runner) withOwned(list []Workload, keys []supervise.Key, kind, namespace string) []Workload {
	list = append(list, r.ownedWorkloads(keys, kind, namespace)...)
	sort.SliceStable(list, func(i, j int) bool {
		if list[i].Namespace != list[j].Namespace {
			return list[i].Namespace < list[j].Namespace
		}
		return list[i].Name < list[j].Name
	})
	return list
}

// getOrOwned is GetWorkload, falling back to the owned objects.
func (r *Runner) getOrOwned(k supervise.Key) (*Workload, error) {
	w, err := r.workload(k)
	if errors.Is(err, ErrWorkloadNotFound) {
		return r.findOwned(k.Kind, k.Namespace(), k.Name())
	}
	return w, err
}
