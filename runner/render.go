package runner

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/types"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/host"
	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/translate"
)

// Render writes, for every pod of set, the OCI bundles apply would
// create (config.json for the infra container and each container, with
// empty rootfs directories) and the pod's Kubernetes-managed files, under
// outDir/<namespace>_<name>/, without running, mounting or attaching
// anything. The pods see the stored ConfigMaps and Secrets and those of
// set, which replace stored ones of the same name as apply would; nothing
// is stored. The pod IP, which CNI assigns at apply, is left empty.
func (r *Runner) Render(ctx context.Context, set *kube.Set, outDir string) ([]string, error) {
	rr := *r
	rr.unstored = set
	return rr.render(ctx, set.Pods, outDir)
}

func (r *Runner) render(ctx context.Context, pods []kube.Pod, outDir string) ([]string, error) {
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
	var dirs []string
	for _, p := range pods {
		pod := p.Pod.DeepCopy()
		if err := r.admit(pod); err != nil {
			return dirs, fmt.Errorf("%s: %w", p.Source, err)
		}
		pod.UID = types.UID(newUID())
		k, err := state.PodKey(pod.Namespace, pod.Name)
		if err != nil {
			return dirs, fmt.Errorf("%s: %w", p.Source, err)
		}
		l := translate.Layout{Dir: filepath.Join(abs, k.File())}
		ip := ""
		if !translate.Sandbox(pod, l).PodNetwork() {
			ip = host.IP()
		}
		users := map[string]fs.FS{}
		for _, c := range allContainers(&pod.Spec) {
			users[c.Name] = layersFS(images[c.Image].Layers)
		}
		plan, err := r.plan(pod, l, ip, images, users, nil)
		if err != nil {
			return dirs, fmt.Errorf("%s: pod %s: %w", p.Source, pod.Name, err)
		}
		if err := writePlan(plan); err != nil {
			return dirs, fmt.Errorf("rendering pod %s: %w", pod.Name, err)
		}
		dirs = append(dirs, l.Dir)
	}
	return dirs, nil
}

func writePlan(plan *translate.Plan) error {
	for _, f := range plan.Files {
		if err := os.MkdirAll(filepath.Dir(f.Path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(f.Path, f.Data, f.Mode); err != nil {
			return err
		}
	}
	for _, c := range append([]translate.Container{plan.Infra}, planContainers(plan)...) {
		if err := writeBundle(c); err != nil {
			return err
		}
	}
	return nil
}
