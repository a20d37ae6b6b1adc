package runner

import (
	"path/filepath"

	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/host"
	"github.com/podrun/podrun/runner/objects"
	"github.com/podrun/podrun/translate"
)

// Objects is the store of the objects podrun has applied besides pods
// and claims.
func (r *Runner) Objects() *objects.Store { return objectsUnder(r.cfg.RunRoot) }

// objectsUnder is the object store of a run root.
func objectsUnder(runRoot string) *objects.Store {
	return objects.Open(filepath.Join(runRoot, "objects"))
}

// processInput hands translate what the process, identity and resource
// fields of a pod need: the objects of its namespace, the machine's
// allocatable resources and devices, seccomp profiles, the sysctl
// allowlist.
func (r *Runner) processInput(in *translate.Input) error {
	store := r.Objects()
	var err error
	if in.ConfigMaps, _, err = store.ConfigMaps.List(in.Pod.Namespace); err != nil {
		return err
	}
	if in.Secrets, _, err = store.Secrets.List(in.Pod.Namespace); err != nil {
		return err
	}
	// The Services as they are now: their variables are fixed when the
	// bundles are made, where the kubelet reads them at each start.
	if in.Services, err = store.Services.Items(in.Pod.Namespace); err != nil {
		return err
	}
	in.Services = withServices(in.Services, r.unstoredServices, in.Pod.Namespace)
	addUnstored(in, r.unstored)
	if err := r.addRootCA(in); err != nil {
		return err
	}
	if privileged(in.Pod) {
		if in.Host.Devices, err = host.Devices("/dev"); err != nil {
			return err
		}
	}
	if in.Host.SeccompDefault, err = defaultSeccomp(); err != nil {
		return err
	}
	if in.SeccompProfiles, err = r.localhostSeccomp(in.Pod); err != nil {
		return err
	}
	in.AllowedUnsafeSysctls = r.cfg.AllowedUnsafeSysctls
	return nil
}

// addUnstored adds to in the ConfigMaps and Secrets of set in the pod's
// namespace, in place of stored ones of the same name, as apply would
// store them before the pod starts.
func addUnstored(in *translate.Input, set *kube.Set) {
	if set == nil {
		return
	}
	for _, cm := range set.ConfigMaps {
		if cm.ConfigMap.Namespace == in.Pod.Namespace {
			in.ConfigMaps[cm.ConfigMap.Name] = cm.ConfigMap
		}
	}
	for _, s := range set.Secrets {
		if s.Secret.Namespace == in.Pod.Namespace {
			in.Secrets[s.Secret.Name] = s.Secret
		}
	}
}

func privileged(pod *corev1.Pod) bool {
	for _, c := range allContainers(&pod.Spec) {
		if c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged {
			return true
		}
	}
	return false
}
