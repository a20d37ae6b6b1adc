package main

import (
	"encoding/json"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// kubectl's columns for Deployments and ReplicaSets.
func init() {
	findWorkloadResource("deployment").columns = []workloadColumn{
		{"READY", func(obj map[string]any) string {
			return countField(obj, "status", "readyReplicas") + "/" + replicasField(obj)
		}},
		{"UP-TO-DATE", func(obj map[string]any) string { return countField(obj, "status", "updatedReplicas") }},
		{"AVAILABLE", func(obj map[string]any) string { return countField(obj, "status", "availableReplicas") }},
	}
	findWorkloadResource("replicaset").columns = []workloadColumn{
		{"DESIRED", replicasField},
		{"CURRENT", func(obj map[string]any) string { return countField(obj, "status", "replicas") }},
		{"READY", func(obj map[string]any) string { return countField(obj, "status", "readyReplicas") }},
	}
}

// countField is a count of obj at path, 0 when absent, as kubectl prints
// a status the API server omits when zero.
func countField(obj map[string]any, path ...string) string {
	v, ok, _ := unstructured.NestedFieldNoCopy(obj, path...)
	if !ok || v == nil {
		return "0"
	}
	return fmt.Sprint(v)
}

// replicasField is spec.replicas, 1 when absent as the API server
// defaults it.
func replicasField(obj map[string]any) string {
	if _, ok, _ := unstructured.NestedFieldNoCopy(obj, "spec", "replicas"); !ok {
		return "1"
	}
	return countField(obj, "spec", "replicas")
}

// apply --wait waits for a Deployment's rollout, as rollout status does,
// and fails once its progress deadline has passed.
func init() {
	workloadDone["deployment"] = func(obj map[string]any) (bool, error) {
		if obj == nil {
			return false, errors.New("the deployment is gone")
		}
		var d appsv1.Deployment
		data, err := json.Marshal(obj)
		if err == nil {
			err = json.Unmarshal(data, &d)
		}
		if err != nil {
			return false, err
		}
		_, done, err := rolloutStatus(&d)
		return done, err
	}
}
