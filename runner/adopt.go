package runner

import (
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// adopt gives rec, a running pod that no controller owns, the
// ownerReferences of pod, the same pod as a controller makes it again
// (same name, same spec): the controller adopts it, as a cluster's
// controllers adopt the orphans they would have made (after delete
// --cascade=orphan and a new apply of the workload, say). It reports
// whether it did.
func adopt(rec, pod *corev1.Pod) bool {
	if metav1.GetControllerOfNoCopy(pod) == nil || metav1.GetControllerOfNoCopy(rec) != nil {
		return false
	}
	rec.OwnerReferences = pod.OwnerReferences
	return true
}

// adoptApplied records pod's ownerReferences in applied, the pod as it
// was applied, so that both records name the same owners.
func adoptApplied(applied json.RawMessage, pod *corev1.Pod) (json.RawMessage, error) {
	if len(applied) == 0 {
		return applied, nil
	}
	var p corev1.Pod
	if err := json.Unmarshal(applied, &p); err != nil {
		return nil, err
	}
	p.OwnerReferences = pod.OwnerReferences
	return json.Marshal(&p)
}
