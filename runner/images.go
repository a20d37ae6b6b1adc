package runner

import (
	"context"
	"errors"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/kube/kubelet"
	"github.com/podrun/podrun/runner/image"
	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/translate"
)

// resolveImages gets every image the pods name, before anything is
// created, as the kubelet does for each container's imagePullPolicy:
// Never takes the stored image or fails; IfNotPresent pulls only when the
// store lacks it (so neither touches the network for a loaded image);
// Always asks the registry every time. Config.PullPolicy, when set,
// replaces every container's policy. Images are fetched side by side;
// an image two containers name is fetched once, under the stronger
// policy. Every failure is reported, each naming its container.
func (r *Runner) resolveImages(ctx context.Context, pods []kube.Pod, secrets []kube.Secret) (map[string]*image.Image, error) {
	type want struct {
		pod kube.Pod
		c   corev1.Container
	}
	wants := map[string]want{}
	var order []string
	for _, p := range pods {
		for _, c := range allContainers(&p.Pod.Spec) {
			w, seen := wants[c.Image]
			if !seen {
				order = append(order, c.Image)
			}
			if !seen || r.policyRank(c) > r.policyRank(w.c) {
				wants[c.Image] = want{p, c}
			}
		}
	}
	imgs := make([]*image.Image, len(order))
	errs := make([]error, len(order))
	var wg sync.WaitGroup
	for i, ref := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := wants[ref]
			imgs[i], errs[i] = r.getImage(ctx, w.pod, w.c, secrets)
			if errs[i] != nil {
				at := containerPath(w.pod.Pod, w.c.Name).Child("image").String()
				errs[i] = podError(w.pod, fmt.Errorf("container %q: %w", w.c.Name, &translate.FieldError{Field: at, Err: errs[i]}))
			}
		}()
	}
	wg.Wait()
	found := map[string]*image.Image{}
	for i, ref := range order {
		if imgs[i] != nil {
			found[ref] = imgs[i]
		}
	}
	return found, errors.Join(errs...)
}

// pullPolicy is the policy container c's image is got by: the
// override of Config.PullPolicy, else the container's own as the kubelet
// has it.
func (r *Runner) pullPolicy(c *corev1.Container) corev1.PullPolicy {
	if r.cfg.PullPolicy != "" {
		return r.cfg.PullPolicy
	}
	return kubelet.PullPolicy(c)
}

func (r *Runner) policyRank(c corev1.Container) int {
	switch r.pullPolicy(&c) {
	case corev1.PullAlways:
		return 2
	case corev1.PullIfNotPresent:
		return 1
	}
	return 0
}

// getImage gets one container's image by its pull policy.
func (r *Runner) getImage(ctx context.Context, p kube.Pod, c corev1.Container, secrets []kube.Secret) (*image.Image, error) {
	policy := r.pullPolicy(&c)
	if policy != corev1.PullAlways {
		img, err := r.images.Get(c.Image)
		switch {
		case err == nil:
			return img, nil
		case !errors.Is(err, image.ErrNotFound):
			return nil, err // it names the image
		case policy == corev1.PullNever:
			return nil, fmt.Errorf("image %s is not stored and imagePullPolicy is Never (ErrImageNeverPull): load it with podrun image load, or pull it with podrun image pull", c.Image)
		}
	}
	opts := r.cfg.Pull
	opts.PullSecrets = r.pullSecrets(p, secrets)
	img, err := r.images.Pull(ctx, c.Image, opts)
	if err != nil {
		return nil, r.pullFailed(c, err)
	}
	return img, nil
}

// pullFailed explains a failed pull. When the container's own policy
// (Always, the default for :latest) sent podrun to a registry it cannot
// reach while the store holds the image, it says how to run offline.
func (r *Runner) pullFailed(c corev1.Container, err error) error {
	if r.cfg.PullPolicy == "" && image.Unreachable(err) {
		if _, getErr := r.images.Get(c.Image); getErr == nil {
			return fmt.Errorf("the registry cannot be reached (%w); the image is in the local store: run with --pull=missing to use it, or set imagePullPolicy: IfNotPresent", err)
		}
	}
	return fmt.Errorf("%w: check the name, or load it with podrun image load", err)
}

// pullSecrets returns the registry credentials of the pod's
// imagePullSecrets, in order, from the Secrets of its namespace: those
// handed in with the pods, else those applied earlier (the objects
// store, which apply fills before it starts pods). As with the kubelet,
// a secret that is missing or of another type is logged and skipped, not
// an error: the pull may still succeed without it.
func (r *Runner) pullSecrets(p kube.Pod, secrets []kube.Secret) [][]byte {
	var out [][]byte
	for i, ref := range p.Pod.Spec.ImagePullSecrets {
		data, ok := findPullSecret(p.Pod.Namespace, ref.Name, secrets)
		if !ok {
			if s, err := r.Objects().Secrets.Get(p.Pod.Namespace, ref.Name); err == nil {
				data, ok = dockerConfig(s)
			}
		}
		if !ok {
			r.cfg.Log.Warn(podWarning(p, fmt.Sprintf("spec.imagePullSecrets[%d]", i), fmt.Sprintf(
				"secret %q not found, or not of type kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg; pulling without it", ref.Name)))
			continue
		}
		out = append(out, data)
	}
	return out
}

func findPullSecret(namespace, name string, secrets []kube.Secret) ([]byte, bool) {
	for _, s := range secrets {
		if s.Secret.Namespace == namespace && s.Secret.Name == name {
			return dockerConfig(s.Secret)
		}
	}
	return nil, false
}

// dockerConfig is the registry credentials a Secret holds, if it is of
// one of the two types the kubelet reads them from.
func dockerConfig(s *corev1.Secret) ([]byte, bool) {
	switch s.Type {
	case corev1.SecretTypeDockerConfigJson:
		data, ok := s.Data[corev1.DockerConfigJsonKey]
		return data, ok
	case corev1.SecretTypeDockercfg:
		data, ok := s.Data[corev1.DockerConfigKey]
		return data, ok
	}
	return nil, false
}

// PruneImages removes the blobs and layers that no stored image and no
// pod uses. A pod's images are kept by the manifest digest its containers
// were created from, so a pod keeps its layers after `image rm` or after
// a pull moved the tag it named.
func (r *Runner) PruneImages() (image.Pruned, error) {
	entries, err := r.pods.List()
	if err != nil {
		return image.Pruned{}, fmt.Errorf("pruning images: listing pods: %w", err)
	}
	var keep []string
	for _, e := range entries {
		if e.Pod == nil {
			continue
		}
		for _, c := range e.Pod.Containers {
			if c.ImageID != "" {
				keep = append(keep, c.ImageID)
			}
			// A pod still being created has no ImageID yet.
			if img, err := r.images.Get(c.Image); err == nil {
				keep = append(keep, img.Digest)
			}
		}
	}
	return r.images.Prune(keep)
}

// recordImageIDs notes in the pod's state the manifest digest each
// container's image had when the pod was created, as the kubelet's
// imageID, so that PruneImages keeps those layers while the pod exists.
func recordImageIDs(ctx context.Context, dir *state.PodDir, images map[string]*image.Image) error {
	_, err := dir.Update(ctx, func(s *state.Pod) error {
		for i, c := range s.Containers {
			if img := images[c.Image]; img != nil {
				s.Containers[i].ImageID = img.Digest
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recording the pod's image digests: %w", err)
	}
	return nil
}
