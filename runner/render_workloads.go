package runner

import (
	"fmt"
	"hash/fnv"
	"math/rand"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/podrun/podrun/kube"
	kc "github.com/podrun/podrun/kube/controllers"
)

// Render of a workload renders the pod its controller would create
// first, so that its verdict is the one that pod would get at apply: the
// pod goes through kube.Expand as a supervisor's pods do (world.ApplyPods),
// then through apply's checks.

// firstPodder is a controller that can say which pod it would create
// first for a workload not yet applied: nil when it would create none
// (replicas 0). Its name's random suffix is drawn from r.
type firstPodder interface {
	FirstPod(w *kube.Workload, now time.Time, r kc.Rand) (*corev1.Pod, error)
}

// workloadPods are the first pods of the workloads of set, as their
// controllers would create them, located in the workloads' files. A
// workload whose controller cannot say is not rendered.
func workloadPods(set *kube.Set) ([]kube.Pod, error) {
	var out []kube.Pod
	for i := range set.Workloads {
		w := &set.Workloads[i]
		c, _ := Controller(storeKind(w))
		fp, ok := c.(firstPodder)
		if !ok {
			continue
		}
		p, err := fp.FirstPod(renderWorkload(w), time.Now(), renderRand(w))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", w.Source, err)
		}
		if p == nil {
			continue
		}
		p.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
		obj := kube.Object{Source: w.Source, Kind: "Pod", Object: p, Lines: templateLines(w.Lines, templatePath(w))}
		expanded, err := kube.Expand([]kube.Object{obj}, kube.Options{Namespace: p.Namespace})
		if err != nil {
			return nil, err
		}
		for _, ep := range expanded.Pods {
			ep.Source, ep.Lines = w.Source, obj.Lines
			out = append(out, ep)
		}
	}
	return out, nil
}

// renderWorkload is a copy of w with the uid the API server would give
// it, which its pods' ownerReferences name: made up from its name, since
// render stores nothing.
func renderWorkload(w *kube.Workload) *kube.Workload {
	c := *w
	c.Object = w.Object.DeepCopyObject()
	m := c.Meta()
	m.SetUID(RenderUID(w.Kind, m.GetNamespace(), m.GetName()))
	return &c
}

// RenderUID is the uid render gives an object that apply would store:
// UUID-shaped, from its kind, namespace and name.
func RenderUID(kind, namespace, name string) types.UID {
	h := fnv.New128a()
	fmt.Fprintf(h, "%s/%s/%s", kind, namespace, name)
	b := h.Sum(nil)
	return types.UID(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
}

// renderRand draws a workload's pod name suffixes for render from a seed
// of its kind, namespace and name, so that rendering the same manifest
// again writes the same directories. Apply draws them at random.
func renderRand(w *kube.Workload) *rand.Rand {
	h := fnv.New64a()
	m := w.Meta()
	fmt.Fprintf(h, "%s/%s/%s", w.Kind, m.GetNamespace(), m.GetName())
	return rand.New(rand.NewSource(int64(h.Sum64())))
}

// templatePath is where a workload's pod template is: spec.template, or
// a CronJob's spec.jobTemplate.spec.template.
func templatePath(w *kube.Workload) string {
	if w.Kind == "CronJob" {
		return "spec.jobTemplate.spec.template"
	}
	return "spec.template"
}

// templateLines locates a pod's fields at their lines in its template:
// spec.containers[0] at spec.template.spec.containers[0].
func templateLines(l kube.Lines, prefix string) kube.Lines {
	out := kube.Lines{"": l.Find(prefix)}
	for k, v := range l {
		if rest, ok := strings.CutPrefix(k, prefix+"."); ok {
			out[rest] = v
		}
	}
	return out
}
