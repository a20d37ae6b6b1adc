package main

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8slabels "k8s.io/apimachinery/pkg/labels"
)

// kubectl's columns for StatefulSets and DaemonSets.
func init() {
	findWorkloadResource("statefulset").columns = []workloadColumn{
		{"READY", countOf([]string{"status", "readyReplicas"}, []string{"spec", "replicas"})},
	}
	findWorkloadResource("daemonset").columns = []workloadColumn{
		{"DESIRED", intField("status", "desiredNumberScheduled")},
		{"CURRENT", intField("status", "currentNumberScheduled")},
		{"READY", intField("status", "numberReady")},
		{"UP-TO-DATE", intField("status", "updatedNumberScheduled")},
		{"AVAILABLE", intField("status", "numberAvailable")},
		{"NODE SELECTOR", templateNodeSelector},
	}
}

// intField is an integer field, 0 when absent, as kubectl prints counts.
func intField(path ...string) func(map[string]any) string {
	return func(obj map[string]any) string {
		v, _, _ := unstructured.NestedFieldNoCopy(obj, path...)
		switch n := v.(type) {
		case float64:
			return fmt.Sprint(int64(n))
		case int64:
			return fmt.Sprint(n)
		}
		return "0"
	}
}

// countOf is kubectl's READY: a count of a total, "1/2".
func countOf(part, whole []string) func(map[string]any) string {
	return func(obj map[string]any) string {
		return intField(part...)(obj) + "/" + intField(whole...)(obj)
	}
}

// templateNodeSelector is the template's nodeSelector as kubectl prints
// it, "k=v,k2=v2", or <none>.
func templateNodeSelector(obj map[string]any) string {
	sel, _, _ := unstructured.NestedStringMap(obj, "spec", "template", "spec", "nodeSelector")
	return k8slabels.FormatLabels(sel)
}
