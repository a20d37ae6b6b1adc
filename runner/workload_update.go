package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/supervise"
)

// refusedUpdates checks each workload of set that is already recorded
// against the object recorded, as the API server checks an update
// (kube.ValidateWorkloadUpdate: a changed selector, an immutable field),
// so that a set with one refused is refused before any workload changes.
func (r *Runner) refusedUpdates(set *kube.Set) error {
	var errs kube.ErrorList
	for i := range set.Workloads {
		w := &set.Workloads[i]
		prev, err := r.recordedWorkload(w)
		if err != nil {
			return err
		}
		errs = append(errs, kube.ValidateWorkloadUpdate(prev, w)...)
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// recordedWorkload is the recorded object of w's kind, namespace and
// name, decoded as w's; nil when none is recorded.
func (r *Runner) recordedWorkload(w *kube.Workload) (*kube.Workload, error) {
	m := w.Meta()
	k, err := supervise.NewKey(storeKind(w), m.GetNamespace(), m.GetName())
	if err != nil {
		return nil, nil // apply says why
	}
	data, err := r.Workloads().Workload(k).ReadObject()
	if errors.Is(err, supervise.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	obj := reflect.New(reflect.TypeOf(w.Object).Elem()).Interface().(runtime.Object)
	if err := json.Unmarshal(data, obj); err != nil {
		return nil, fmt.Errorf("decoding workload %s: %w", k, err)
	}
	return &kube.Workload{Source: w.Source, Kind: w.Kind, Object: obj}, nil
}
