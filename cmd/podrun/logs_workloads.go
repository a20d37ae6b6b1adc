package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	k8slabels "k8s.io/apimachinery/pkg/labels"

	"github.com/podrun/podrun/runner"
	"github.com/podrun/podrun/runner/supervise"
)

// logs of a workload (`logs deployment/web`: one of its pods, as kubectl
// picks it) and of the pods a selector matches (`logs -l app=web`: every
// one, each line prefixed with its pod and container).

// logsWorkloadArg reads logs' argument when it names a workload
// (deployment/web, rs/web-abc): nil when it names a pod.
func (g *globals) logsWorkloadArg(args []string) (*workloadRef, error) {
	if len(args) == 0 {
		return nil, nil
	}
	kind, _, found := strings.Cut(args[0], "/")
	if !found || findWorkloadResource(kind) == nil {
		return nil, nil
	}
	ref, err := g.workloadArg(args[:1])
	return &ref, err
}

// workloadPod is the pod whose log `logs KIND/NAME` prints: of the pods
// the workload owns, directly or through an object it owns, the first by
// kubectl's order for logs (Running before the rest, ready before not,
// older before newer).
func workloadPod(ctx context.Context, r *runner.Runner, wref workloadRef, stderr io.Writer) (podRef, error) {
	w, err := r.GetWorkload(wref.res.kind, wref.namespace, wref.name)
	if err != nil {
		return podRef{}, wref.notFound(err)
	}
	uids, err := workloadUIDs(w)
	if err != nil {
		return podRef{}, err
	}
	all, err := r.List(ctx, wref.namespace)
	if err != nil {
		return podRef{}, err
	}
	pods := supervise.Owned(all, uids...)
	if len(pods) == 0 {
		return podRef{}, fmt.Errorf("%s/%s has no pods", wref.printed(), wref.name)
	}
	slices.SortStableFunc(pods, byLogging)
	if len(pods) > 1 {
		fmt.Fprintf(stderr, "Found %d pods, using pod/%s\n", len(pods), pods[0].Name) // as kubectl says it
	}
	return podRef{pods[0].Namespace, pods[0].Name}, nil
}

// workloadUIDs are the uids a pod of w names in its ownerReferences: the
// workload's and those of the objects it owns.
func workloadUIDs(w *runner.Workload) ([]string, error) {
	var meta struct {
		Metadata struct {
			UID string `json:"uid"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(w.Object, &meta); err != nil {
		return nil, fmt.Errorf("decoding %s %s: %w", w.Kind, w.Name, err)
	}
	uids := []string{meta.Metadata.UID}
	for _, o := range w.Owned {
		uids = append(uids, o.UID)
	}
	return uids, nil
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// selectedLogs prints the logs of every pod of namespace that selector
// matches, each line prefixed with [pod/<pod>/<container>]; with Follow,
// all at once.
func selectedLogs(ctx context.Context, r *runner.Runner, namespace, selector string, opts runner.LogOptions, out io.Writer) error {
	sel, err := k8slabels.Parse(selector)
	if err != nil {
		return fmt.Errorf("invalid selector %q: %w", selector, err)
	}
	all, err := r.List(ctx, namespace)
	if err != nil {
		return err
	}
	var pods []corev1.Pod
	for _, p := range all {
		if sel.Matches(k8slabels.Set(p.Labels)) {
			pods = append(pods, p)
		}
	}
	if len(pods) == 0 {
		return fmt.Errorf("no pods in namespace %s match %q", namespace, selector)
	}
	opts.Prefix = true
	w := &lockedWriter{w: out}
	errs := make([]error, len(pods))
	if !opts.Follow {
		for i, p := range pods {
			errs[i] = r.Logs(ctx, p.Namespace, p.Name, opts, w)
		}
		return errors.Join(errs...)
	}
	var wg sync.WaitGroup
	for i, p := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = r.Logs(ctx, p.Namespace, p.Name, opts, w)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
