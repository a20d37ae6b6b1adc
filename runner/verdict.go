package runner

import (
	"fmt"
	"io/fs"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/image"
	"github.com/podrun/podrun/runner/volume"
	"github.com/podrun/podrun/translate"
)

// A pod's verdict: whether it is created, which of its containers wait
// and why, or why it is refused. apply and render reach it through one
// function, planPod; only the steps that touch the host differ.

// Waiting is a container the pod's verdict leaves waiting, as get shows it.
type Waiting struct {
	Container string
	Reason    string // ReasonContainerCreating or ReasonConfigError
	Message   string
	// Field is the path of the field Message is about: the volume waited
	// for, the env entry whose ConfigMap is missing, else the container.
	Field string
	// Source locates Field in the manifest (render sets it).
	Source kube.Source
}

// podPlan is a pod's verdict: the translate plan, written out, and the
// containers that wait. Plan is nil when the pod waits for a volume
// source (WaitsFor says which): nothing is made for it, and every
// container waits.
type podPlan struct {
	Plan     *translate.Plan
	Waiting  []Waiting
	Warnings []translate.Warning // as the kubelet's warning events
	WaitsFor string
}

// hostSteps are apply's steps between the verdict's own: attaching the
// network (it returns the pod IP) and mounting the root file systems (it
// returns where translate reads each container's users). Render's attach
// nothing and read the users from the image layers.
type hostSteps struct {
	network func() (string, error)
	rootfs  func() (map[string]fs.FS, error)
}

// planPod decides the verdict on pod, laid out at l, in apply's order:
// the volume sources it waits for, the network, the root file systems,
// the volumes, the translation, then the pod's files and bundles with
// the subPaths and propagation each container needs. An error refuses
// the pod. With r.dryRun (render) the volumes are plain directories and
// nothing is mounted, but every check is the same.
func (r *Runner) planPod(pod *corev1.Pod, l translate.Layout, images map[string]*image.Image, host hostSteps) (*podPlan, error) {
	if msg, at, err := r.waitingForVolume(pod); err != nil || msg != "" {
		if err != nil {
			return nil, err
		}
		return &podPlan{Waiting: podWaiting(pod, msg, at), WaitsFor: msg}, nil
	}
	done := r.timeStep("network")
	podIP, err := host.network()
	done()
	if err != nil {
		return nil, err
	}
	done = r.timeStep("rootfs mounts")
	users, err := host.rootfs()
	done()
	if err != nil {
		return nil, err
	}
	done = r.timeStep("volumes")
	vols, err := r.prepareVolumes(pod, l)
	done()
	if err != nil {
		return nil, err
	}
	done = r.timeStep("plan")
	plan, err := r.plan(pod, l, podIP, images, users, vols)
	done()
	if err != nil {
		return nil, err
	}
	done = r.timeStep("prepare")
	configErrs, err := r.writePod(plan, l)
	done()
	if err != nil {
		return nil, err
	}
	pp := &podPlan{Plan: plan, Warnings: plan.Warnings}
	for _, c := range planContainers(plan) {
		if msg, ok := configErrs[c.Name]; ok {
			at := containerPath(pod, c.Name).String()
			if msg == c.ConfigError && c.ConfigErrorField != "" {
				at = c.ConfigErrorField
			}
			pp.Waiting = append(pp.Waiting, Waiting{Container: c.Name, Reason: ReasonConfigError, Message: msg, Field: at})
		}
	}
	return pp, nil
}

// warnings are pp's warnings as lines located at their fields in p's
// file: "FILE:LINE: pod NS/NAME: FIELD: message".
func (pp *podPlan) warnings(p kube.Pod) []string {
	var out []string
	for _, w := range pp.Warnings {
		out = append(out, fmt.Sprintf("%s: pod %s/%s: %s", p.At(w.Field), p.Pod.Namespace, p.Pod.Name, w))
	}
	return out
}

// newPod is the pod created from p, at apply and render alike: admitted
// (admission.go), with a new UID, created now, on this machine as the
// scheduler would have placed it.
func (r *Runner) newPod(p kube.Pod) (*corev1.Pod, error) {
	pod := p.Pod.DeepCopy()
	if err := r.admit(pod); err != nil {
		return nil, err
	}
	pod.UID = types.UID(newUID())
	pod.CreationTimestamp = metav1.Now()
	if pod.Spec.NodeName == "" {
		// This machine is the node, as the scheduler would have said.
		pod.Spec.NodeName = nodeName()
	}
	return pod, nil
}

// podWaiting is every container of pod waiting in ContainerCreating for
// the volume source msg names, the volume at path.
func podWaiting(pod *corev1.Pod, msg, path string) []Waiting {
	var out []Waiting
	for _, c := range allContainers(&pod.Spec) {
		out = append(out, Waiting{Container: c.Name, Reason: ReasonContainerCreating, Message: msg, Field: path})
	}
	return out
}

// podExists refuses p, whose name a running pod with another spec holds.
func podExists(p kube.Pod) error {
	return fmt.Errorf("%s: pod %s/%s: %w: delete it first (podrun delete pod %s -n %s)",
		p.Source, p.Pod.Namespace, p.Pod.Name, ErrPodExists, p.Pod.Name, p.Pod.Namespace)
}

// claims finds the volumes bound to claims: the stored ones, and at
// render those the input's claims would bind, as apply binds them
// before it starts pods.
func (r *Runner) claims() volume.Claims {
	if r.unstored == nil || len(r.unstored.Claims) == 0 {
		return r.Claims()
	}
	return setClaims{set: r.unstored, store: r.Claims()}
}

type setClaims struct {
	set   *kube.Set
	store *volume.Store
}

func (c setClaims) Get(namespace, name string) (*volume.Named, error) {
	for _, cl := range c.set.Claims {
		if cl.Claim.Namespace == namespace && cl.Claim.Name == name {
			return c.store.Binding(cl.Claim)
		}
	}
	return c.store.Get(namespace, name)
}

// setObjects are the stored objects with render's ConfigMaps and Secrets
// in place of stored ones of the same name, as apply would store them.
type setObjects struct {
	set *kube.Set
	volume.Objects
}

func (o setObjects) ConfigMap(namespace, name string) (*corev1.ConfigMap, error) {
	for _, cm := range o.set.ConfigMaps {
		if cm.ConfigMap.Namespace == namespace && cm.ConfigMap.Name == name {
			return cm.ConfigMap, nil
		}
	}
	return o.Objects.ConfigMap(namespace, name)
}

func (o setObjects) Secret(namespace, name string) (*corev1.Secret, error) {
	for _, s := range o.set.Secrets {
		if s.Secret.Namespace == namespace && s.Secret.Name == name {
			return s.Secret, nil
		}
	}
	return o.Objects.Secret(namespace, name)
}
