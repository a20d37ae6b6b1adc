package runner

import (
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestAdopt(t *testing.T) {
	yes := true
	owner := []metav1.OwnerReference{{Kind: "StatefulSet", Name: "web", UID: "new", Controller: &yes}}
	other := []metav1.OwnerReference{{Kind: "StatefulSet", Name: "web", UID: "old", Controller: &yes}}
	notController := []metav1.OwnerReference{{Kind: "ConfigMap", Name: "c", UID: "cm"}}
	for _, tc := range []struct {
		name      string
		rec, pod  []metav1.OwnerReference
		want      bool
		wantOwner string
	}{
		{"orphan adopted", nil, owner, true, "new"},
		{"owned by no controller, adopted", notController, owner, true, "new"},
		{"another controller's pod kept", other, owner, false, "old"},
		{"a pod applied without owner changes nothing", nil, nil, false, ""},
	} {
		rec := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{OwnerReferences: tc.rec}}
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{OwnerReferences: tc.pod}}
		got := adopt(rec, pod)
		ref := metav1.GetControllerOfNoCopy(rec)
		uid := ""
		if ref != nil {
			uid = string(ref.UID)
		}
		if got != tc.want || uid != tc.wantOwner {
			t.Errorf("%s: adopt %v, controller %q", tc.name, got, uid)
		}
	}
	applied, _ := json.Marshal(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-0"}})
	out, err := adoptApplied(applied, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{OwnerReferences: owner}})
	var p corev1.Pod
	if err != nil || json.Unmarshal(out, &p) != nil || p.Name != "web-0" || len(p.OwnerReferences) != 1 {
		t.Errorf("adoptApplied: %s %v", out, err)
	}
}
