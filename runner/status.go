package runner

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/podrun/podrun/kube/kubelet"
	"github.com/podrun/podrun/runner/flock"
	"github.com/podrun/podrun/runner/monitor"
	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/translate"
)

// Get returns pod namespace/name as the API server would show it: the
// manifest with a status that reflects the containers as they are now.
func (r *Runner) Get(ctx context.Context, namespace, name string) (*corev1.Pod, error) {
	k, err := state.PodKey(namespace, name)
	if err != nil {
		return nil, err
	}
	st, err := r.pod(k).dir.Read()
	if errors.Is(err, state.ErrNoState) {
		return nil, fmt.Errorf("pod %s: %w", k, ErrPodNotFound)
	}
	if err != nil {
		return nil, err
	}
	return r.status(k, st)
}

// List returns the pods of namespace ("" for every namespace), sorted by
// namespace and name.
func (r *Runner) List(ctx context.Context, namespace string) ([]corev1.Pod, error) {
	records, err := r.pods.List()
	if err != nil {
		return nil, err
	}
	var pods []corev1.Pod
	for _, e := range records {
		st := e.Pod
		if st == nil {
			continue
		}
		if namespace != "" && st.Namespace != namespace {
			continue
		}
		pod, err := r.status(e.Key, st)
		if err != nil {
			r.cfg.Log.Warn("skipping a pod whose state is unreadable", "pod", st.Name, "error", err)
			continue
		}
		pods = append(pods, *pod)
	}
	sort.Slice(pods, func(i, j int) bool {
		if pods[i].Namespace != pods[j].Namespace {
			return pods[i].Namespace < pods[j].Namespace
		}
		return pods[i].Name < pods[j].Name
	})
	return pods, nil
}

// status is pod k's status from its record st. A pod whose apply was cut
// short before its monitor started says so, with the stage it reached.
func (r *Runner) status(k state.Key, st *state.Pod) (*corev1.Pod, error) {
	st, interrupted := interruptedApply(r.pod(k), st)
	pod, err := podStatus(st)
	if err == nil && interrupted {
		pod.Status.Reason = ReasonApplyInterrupted
		pod.Status.Message = fmt.Sprintf("podrun apply stopped at stage %q, before any container was created: apply the pod again, or delete it.", st.Stage)
	}
	return pod, err
}

// ReasonApplyInterrupted is the status reason of a pod whose apply was
// killed before the pod's monitor started.
const ReasonApplyInterrupted = "ApplyInterrupted"

// interruptedApply reports whether st is what an apply left that stopped
// before starting the pod's monitor. Only when no command holds the pod's
// lock (none is making it still) is that so; the record is then read
// again under the lock, and returned.
func interruptedApply(h podHandle, st *state.Pod) (*state.Pod, bool) {
	if !unstarted(st) {
		return st, false
	}
	l, err := flock.TryExclusive(h.lockPath)
	if err != nil {
		return st, false
	}
	defer l.Unlock()
	settled, err := h.dir.Read()
	if err != nil {
		return st, false
	}
	return settled, unstarted(settled)
}

// unstarted reports whether apply recorded st but stopped before the
// monitor, and not to wait for a volume source or a node.
func unstarted(st *state.Pod) bool {
	return st.Stage.Before(state.StageMonitor) && st.Stage != state.StageWaiting && st.Stage != state.StagePending
}

// podStatus rebuilds a v1 Pod from its record. A container recorded as
// running whose process is gone (the machine rebooted, or someone killed
// it behind the monitor's back) is reported as the kubelet does:
// terminated, ContainerStatusUnknown, exit code 137. A pod whose monitor
// is gone is reported in phase Unknown, reason MonitorLost: nothing
// supervises its containers any more.
func podStatus(st *state.Pod) (*corev1.Pod, error) {
	var pod corev1.Pod
	if err := json.Unmarshal(st.Manifest, &pod); err != nil {
		return nil, fmt.Errorf("reading the manifest of pod %s: %w", st.Name, err)
	}
	pod.Status = corev1.PodStatus{
		HostIP:    st.HostIP,
		PodIP:     st.PodIP,
		StartTime: ptrTime(st.Created),
		QOSClass:  translate.QOSClass(&pod),
	}
	if st.HostIP != "" {
		pod.Status.HostIPs = []corev1.HostIP{{IP: st.HostIP}}
	}
	if st.PodIP != "" {
		pod.Status.PodIPs = []corev1.PodIP{{IP: st.PodIP}}
	}
	if st.Stage == state.StagePending {
		pod.Status.StartTime = nil // no kubelet has seen it
	}
	if !st.Deleting.IsZero() {
		pod.DeletionTimestamp = &metav1.Time{Time: st.Deleting}
		pod.DeletionGracePeriodSeconds = st.DeletionGracePeriod
	}
	// Without a live monitor no container will run again.
	supervised := st.Monitor.Alive()
	terminal := !supervised || !st.Deleting.IsZero()
	monitor.PodStatus(st, &pod, terminal, func(c state.Container) corev1.ContainerStatus { return containerStatus(c, supervised) })
	pod.Status.Conditions = recordedConditions(st)
	if len(pod.Status.Conditions) == 0 { // the monitor never ran
		pod.Status.Conditions = kubelet.Conditions(&pod)
		for i := range pod.Status.Conditions {
			pod.Status.Conditions[i].LastTransitionTime = pod.CreationTimestamp
		}
	}
	if monitorLost(st, pod.Status.Phase) {
		pod.Status.Phase = corev1.PodUnknown
		pod.Status.Reason = "MonitorLost"
		pod.Status.Message = "The pod's monitor is gone: nothing supervises its containers. Delete the pod, or apply it again."
		for i, c := range pod.Status.Conditions {
			if c.Type == corev1.PodReady || c.Type == corev1.ContainersReady {
				pod.Status.Conditions[i].Status = corev1.ConditionFalse
				pod.Status.Conditions[i].Reason = "MonitorLost"
				pod.Status.Conditions[i].Message = ""
			}
		}
	}
	return &pod, nil
}

// monitorLost reports whether a pod that has not finished lost its monitor.
func monitorLost(st *state.Pod, phase corev1.PodPhase) bool {
	return st.Monitor.Pid > 0 && !st.Monitor.Alive() && phase != corev1.PodSucceeded && phase != corev1.PodFailed
}

// recordedConditions are the conditions the monitor keeps, in the order
// the API server shows them.
func recordedConditions(st *state.Pod) []corev1.PodCondition {
	var out []corev1.PodCondition
	for _, typ := range []corev1.PodConditionType{corev1.PodInitialized, corev1.PodReady, corev1.ContainersReady, corev1.PodScheduled} {
		c := st.FindCondition(string(typ))
		if c == nil {
			continue
		}
		out = append(out, corev1.PodCondition{
			Type: typ, Status: corev1.ConditionStatus(c.Status), Reason: c.Reason, Message: c.Message,
			LastTransitionTime: metav1.NewTime(c.LastTransitionTime),
		})
	}
	return out
}

// containerStatus is a container's status from its record. Under a live
// monitor a recorded running container whose process has just exited is
// still reported running: the monitor records its exit in a moment.
func containerStatus(c state.Container, supervised bool) corev1.ContainerStatus {
	if c.State == state.Running && !c.Pid.Alive() && !supervised {
		c.State, c.Reason, c.ExitCode = state.Terminated, "ContainerStatusUnknown", 137
		c.Message = "The container could not be located when the pod was inspected"
	}
	return monitor.ContainerStatus(c)
}

func ptrTime(t time.Time) *metav1.Time {
	if t.IsZero() {
		return nil
	}
	return &metav1.Time{Time: t}
}

// Events returns what the pod's monitor recorded as a kubelet would post
// events, oldest first.
func (r *Runner) Events(ctx context.Context, namespace, name string) ([]corev1.Event, error) {
	k, err := state.PodKey(namespace, name)
	if err != nil {
		return nil, err
	}
	st, err := r.pod(k).dir.Read()
	if errors.Is(err, state.ErrNoState) {
		return nil, fmt.Errorf("pod %s: %w", k, ErrPodNotFound)
	}
	if err != nil {
		return nil, err
	}
	return podEvents(st), nil
}

func podEvents(st *state.Pod) []corev1.Event {
	var out []corev1.Event
	for _, e := range st.Events {
		out = append(out, corev1.Event{
			ObjectMeta: metav1.ObjectMeta{Namespace: st.Namespace},
			InvolvedObject: corev1.ObjectReference{
				Kind: "Pod", Namespace: st.Namespace, Name: st.Name, UID: types.UID(st.UID), FieldPath: e.Object,
			},
			Type: e.Type, Reason: e.Reason, Message: e.Message, Count: int32(e.Count),
			FirstTimestamp: metav1.NewTime(e.FirstTime), LastTimestamp: metav1.NewTime(e.LastTime),
			Source: corev1.EventSource{Component: cmp.Or(e.Component, "kubelet")},
		})
	}
	return out
}
