package controllers

import (
	"maps"
	"sort"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// LabelPodTemplateGeneration is the DaemonSet's older revision label.
const LabelPodTemplateGeneration = "pod-template-generation"

// DaemonSetResult is one step of the DaemonSet controller on this node.
type DaemonSetResult struct {
	// DaemonSet is the set with its new status, to store.
	DaemonSet *appsv1.DaemonSet
	PodActions
	// Unschedulable says why no pod runs on this node, in the scheduler's
	// words; empty when one should.
	Unschedulable string
	// RequeueAt is when a pod becomes available after minReadySeconds.
	RequeueAt time.Time
}

// daemonTolerations are the tolerations the DaemonSet controller adds to
// every pod it makes, so that its pods run where others would not.
var daemonTolerations = []corev1.Toleration{
	{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
	{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
	{Key: "node.kubernetes.io/disk-pressure", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: "node.kubernetes.io/memory-pressure", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: "node.kubernetes.io/pid-pressure", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: "node.kubernetes.io/unschedulable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
}

// daemonPodSpec is the spec of the set's pod: the template's, with the
// controller's tolerations.
func daemonPodSpec(ds *appsv1.DaemonSet) corev1.PodSpec {
	spec := *ds.Spec.Template.Spec.DeepCopy()
	tolerations := append([]corev1.Toleration(nil), daemonTolerations...)
	if spec.HostNetwork {
		tolerations = append(tolerations, corev1.Toleration{Key: "node.kubernetes.io/network-unavailable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule})
	}
	for _, t := range tolerations {
		if !hasToleration(spec.Tolerations, t) {
			spec.Tolerations = append(spec.Tolerations, t)
		}
	}
	return spec
}

// pinToNode replaces the spec's required node affinity by one that names
// node, as the controller does once it knows the pod fits there.
func pinToNode(spec *corev1.PodSpec, node Node) {
	if spec.Affinity == nil {
		spec.Affinity = &corev1.Affinity{}
	}
	if spec.Affinity.NodeAffinity == nil {
		spec.Affinity.NodeAffinity = &corev1.NodeAffinity{}
	}
	spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{
			{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{node.Name}},
		}}},
	}
}

func hasToleration(list []corev1.Toleration, t corev1.Toleration) bool {
	for _, have := range list {
		if have.Key == t.Key && have.Effect == t.Effect {
			return true
		}
	}
	return false
}

// DaemonSetRevision is the controller-revision-hash of the set's template.
func DaemonSetRevision(ds *appsv1.DaemonSet) string {
	return TemplateHash(&ds.Spec.Template, ds.Status.CollisionCount)
}

// DaemonSet is one sync of the DaemonSet controller for this node: one
// pod when the template's nodeSelector, required node affinity and
// tolerations (with the controller's own) let it run here, none
// otherwise. Finished pods are deleted to be replaced; of several, the
// oldest is kept. A RollingUpdate replaces a pod of an older revision:
// with a surge, the new pod first and the old once the new is available;
// without, the old first. OnDelete waits for the user.
func DaemonSet(ds *appsv1.DaemonSet, node Node, pods []Pod, now time.Time, r Rand) DaemonSetResult {
	d := ds.DeepCopy()
	res := DaemonSetResult{DaemonSet: d}
	hash := DaemonSetRevision(ds)
	var running []*Pod
	for i := range pods {
		p := &pods[i]
		switch {
		case p.Deleting:
		case p.terminal():
			res.Delete = append(res.Delete, p.Pod.Name)
		default:
			running = append(running, p)
		}
	}
	sort.SliceStable(running, func(i, j int) bool {
		return running[i].Pod.CreationTimestamp.Before(&running[j].Pod.CreationTimestamp)
	})
	spec := daemonPodSpec(d)
	fits, why := node.Fits(&spec)
	pinToNode(&spec, node)
	switch {
	case !fits:
		res.Unschedulable = why
		res.Delete = append(res.Delete, names(running)...)
	case len(running) == 0:
		res.Create = append(res.Create, newDaemonPod(d, spec, hash, r, podNames(pods)))
	case d.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType:
		res.Delete = append(res.Delete, names(running[1:])...)
	default:
		res.PodActions = rollDaemon(d, spec, hash, running, pods, res.PodActions, now, r)
	}
	res.DaemonSet.Status, res.RequeueAt = daemonStatus(d, fits, hash, pods, now)
	return res
}

// rollDaemon keeps one pod at the set's revision: the new pod first when
// maxSurge allows, the old one deleted once the new is available; without
// a surge, the old pod deleted first.
func rollDaemon(d *appsv1.DaemonSet, spec corev1.PodSpec, hash string, running []*Pod, pods []Pod, acts PodActions, now time.Time, r Rand) PodActions {
	var current, old []*Pod
	for _, p := range running {
		if p.Pod.Labels[LabelControllerRevision] == hash {
			current = append(current, p)
		} else {
			old = append(old, p)
		}
	}
	if len(current) > 0 {
		acts.Delete = append(acts.Delete, names(current[1:])...)
		if current[0].available(d.Spec.MinReadySeconds, now) || !surges(d) {
			acts.Delete = append(acts.Delete, names(old)...)
		}
		return acts
	}
	if surges(d) {
		acts.Create = append(acts.Create, newDaemonPod(d, spec, hash, r, podNames(pods)))
		return acts
	}
	acts.Delete = append(acts.Delete, names(old)...)
	return acts
}

// surges is whether the RollingUpdate's maxSurge, over this one node and
// rounded up, lets a new pod run beside the old one.
func surges(d *appsv1.DaemonSet) bool {
	ru := d.Spec.UpdateStrategy.RollingUpdate
	if ru == nil || ru.MaxSurge == nil {
		return false
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(ru.MaxSurge, 1, true)
	return err == nil && n > 0
}

func newDaemonPod(d *appsv1.DaemonSet, spec corev1.PodSpec, hash string, r Rand, taken map[string]bool) *corev1.Pod {
	name := GenerateName(d.Name+"-", r, taken)
	p := podFromTemplate(&d.Spec.Template, d.Namespace, name, OwnerReference("apps/v1", "DaemonSet", &d.ObjectMeta))
	p.Spec = spec
	p.Labels = withLabel(p.Labels, LabelControllerRevision, hash)
	p.Labels[LabelPodTemplateGeneration] = strconv.FormatInt(d.Generation, 10)
	return p
}

// daemonStatus counts the set's pods on this one node.
func daemonStatus(d *appsv1.DaemonSet, fits bool, hash string, pods []Pod, now time.Time) (appsv1.DaemonSetStatus, time.Time) {
	st := appsv1.DaemonSetStatus{ObservedGeneration: d.Generation, CollisionCount: d.Status.CollisionCount, Conditions: d.Status.Conditions}
	var next time.Time
	var live, ready, available, updated bool
	for i := range pods {
		p := &pods[i]
		if !p.active() {
			continue
		}
		live = true
		ready = ready || p.Ready
		if p.available(d.Spec.MinReadySeconds, now) {
			available = true
		}
		next = earliest(next, p.availableAt(d.Spec.MinReadySeconds, now))
		updated = updated || p.Pod.Labels[LabelControllerRevision] == hash
	}
	one := func(b bool) int32 {
		if b {
			return 1
		}
		return 0
	}
	st.DesiredNumberScheduled = one(fits)
	st.CurrentNumberScheduled = one(fits && live)
	st.NumberMisscheduled = one(!fits && live)
	st.NumberReady = one(fits && ready)
	st.NumberAvailable = one(fits && available)
	st.UpdatedNumberScheduled = one(fits && updated)
	st.NumberUnavailable = st.DesiredNumberScheduled - st.NumberAvailable
	return st, next
}

// DaemonSetAdoptions are the orphans (pods no controller owns) the set
// adopts, as the controller claims the pods its selector matches: each
// running one made from the set's current template (its
// controller-revision-hash is the set's revision), returned as the pod to
// make again under its own name, with its labels and annotations, the
// spec the set gives its pods on node, and the set's ownerReference.
// Made again with the same spec, a running pod is adopted, not replaced.
// An orphan of an older template is left alone: its spec differs, and a
// running pod's spec cannot change.
func DaemonSetAdoptions(ds *appsv1.DaemonSet, node Node, orphans []corev1.Pod) []*corev1.Pod {
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil || sel.Empty() {
		return nil
	}
	hash := DaemonSetRevision(ds)
	spec := daemonPodSpec(ds)
	pinToNode(&spec, node)
	var out []*corev1.Pod
	for _, o := range orphans {
		if metav1.GetControllerOfNoCopy(&o) != nil || o.DeletionTimestamp != nil || o.Namespace != ds.Namespace ||
			o.Status.Phase == corev1.PodSucceeded || o.Status.Phase == corev1.PodFailed ||
			!sel.Matches(labels.Set(o.Labels)) || o.Labels[LabelControllerRevision] != hash {
			continue
		}
		p := podFromTemplate(&ds.Spec.Template, ds.Namespace, o.Name, OwnerReference("apps/v1", "DaemonSet", &ds.ObjectMeta))
		p.Labels, p.Annotations = maps.Clone(o.Labels), maps.Clone(o.Annotations)
		p.Spec = *spec.DeepCopy()
		out = append(out, p)
	}
	return out
}
