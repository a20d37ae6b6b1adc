package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/runner/volume"
	"github.com/podrun/podrun/translate"
)

// A pod that waits: what it waits for (a ConfigMap, Secret, key or
// claim), how it is recorded, and which pods a later apply may start.

// waitingFor says why the volumes of pod cannot be set up yet: a claim
// that was not applied (or was deleted), or a ConfigMap or Secret that is
// not optional and not stored. The kubelet then keeps the pod's
// containers waiting in ContainerCreating until it appears; "" when
// nothing is missing.
func (r *Runner) waitingFor(pod *corev1.Pod) (string, error) {
	msg, _, err := r.waitingForVolume(pod)
	return msg, err
}

// waitingForVolume is waitingFor, saying also which volume waits: the
// path of its entry, spec.volumes[i], to locate the message.
func (r *Runner) waitingForVolume(pod *corev1.Pod) (string, string, error) {
	objs := r.volumeObjects()
	for i, v := range pod.Spec.Volumes {
		path := field.NewPath("spec", "volumes").Index(i).String()
		vs := v.VolumeSource
		var msg string
		var err error
		switch {
		case vs.PersistentVolumeClaim != nil:
			name := vs.PersistentVolumeClaim.ClaimName
			var n *volume.Named
			if n, err = r.claims().Get(pod.Namespace, name); errors.Is(err, volume.ErrNotFound) {
				return fmt.Sprintf("persistentvolumeclaim %q not found", name), path, nil
			}
			if err == nil && n.Terminating() { // as the scheduler says it
				return fmt.Sprintf("persistentvolumeclaim %q is being deleted", name), path, nil
			}
		case vs.ConfigMap != nil && !isTrue(vs.ConfigMap.Optional):
			msg, err = missingConfigMap(objs, pod.Namespace, vs.ConfigMap.Name, vs.ConfigMap.Items)
		case vs.Secret != nil && !isTrue(vs.Secret.Optional):
			msg, err = missingSecret(objs, pod.Namespace, vs.Secret.SecretName, vs.Secret.Items)
		case vs.Projected != nil:
			for _, s := range vs.Projected.Sources {
				switch {
				case s.ConfigMap != nil && !isTrue(s.ConfigMap.Optional):
					msg, err = missingConfigMap(objs, pod.Namespace, s.ConfigMap.Name, s.ConfigMap.Items)
				case s.Secret != nil && !isTrue(s.Secret.Optional):
					msg, err = missingSecret(objs, pod.Namespace, s.Secret.Name, s.Secret.Items)
				}
				if err != nil || msg != "" {
					break
				}
			}
		}
		if err != nil {
			return "", "", &translate.FieldError{Field: path, Err: fmt.Errorf("checking the sources of volume %q: %w", v.Name, err)}
		}
		if msg != "" {
			return msg, path, nil
		}
	}
	return "", "", nil
}

// missingConfigMap says why a non-optional configMap source cannot be
// projected yet, in the kubelet's words: the ConfigMap is not stored, or
// lacks a key its items name. "" when it can.
func missingConfigMap(objs volume.Objects, namespace, name string, items []corev1.KeyToPath) (string, error) {
	cm, err := objs.ConfigMap(namespace, name)
	if err != nil {
		return notFound(err)
	}
	for _, it := range items {
		_, inData := cm.Data[it.Key]
		if _, inBinary := cm.BinaryData[it.Key]; !inData && !inBinary {
			return "configmap references non-existent config key: " + it.Key, nil
		}
	}
	return "", nil
}

// missingSecret is missingConfigMap for a secret source.
func missingSecret(objs volume.Objects, namespace, name string, items []corev1.KeyToPath) (string, error) {
	s, err := objs.Secret(namespace, name)
	if err != nil {
		return notFound(err)
	}
	for _, it := range items {
		_, inData := s.Data[it.Key]
		if _, inString := s.StringData[it.Key]; !inData && !inString {
			return "references non-existent secret key: " + it.Key, nil
		}
	}
	return "", nil
}

// notFound turns a missing object into the waiting message, and returns
// any other error.
func notFound(err error) (string, error) {
	if errors.Is(err, volume.ErrNotFound) {
		return err.Error(), nil
	}
	return "", err
}

// recordWaiting records every container of pod waiting in
// ContainerCreating with msg, and nothing else: no network, no root file
// systems, no monitor. A later apply of the missing object starts the pod
// (WaitingPods); delete removes it like any other.
func (r *Runner) recordWaiting(ctx context.Context, h podHandle, pod *corev1.Pod, msg string) error {
	var records []state.Container
	for i, c := range allContainers(&pod.Spec) {
		records = append(records, state.Container{
			Name:    c.Name,
			Init:    i < len(pod.Spec.InitContainers),
			ID:      h.containerID(c.Name),
			Image:   c.Image,
			State:   state.Waiting,
			Reason:  ReasonContainerCreating,
			Message: msg,
		})
	}
	_, err := h.dir.Update(ctx, func(s *state.Pod) error { s.Containers, s.Stage = records, state.StageWaiting; return nil })
	if err == nil {
		r.reached(h.dir, state.StageWaiting)
	}
	r.cfg.Log.Info("pod waits for a volume source", "pod", pod.Namespace+"/"+pod.Name, "reason", msg)
	return err
}

// waitingForVolumes reports whether st is a pod that recordWaiting left:
// at StageWaiting, or in a record without a stage, never handed to a
// monitor, no infra container.
func waitingForVolumes(st *state.Pod) bool {
	if st.Stage != "" {
		return st.Stage == state.StageWaiting
	}
	return st.Monitor.Pid == 0 && st.Infra == nil && len(st.Containers) > 0 &&
		st.Containers[0].Reason == ReasonContainerCreating && st.Containers[0].Message != ""
}

// WaitingPods returns the pods recorded waiting for a claim, ConfigMap or
// Secret that now exists, to be applied again: the kubelet would start
// them as soon as the object appears.
func (r *Runner) WaitingPods() ([]kube.Pod, error) {
	entries, err := r.pods.List()
	if err != nil {
		return nil, err
	}
	var out []kube.Pod
	for _, e := range entries {
		if e.Pod == nil || !waitingForVolumes(e.Pod) {
			continue
		}
		var pod corev1.Pod
		if json.Unmarshal(e.Pod.Manifest, &pod) != nil {
			continue
		}
		if msg, err := r.waitingFor(&pod); err != nil || msg != "" {
			continue
		}
		// Applied again as the user applied it: apply admits it again.
		if len(e.Pod.Applied) > 0 {
			pod = corev1.Pod{}
			if json.Unmarshal(e.Pod.Applied, &pod) != nil {
				continue
			}
		}
		out = append(out, kube.Pod{Source: kube.Source{File: e.Pod.Source}, Pod: &pod})
	}
	return out, nil
}
