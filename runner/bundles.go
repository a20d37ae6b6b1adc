package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/podrun/podrun/runner/rootfs"
	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/translate"
)

// A pod's bundles: the pod files, pod mounts and OCI bundles the plan
// names, written before the monitor starts the containers.

// writePod makes everything the plan's containers need before they
// start: pod files and mounts, the containers' volumes, root file
// systems, bundles. It returns, by container, why one cannot be created
// (CreateContainerConfigError): its configuration (translate's
// ConfigError) or its subPaths and mount propagation. Every container's
// bundle is written, as apply writes it, waiting or not. A dry run
// (render) makes the mount points and mounts nothing.
func (r *Runner) writePod(plan *translate.Plan, l translate.Layout) (map[string]string, error) {
	for _, f := range plan.Files {
		if err := os.MkdirAll(filepath.Dir(f.Path), 0o755); err != nil {
			return nil, err
		}
		if err := state.WriteFile(f.Path, f.Data, f.Mode); err != nil {
			return nil, fmt.Errorf("writing %s: %w", f.Path, err)
		}
	}
	for _, m := range plan.Mounts {
		mount := mountPodMount
		if r.dryRun {
			mount = func(m translate.Mount) error { return os.MkdirAll(m.Target, 0o755) }
		}
		if err := mount(m); err != nil {
			return nil, err
		}
	}
	if err := writeBundle(plan.Infra); err != nil {
		return nil, err
	}
	configErrs, err := prepareContainerVolumes(plan, l, r.dryRun)
	if err != nil {
		return nil, err
	}
	for _, c := range planContainers(plan) {
		if err := rootfs.Contain(c.Spec.Root.Path, c.Spec.Mounts); err != nil {
			return nil, fmt.Errorf("container %q of image %s: %w", c.Name, c.Image, err)
		}
		if err := writeBundle(c); err != nil {
			return nil, err
		}
		if c.ConfigError != "" {
			configErrs[c.Name] = c.ConfigError
		}
	}
	return configErrs, nil
}

// recordContainers records the containers of pp in the pod's state for
// the monitor to start, each waiting: in ContainerCreating, or in the
// reason its verdict gives.
func (r *Runner) recordContainers(h podHandle, pp *podPlan) error {
	plan := pp.Plan
	var records []state.Container
	for i, c := range planContainers(plan) {
		records = append(records, state.Container{
			Name:     c.Name,
			Init:     i < len(plan.Init),
			ID:       h.containerID(c.Name),
			Image:    c.Image,
			State:    state.Waiting,
			Reason:   ReasonContainerCreating,
			SubPaths: recordedSubPaths(plan, c.Name),
		})
		for _, w := range pp.Waiting {
			if w.Container == c.Name {
				records[i].Reason, records[i].Message = w.Reason, w.Message
			}
		}
	}
	infra := &state.Container{Name: translate.InfraName, ID: h.containerID(translate.InfraName), State: state.Waiting}
	_, err := h.dir.Update(context.Background(), func(s *state.Pod) error {
		s.Infra = infra
		s.Containers = records
		return nil
	})
	return err
}

// recordedSubPaths are container's valid subPaths, which the monitor
// resolves again before each restart.
func recordedSubPaths(plan *translate.Plan, container string) []state.SubPath {
	var out []state.SubPath
	for _, sp := range plan.SubPaths {
		if sp.Container == container && sp.Error == "" {
			out = append(out, state.SubPath{Volume: sp.Volume, Source: sp.Source, Path: sp.Path, Staging: sp.Staging})
		}
	}
	return out
}

func planContainers(plan *translate.Plan) []translate.Container {
	return append(append([]translate.Container{}, plan.Init...), plan.Containers...)
}

// writeBundle writes a container's config.json beside its rootfs.
func writeBundle(c translate.Container) error {
	bundle := filepath.Dir(c.Spec.Root.Path)
	if err := os.MkdirAll(c.Spec.Root.Path, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(c.Spec, "", "  ")
	if err != nil {
		return err
	}
	if err := state.WriteFile(filepath.Join(bundle, "config.json"), data, 0o600); err != nil {
		return fmt.Errorf("writing the bundle of container %q: %w", c.Name, err)
	}
	return nil
}
