package runner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/host"
	"github.com/podrun/podrun/runner/image"
	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/translate"
)

// Rendered is what Render made of one pod: where its bundles are, and
// the containers apply would leave waiting, with the reason and message
// get would show.
type Rendered struct {
	Source          kube.Source
	Namespace, Name string
	// Dir holds the pod's bundles; "" when the pod waits for a volume
	// source, for which apply creates nothing but the waiting record.
	Dir     string
	Waiting []Waiting
	// Pending, when set, says why the node would not take the pod, for
	// which apply creates nothing but the Pending record:
	// "FILE:LINE: pod NAME would be Pending: Unschedulable: MESSAGE".
	Pending string
	// Warnings are what apply would log as warnings, a located line each.
	Warnings []string
	ports    []translate.Port // the hostPorts its state would record
}

// Render writes, for every pod of set, the OCI bundles apply would
// create (config.json for the infra container and each container, with
// empty rootfs directories), the pod's Kubernetes-managed files and its
// volumes as plain directories, under outDir/<namespace>_<name>/, without
// running, mounting or attaching anything. Its verdict is apply's, by the
// same code (planPod): a pod apply would refuse is an error, with apply's
// message, and the containers apply would leave waiting are listed in
// Rendered.Waiting. The pods see the stored ConfigMaps, Secrets and claims
// and those of set, which replace stored ones of the same name as apply
// would; nothing is stored. A pod the node would not take (apply's
// scheduler step) gets no bundles and says why in Rendered.Pending. The
// pod IP, which CNI assigns at apply, is left empty. Like apply, a
// refused pod does not stop the others. Of a workload, the pod its
// controller would create first is rendered (render_workloads.go).
func (r *Runner) Render(ctx context.Context, set *kube.Set, outDir string) ([]Rendered, error) {
	pods, err := workloadPods(set)
	if err != nil {
		return nil, err
	}
	rr := *r
	rr.unstored = set
	rr.dryRun = true
	if rr.unstoredServices, err = r.previewServices(ctx, set.Services); err != nil {
		return nil, err
	}
	return rr.render(ctx, append(slices.Clone(set.Pods), pods...), outDir)
}

func (r *Runner) render(ctx context.Context, pods []kube.Pod, outDir string) ([]Rendered, error) {
	// The set's Secrets are not stored, so its imagePullSecrets are
	// handed to the pulls here; apply stores them before it pulls.
	images, err := r.resolveImages(ctx, pods, r.unstored.Secrets)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(outDir)
	if err != nil {
		return nil, err
	}
	var out []Rendered
	var errs []error
	for _, p := range pods {
		rp, err := r.renderPod(p, abs, images, out)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, rp)
	}
	return out, errors.Join(errs...)
}

// renderPod is apply's createPod for pod p, with render's host steps.
// The pods rendered before it publish their hostPorts as if applied.
func (r *Runner) renderPod(p kube.Pod, outDir string, images map[string]*image.Image, earlier []Rendered) (Rendered, error) {
	out := Rendered{Source: p.Source, Namespace: p.Pod.Namespace, Name: p.Pod.Name}
	k, err := state.PodKey(p.Pod.Namespace, p.Pod.Name)
	if err != nil {
		return out, fmt.Errorf("%s: %w", p.Source, err)
	}
	if old, err := r.pod(k).dir.Read(); err == nil && old.Monitor.Alive() && !sameSpec(old, p.Pod) {
		return out, podExists(p)
	}
	pod, err := r.newPod(p)
	if err != nil {
		return out, podError(p, err)
	}
	l := translate.Layout{Dir: filepath.Join(outDir, k.File())}
	// What an earlier render of the pod wrote would outlive a verdict
	// that writes less; a refusal writes nothing, as apply rolls back.
	if err := os.RemoveAll(l.Dir); err != nil {
		return out, fmt.Errorf("%s: removing the earlier render of pod %s: %w", p.Source, pod.Name, err)
	}
	sandbox := translate.Sandbox(pod, l)
	if u, err := r.renderPlace(p, pod, sandbox, earlier); err != nil || u != nil {
		if u != nil {
			out.Pending = pendingWarning(p, u, "would be")
			r.rendered = append(r.rendered, pod)
		}
		return out, err
	}
	out.ports = sandbox.Ports
	pp, err := r.planPod(pod, l, images, hostSteps{
		network: func() (string, error) {
			if !sandbox.PodNetwork() {
				return host.IP(), nil
			}
			for _, e := range earlier {
				if err := portClash(sandbox.Ports, e.ports, e.Namespace, e.Name); err != nil {
					return "", portFieldError(pod, err)
				}
			}
			return "", r.checkHostPorts(pod, sandbox.Ports)
		},
		rootfs: func() (map[string]fs.FS, error) {
			users := map[string]fs.FS{}
			for _, c := range allContainers(&pod.Spec) {
				users[c.Name] = layersFS(images[c.Image].Layers)
			}
			return users, nil
		},
	})
	if err != nil {
		return out, errors.Join(podError(p, err), os.RemoveAll(l.Dir))
	}
	out.Waiting = pp.Waiting
	out.Warnings = pp.warnings(p)
	for i := range out.Waiting {
		out.Waiting[i].Source = p.At(out.Waiting[i].Field)
	}
	if pp.Plan != nil {
		out.Dir = l.Dir
	}
	r.rendered = append(r.rendered, pod)
	return out, nil
}

// renderPlace is apply's scheduler step (place) at render: the pods
// placed are those stored and those rendered before, but the Pending.
func (r *Runner) renderPlace(p kube.Pod, pod *corev1.Pod, sandbox translate.SandboxPlan, earlier []Rendered) (*Unschedulable, error) {
	if !scheduled(p) {
		return nil, nil
	}
	others, err := r.placedPods()
	if err != nil {
		return nil, err
	}
	for _, e := range earlier {
		if e.Pending == "" {
			others = append(others, placed{e.Namespace, e.Name, e.ports})
		}
	}
	return unschedulable(Node(), pod, sandbox.Ports, others), nil
}
