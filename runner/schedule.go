package runner

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/kube/controllers"
	"github.com/podrun/podrun/runner/image"
	"github.com/podrun/podrun/runner/network"
	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/translate"
)

// The scheduler of a one-node cluster: this machine is the node. A pod
// that names no node is placed here if it fits (its node selector, its
// required node affinity, its tolerations, and hostPorts no placed pod
// publishes); otherwise it is recorded Pending, with the scheduler's
// condition and event, and nothing is made for it. Whatever frees a
// hostPort (Delete, DeletePods, an apply that rolls a pod back) calls
// scheduleWaiting, which starts the Pending pods that fit now, oldest
// first. A host process holding a port is not seen: the scheduler does
// not see it either, and the start then fails as it does without
// Pending pods.

// Scheduler words, as kube-scheduler posts them.
const (
	ReasonUnschedulable    = corev1.PodReasonUnschedulable // the PodScheduled condition's reason
	ReasonFailedScheduling = "FailedScheduling"            // the event's
	ReasonScheduled        = "Scheduled"
	SchedulerName          = corev1.DefaultSchedulerName // "default-scheduler", who posts them

	unfreePorts = "node(s) didn't have free ports for the requested pod ports"
)

// Unschedulable is the scheduler's verdict on a pod it cannot place on
// this node.
type Unschedulable struct {
	// Message is the scheduler's, for the condition and the event:
	// "0/1 nodes are available: 1 node(s) didn't ...".
	Message string
	// Field is the path of the field asking for what the node lacks: the
	// hostPort, spec.nodeSelector, the required node affinity, or
	// spec.tolerations.
	Field string
	// Detail says more than the scheduler would, for the warning: which
	// pod publishes the port.
	Detail string
}

// Node is this machine as the cluster's one node: named by its hostname,
// with the labels a kubelet gives its node, no role and no taints.
func Node() controllers.Node {
	name := nodeName()
	return controllers.Node{Name: name, Labels: map[string]string{
		corev1.LabelHostname:   name,
		corev1.LabelOSStable:   "linux",
		corev1.LabelArchStable: goruntime.GOARCH,
	}}
}

// nodeName is the name of the node, this machine's hostname.
func nodeName() string {
	name, _ := os.Hostname()
	return name
}

// placed is a pod placed on the node, with the hostPorts it publishes.
type placed struct {
	namespace, name string
	ports           []translate.Port
}

// unschedulable is the scheduler's filter for pod on node, given the
// hostPorts of the pods already placed there: nil when it fits. The
// node's own checks come first, then the ports, in the scheduler's order
// of plugins (NodeAffinity, TaintToleration before NodePorts); the first
// that fails is the reason.
func unschedulable(node controllers.Node, pod *corev1.Pod, ports []translate.Port, others []placed) *Unschedulable {
	if ok, why := node.Fits(&pod.Spec); !ok {
		return &Unschedulable{Message: schedulerMessage(why), Field: misfitField(node, &pod.Spec)}
	}
	for _, o := range others {
		if o.namespace == pod.Namespace && o.name == pod.Name {
			continue
		}
		for _, t := range o.ports {
			for _, p := range ports {
				if clash(p, t) {
					return &Unschedulable{
						Message: schedulerMessage(unfreePorts),
						Field:   hostPortPath(pod, p),
						Detail:  fmt.Sprintf("hostPort %d/%s is published by pod %s/%s", p.HostPort, strings.ToUpper(p.Protocol), o.namespace, o.name),
					}
				}
			}
		}
	}
	return nil
}

// schedulerMessage is the scheduler's message for one node that does not
// fit for reason why.
func schedulerMessage(why string) string {
	return fmt.Sprintf("0/1 nodes are available: 1 %s.", why)
}

// misfitField is the field of spec that node does not satisfy.
func misfitField(node controllers.Node, spec *corev1.PodSpec) string {
	if ok, _ := node.Fits(&corev1.PodSpec{NodeSelector: spec.NodeSelector}); !ok {
		return "spec.nodeSelector"
	}
	if ok, _ := node.Fits(&corev1.PodSpec{Affinity: spec.Affinity}); !ok {
		return field.NewPath("spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution").String()
	}
	return "spec.tolerations"
}

// scheduled reports whether the scheduler takes part in placing pod p as
// applied: not when it names its node itself, as on a cluster.
func scheduled(p kube.Pod) bool { return p.Pod.Spec.NodeName == "" }

// placedPods are the pods placed on the node, with their hostPorts, as
// recorded: every pod but those Pending.
func (r *Runner) placedPods() ([]placed, error) {
	entries, err := r.pods.List()
	if err != nil {
		return nil, err
	}
	var out []placed
	for _, e := range entries {
		if st := e.Pod; st != nil && st.Stage != state.StagePending {
			out = append(out, placed{st.Namespace, st.Name, recordedPorts(st)})
		}
	}
	return out, nil
}

// place is the scheduler's step of apply for pod (admitted, from p, at
// dir): under the hostPort lock, so that no two pods are given one port,
// it decides whether the node takes the pod and records it, placed
// (with its hostPorts, on this node) or Pending. prior is the pod's
// Pending record, when it was Pending until now.
// A pod without hostPorts needs neither the lock nor the other pods.
func (r *Runner) place(ctx context.Context, dir *state.PodDir, p kube.Pod, pod *corev1.Pod, sandbox translate.SandboxPlan, prior *state.Pod) (*Unschedulable, *state.Pod, error) {
	var others []placed
	if len(sandbox.Ports) > 0 {
		unlock, err := r.lockPorts(ctx)
		if err != nil {
			return nil, nil, err
		}
		defer unlock()
		if scheduled(p) {
			if others, err = r.placedPods(); err != nil {
				return nil, nil, err
			}
		}
	}
	if scheduled(p) {
		if u := unschedulable(Node(), pod, sandbox.Ports, others); u != nil {
			pod.Spec.NodeName = ""
			return u, nil, r.recordPending(dir, p, pod, u, prior)
		}
	}
	st, err := r.recordPod(dir, p, pod, sandbox, prior)
	return nil, st, err
}

// recordPending records pod as the scheduler leaves a pod it cannot
// place: phase Pending, the condition PodScheduled False (Unschedulable)
// and a FailedScheduling event with the scheduler's message, no node, no
// ports; nothing is made for it. A pod Pending already (prior) keeps
// its events, the repeated one counted.
func (r *Runner) recordPending(dir *state.PodDir, p kube.Pod, pod *corev1.Pod, u *Unschedulable, prior *state.Pod) error {
	manifest, err := json.Marshal(pod)
	if err != nil {
		return err
	}
	applied, err := json.Marshal(p.Pod)
	if err != nil {
		return err
	}
	now := time.Now()
	st := &state.Pod{
		UID:       string(pod.UID),
		Namespace: pod.Namespace,
		Name:      pod.Name,
		Source:    p.Source.String(),
		Manifest:  manifest,
		Applied:   applied,
		Created:   pod.CreationTimestamp.Time,
		Stage:     state.StagePending,
		Phase:     state.PhasePending,
	}
	if prior != nil {
		st.Events, st.Conditions = prior.Events, prior.Conditions
	}
	st.SetCondition(now, string(corev1.PodScheduled), string(corev1.ConditionFalse), ReasonUnschedulable, u.Message)
	st.AddEventFrom(now, SchedulerName, corev1.EventTypeWarning, ReasonFailedScheduling, "", u.Message)
	if err := dir.Write(st); err != nil {
		return fmt.Errorf("recording the pod: %w", err)
	}
	r.reached(dir, state.StagePending)
	r.cfg.Log.Info("pod is Pending", "pod", pod.Namespace+"/"+pod.Name, "reason", u.Message, "detail", u.Detail)
	return nil
}

// ErrNoHost is returned for the logs of, or an exec in, a pod the
// scheduler left Pending, as the API server refuses them.
var ErrNoHost = errors.New("does not have a host assigned")

// unassigned refuses what needs the pod's containers when st is a pod
// the scheduler left Pending: it has none.
func unassigned(st *state.Pod) error {
	if st.Stage != state.StagePending {
		return nil
	}
	var why string
	if c := st.FindCondition(string(corev1.PodScheduled)); c != nil {
		why = ": " + c.Message
	}
	return fmt.Errorf("pod %s %w: it is Pending%s", st.Name, ErrNoHost, why)
}

// pendingWarning is the line that says why pod p is Pending, located in
// its manifest; verb is "is" (apply) or "would be" (render).
func pendingWarning(p kube.Pod, u *Unschedulable, verb string) string {
	msg := fmt.Sprintf("%s: pod %s %s Pending: %s: %s", p.At(u.Field), p.Pod.Name, verb, ReasonUnschedulable, u.Message)
	if u.Detail != "" {
		msg += " (" + u.Detail + ")"
	}
	return msg
}

// PendingWarning says why pod p, as applied, is Pending, for apply to
// show: "FILE:LINE: pod NAME is Pending: Unschedulable: MESSAGE", at the
// field asking for what the node lacks; "" when the pod is not Pending.
func (r *Runner) PendingWarning(p kube.Pod) string {
	k, err := state.PodKey(p.Pod.Namespace, p.Pod.Name)
	if err != nil {
		return ""
	}
	st, err := r.pod(k).dir.Read()
	if err != nil || st.Stage != state.StagePending {
		return ""
	}
	u := &Unschedulable{Field: "metadata.name"}
	if c := st.FindCondition(string(corev1.PodScheduled)); c != nil {
		u.Message = c.Message
	}
	// The field and the pod in the way, as they are now.
	pod := manifest(st)
	if others, err := r.placedPods(); err == nil {
		if now := unschedulable(Node(), pod, translate.Sandbox(pod, translate.Layout{}).Ports, others); now != nil && now.Message == u.Message {
			u = now
		}
	}
	return pendingWarning(p, u, "is")
}

// pendingAction is what applying pod again does to the pod recorded
// Pending in st, with the same spec: "configured" when its labels or
// annotations change (relabel), else "unchanged".
func pendingAction(st *state.Pod, pod *corev1.Pod) string {
	var old corev1.Pod
	if json.Unmarshal(st.Applied, &old) == nil && maps.Equal(old.Labels, pod.Labels) && maps.Equal(old.Annotations, pod.Annotations) {
		return "unchanged"
	}
	return "configured"
}

// relabel gives pod, as admitted when it was first applied (recorded in
// st), the labels and annotations of applied, keeping the annotations
// admission added (the LimitRanger's).
func relabel(pod *corev1.Pod, st *state.Pod, applied *corev1.Pod) *corev1.Pod {
	var first corev1.Pod
	_ = json.Unmarshal(st.Applied, &first)
	annotations := maps.Clone(applied.Annotations)
	for k, v := range pod.Annotations {
		if _, byUser := first.Annotations[k]; !byUser {
			if annotations == nil {
				annotations = map[string]string{}
			}
			annotations[k] = v
		}
	}
	pod.Labels, pod.Annotations = maps.Clone(applied.Labels), annotations
	return pod
}

// pending is a pod recorded Pending, as applied, with its record.
type pending struct {
	pod    kube.Pod
	record *state.Pod
}

// pendingPods are the pods recorded Pending, oldest first, as the
// scheduler's queue takes pods of one priority.
func (r *Runner) pendingPods() ([]pending, error) {
	entries, err := r.pods.List()
	if err != nil {
		return nil, err
	}
	var out []pending
	for _, e := range entries {
		st := e.Pod
		if st == nil || st.Stage != state.StagePending {
			continue
		}
		var pod corev1.Pod
		if json.Unmarshal(st.Applied, &pod) != nil {
			continue
		}
		out = append(out, pending{kube.Pod{Source: kube.Source{File: st.Source}, Pod: &pod}, st})
	}
	slices.SortStableFunc(out, func(a, b pending) int {
		return cmp.Or(a.record.Created.Compare(b.record.Created),
			cmp.Compare(a.record.Namespace, b.record.Namespace), cmp.Compare(a.record.Name, b.record.Name))
	})
	return out, nil
}

// SchedulePending starts the pods recorded Pending that fit on the node
// now, oldest first, as the scheduler places a waiting pod once the port
// it asks for is free, and returns those it started. A pod whose images
// cannot be had stays Pending; a pod whose start fails is torn down, as
// apply tears it down. Their errors are returned.
// Delete, DeletePods and apply call it whenever they free a hostPort;
// whatever else frees one (a workload's supervisor) calls it too.
func (r *Runner) SchedulePending(ctx context.Context) ([]PodRef, error) {
	queue, err := r.pendingPods()
	if err != nil || len(queue) == 0 {
		return nil, err
	}
	others, err := r.placedPods()
	if err != nil {
		return nil, err
	}
	// Those that would fit now, each as if those before it were placed;
	// place decides again under the lock.
	var fit []pending
	for _, q := range queue {
		ports := translate.Sandbox(q.pod.Pod, translate.Layout{}).Ports
		if unschedulable(Node(), q.pod.Pod, ports, others) == nil {
			fit = append(fit, q)
			others = append(others, placed{q.record.Namespace, q.record.Name, ports})
		}
	}
	if len(fit) == 0 {
		return nil, nil
	}
	if err := r.preflight(ctx); err != nil {
		return nil, err
	}
	net := sync.OnceValues(func() (*network.Network, error) { return network.Open(r.cfg.Network) })
	var started []PodRef
	var errs []error
	for _, q := range fit {
		// Each pod's images on their own: one that cannot be had leaves
		// its pod Pending, and not the others.
		images, err := r.resolveImages(ctx, []kube.Pod{q.pod}, nil)
		if err != nil {
			errs = append(errs, podError(q.pod, err))
			continue
		}
		ok, err := r.startPending(ctx, q, images, net)
		if ok {
			started = append(started, PodRef{q.record.Namespace, q.record.Name})
		}
		errs = append(errs, err)
	}
	return started, errors.Join(errs...)
}

// startPending starts pod q under its lock, if it is still the Pending
// pod that was listed: placed now, created as apply creates it, with its
// UID, creation time and events.
func (r *Runner) startPending(ctx context.Context, q pending, images map[string]*image.Image, net openNetwork) (bool, error) {
	k, err := state.PodKey(q.record.Namespace, q.record.Name)
	if err != nil {
		return false, err
	}
	h := r.pod(k)
	unlock, err := h.lock(ctx)
	if err != nil {
		return false, err
	}
	defer unlock()
	st, err := h.dir.Read()
	if err != nil || st.Stage != state.StagePending || st.UID != q.record.UID {
		return false, nil // deleted, started or replaced meanwhile
	}
	u, err := r.createPod(ctx, h, q.pod, images, net, turn{}, st)
	defer r.syncEndpoints(ctx, k.Namespace())
	if err != nil {
		err = podError(q.pod, err)
		if terr := r.teardown(context.WithoutCancel(ctx), h); terr != nil {
			err = fmt.Errorf("%w; rolling back: %w", err, terr)
		}
		return false, fmt.Errorf("starting pod %s, Pending until now: %w", k, err)
	}
	return u == nil, nil
}

// scheduleWaiting is the hook run after a hostPort is freed: it starts
// the Pending pods that fit now (SchedulePending). What it cannot start
// is logged: the command that freed the port has done what it was asked.
func (r *Runner) scheduleWaiting(ctx context.Context) {
	started, err := r.SchedulePending(context.WithoutCancel(ctx))
	for _, p := range started {
		r.cfg.Log.Info("started a pod that was Pending", "pod", p.Namespace+"/"+p.Name)
	}
	if err != nil {
		r.cfg.Log.Warn("starting the Pending pods that fit now", "error", err)
	}
}

// A turn orders the scheduler's step of the pods of one apply: each pod
// is placed after the one before it in the manifests, so that of two
// pods asking for one hostPort the first gets it, as the scheduler would
// place them in the order kubectl creates them. The zero turn waits for
// nothing.
type turn struct {
	after <-chan struct{} // closed once the pod before has been placed
	done  func()          // marks this pod placed (or given up)
}

// wait waits for the pod before to be placed.
func (t turn) wait(ctx context.Context) error {
	if t.after == nil {
		return nil
	}
	select {
	case <-t.after:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// placed lets the next pod be placed.
func (t turn) placed() {
	if t.done != nil {
		t.done()
	}
}

// turns are the turns of n pods, in order.
func turns(n int) []turn {
	out := make([]turn, n)
	var after chan struct{}
	for i := range out {
		ch := make(chan struct{})
		out[i] = turn{after: after, done: sync.OnceFunc(func() { close(ch) })}
		after = ch
	}
	return out
}
