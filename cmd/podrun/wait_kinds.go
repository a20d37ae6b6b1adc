package main

import (
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// apply --wait's checks of the workload kinds besides Deployments
// (get_deploy.go): a Job until it completes (failing when it fails), a
// ReplicaSet, StatefulSet or DaemonSet until every replica is updated
// and ready for the generation applied. A CronJob is not waited for: it
// has nothing to finish.
func init() {
	workloadDone["job"] = typedCheck(func(j *batchv1.Job) (bool, error) {
		for _, c := range j.Status.Conditions {
			if c.Status != corev1.ConditionTrue {
				continue
			}
			switch c.Type {
			case batchv1.JobComplete:
				return true, nil
			case batchv1.JobFailed:
				return false, fmt.Errorf("job %s failed: %s: %s", j.Name, c.Reason, c.Message)
			}
		}
		return false, nil
	})
	workloadDone["replicaset"] = typedCheck(func(rs *appsv1.ReplicaSet) (bool, error) {
		return rs.Status.ObservedGeneration >= rs.Generation &&
			rs.Status.ReadyReplicas == replicasOf(rs.Spec.Replicas) && rs.Status.Replicas == replicasOf(rs.Spec.Replicas), nil
	})
	workloadDone["statefulset"] = typedCheck(func(s *appsv1.StatefulSet) (bool, error) {
		want := replicasOf(s.Spec.Replicas)
		return s.Status.ObservedGeneration >= s.Generation && s.Status.ReadyReplicas == want &&
			s.Status.UpdatedReplicas == want && s.Status.Replicas == want, nil
	})
	workloadDone["daemonset"] = typedCheck(func(d *appsv1.DaemonSet) (bool, error) {
		st := d.Status
		return st.ObservedGeneration >= d.Generation && st.NumberReady == st.DesiredNumberScheduled &&
			st.UpdatedNumberScheduled == st.DesiredNumberScheduled, nil
	})
}

// typedCheck is check of a workload's object decoded as T.
func typedCheck[T any](check func(*T) (bool, error)) workloadCheck {
	return func(obj map[string]any) (bool, error) {
		if obj == nil {
			return false, errors.New("the workload is gone")
		}
		var v T
		if !decodeMap(obj, &v) {
			return false, fmt.Errorf("reading the workload as a %T", v)
		}
		return check(&v)
	}
}

func replicasOf(n *int32) int32 {
	if n == nil {
		return 1
	}
	return *n
}
