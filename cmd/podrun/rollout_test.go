package main

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestRolloutStatus: kubectl's messages, in its order.
func TestRolloutStatus(t *testing.T) {
	three := int32(3)
	d := func(gen int64, st appsv1.DeploymentStatus) *appsv1.Deployment {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Generation: gen}, Spec: appsv1.DeploymentSpec{Replicas: &three}, Status: st}
	}
	tests := []struct {
		d       *appsv1.Deployment
		want    string
		done    bool
		wantErr bool
	}{
		{d(2, appsv1.DeploymentStatus{ObservedGeneration: 1}), "Waiting for deployment spec update to be observed...", false, false},
		{d(1, appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 4, UpdatedReplicas: 1}), `Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...`, false, false},
		{d(1, appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 4, UpdatedReplicas: 3}), `Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...`, false, false},
		{d(1, appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 2}), `Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...`, false, false},
		{d(1, appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3}), `deployment "web" successfully rolled out`, true, false},
		{d(1, appsv1.DeploymentStatus{ObservedGeneration: 1, Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Reason: "ProgressDeadlineExceeded"}}}), "", false, true},
	}
	for _, tt := range tests {
		msg, done, err := rolloutStatus(tt.d)
		if msg != tt.want || done != tt.done || (err != nil) != tt.wantErr {
			t.Errorf("rolloutStatus(%+v) = %q, %v, %v; want %q, %v, error %v", tt.d.Status, msg, done, err, tt.want, tt.done, tt.wantErr)
		}
	}
}
