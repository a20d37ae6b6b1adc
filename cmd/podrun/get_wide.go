package main

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// kubectl's -o wide columns of the workload kinds: the template's
// containers and images, and the selector (StatefulSets print none).
func init() {
	for _, kind := range []string{"deployment", "replicaset", "daemonset", "job"} {
		findWorkloadResource(kind).wide = []workloadColumn{
			{"CONTAINERS", templateContainers("spec", "template")},
			{"IMAGES", templateImages("spec", "template")},
			{"SELECTOR", selectorOf(false, "spec", "selector")},
		}
	}
	findWorkloadResource("statefulset").wide = []workloadColumn{
		{"CONTAINERS", templateContainers("spec", "template")},
		{"IMAGES", templateImages("spec", "template")},
	}
	jobTemplate := []string{"spec", "jobTemplate", "spec", "template"}
	findWorkloadResource("cronjob").wide = []workloadColumn{
		{"CONTAINERS", templateContainers(jobTemplate...)},
		{"IMAGES", templateImages(jobTemplate...)},
		{"SELECTOR", selectorOf(true, "spec", "jobTemplate", "spec", "selector")},
	}
}

// templateContainers is the names of a pod template's containers, joined
// with commas as kubectl prints them.
func templateContainers(template ...string) func(map[string]any) string {
	return func(obj map[string]any) string {
		var names []string
		for _, c := range templateContainerList(obj, template) {
			names = append(names, c.Name)
		}
		return strings.Join(names, ",")
	}
}

func templateImages(template ...string) func(map[string]any) string {
	return func(obj map[string]any) string {
		var images []string
		for _, c := range templateContainerList(obj, template) {
			images = append(images, c.Image)
		}
		return strings.Join(images, ",")
	}
}

func templateContainerList(obj map[string]any, template []string) []corev1.Container {
	spec, ok, _ := unstructured.NestedMap(obj, append(template, "spec")...)
	if !ok {
		return nil
	}
	var ps corev1.PodSpec
	if !decodeMap(spec, &ps) {
		return nil
	}
	return ps.Containers
}

// selectorOf is a label selector as kubectl prints it: "app=web,tier in
// (a,b)"; formatted, as for a CronJob's job template, prints <none> when
// there is none.
func selectorOf(formatted bool, path ...string) func(map[string]any) string {
	return func(obj map[string]any) string {
		m, ok, _ := unstructured.NestedMap(obj, path...)
		var ls *metav1.LabelSelector
		if ok {
			ls = &metav1.LabelSelector{}
			if !decodeMap(m, ls) {
				return "<unknown>"
			}
		}
		if formatted {
			return metav1.FormatLabelSelector(ls)
		}
		sel, err := metav1.LabelSelectorAsSelector(ls)
		if err != nil {
			return "<error>"
		}
		return sel.String()
	}
}
