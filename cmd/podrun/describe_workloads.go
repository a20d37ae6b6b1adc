package main

import (
	"context"
	"fmt"
	"io"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podrun/podrun/runner"
	"github.com/podrun/podrun/runner/state"
)

// describe of workloads: each kind's file adds its describer, by the
// store's kind, to workloadDescribers.

// workloadDescriber prints workload w as kubectl describe does.
type workloadDescriber func(ctx context.Context, out io.Writer, r *runner.Runner, w *runner.Workload) error

var workloadDescribers = map[string]workloadDescriber{}

// describeWorkload is describe's RunE for KIND NAME when KIND is a
// workload kind; ok is false otherwise.
func (g *globals) describeWorkload(ctx context.Context, out io.Writer, kind, name string) (ok bool, err error) {
	res := findWorkloadResource(kind)
	if res == nil {
		return false, nil
	}
	describe, ok := workloadDescribers[res.kind]
	if !ok {
		return true, fmt.Errorf("podrun does not describe %s yet", res.plural)
	}
	ref, err := g.workloadArg([]string{kind, name})
	if err != nil {
		return true, err
	}
	r, err := g.runner()
	if err != nil {
		return true, err
	}
	w, err := r.GetWorkload(res.kind, ref.namespace, name)
	if err != nil {
		return true, ref.notFound(err)
	}
	return true, describe(ctx, out, r, w)
}

// workloadEvents are a workload's recorded events as describe prints
// them, from component.
func workloadEvents(events []state.Event, component string) []corev1.Event {
	out := make([]corev1.Event, len(events))
	for i, e := range events {
		out[i] = corev1.Event{
			Type: e.Type, Reason: e.Reason, Message: e.Message, Count: int32(e.Count),
			FirstTimestamp: metav1.NewTime(e.FirstTime), LastTimestamp: metav1.NewTime(e.LastTime),
			Source: corev1.EventSource{Component: component},
		}
	}
	return out
}
