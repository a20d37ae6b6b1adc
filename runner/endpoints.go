package runner

import (
	"context"
	"slices"
	"time"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/services"
	corev1 "k8s.io/api/core/v1"
)

// servicesConfig is what services.Sync reads and writes here.
func (r *Runner) servicesConfig() services.Config {
	return services.Config{
		RunRoot:   r.cfg.RunRoot,
		Objects:   r.Objects(),
		Pods:      r.List,
		DataPlane: r.dataPlane(),
		Log:       r.cfg.Log,
	}
}

// syncTimeout bounds one sync of the endpoints: it waits only for
// another sync's lock.
const syncTimeout = 30 * time.Second

// syncEndpoints brings the endpoints of the Services of namespaces up to
// date after their pods changed. It is called with the pods' state
// written; a failure is logged: the pods stay as they are, and the next
// change of any of them syncs again.
func (r *Runner) syncEndpoints(ctx context.Context, namespaces ...string) {
	slices.Sort(namespaces)
	for _, ns := range slices.Compact(namespaces) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), syncTimeout)
		err := services.Sync(ctx, r.servicesConfig(), ns)
		cancel()
		if err != nil {
			r.cfg.Log.Warn("updating the endpoints of the namespace's services", "namespace", ns, "error", err)
		}
	}
}

// ServicesChanged brings the endpoints of namespace's Services up to
// date and tells the data plane, after a Service of namespace was stored
// or deleted.
func (r *Runner) ServicesChanged(ctx context.Context, namespace string) error {
	return services.ServicesChanged(ctx, r.servicesConfig(), namespace)
}

// podNamespaces are the namespaces of pods.
func podNamespaces(pods []kube.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Pod.Namespace)
	}
	return out
}

// ServiceEvents returns the events recorded for Service namespace/name,
// oldest first: a Warning FailedToFindPort for each selected pod left out
// of a port (services.Events), for describe.
func (r *Runner) ServiceEvents(namespace, name string) ([]corev1.Event, error) {
	return services.Events(r.cfg.RunRoot, namespace, name)
}
