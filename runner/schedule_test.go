package runner

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/kube/controllers"
	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/translate"
)

const (
	msgPorts    = "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports."
	msgAffinity = "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."
)

// schedPod is pod name with one container publishing hostPort (none
// when 0), and edit applied to its spec.
func schedPod(name string, hostPort int32, edit func(*corev1.PodSpec)) *corev1.Pod {
	c := corev1.Container{Name: "app", Image: "img"}
	if hostPort != 0 {
		c.Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: hostPort, Protocol: corev1.ProtocolTCP}}
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}, Spec: corev1.PodSpec{Containers: []corev1.Container{c}}}
	if edit != nil {
		edit(&pod.Spec)
	}
	return pod
}

func TestUnschedulable(t *testing.T) {
	node := controllers.Node{Name: "box", Labels: map[string]string{
		corev1.LabelHostname: "box", corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64"}}
	port := func(hostPort int32, protocol, hostIP string) []translate.Port {
		return []translate.Port{{HostPort: hostPort, ContainerPort: 80, Protocol: protocol, HostIP: hostIP}}
	}
	a := placed{"default", "a", port(8080, "tcp", "")}
	selector := func(m map[string]string) func(*corev1.PodSpec) {
		return func(s *corev1.PodSpec) { s.NodeSelector = m }
	}
	required := func(key string, op corev1.NodeSelectorOperator, values ...string) func(*corev1.PodSpec) {
		return func(s *corev1.PodSpec) {
			s.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: key, Operator: op, Values: values}}}}}}}
		}
	}
	tests := []struct {
		name   string
		pod    *corev1.Pod
		ports  []translate.Port
		others []placed
		want   *Unschedulable
	}{
		{name: "nothing asked", pod: schedPod("b", 0, nil)},
		{name: "a free port", pod: schedPod("b", 8081, nil), ports: port(8081, "tcp", ""), others: []placed{a}},
		{name: "a published port", pod: schedPod("b", 8080, nil), ports: port(8080, "tcp", ""), others: []placed{a},
			want: &Unschedulable{Message: msgPorts, Field: "spec.containers[0].ports[0].hostPort", Detail: "hostPort 8080/TCP is published by pod default/a"}},
		{name: "another protocol", pod: schedPod("b", 8080, nil), ports: port(8080, "udp", ""), others: []placed{a}},
		{name: "one address against every address", pod: schedPod("b", 8080, nil), ports: port(8080, "tcp", "127.0.0.1"), others: []placed{a},
			want: &Unschedulable{Message: msgPorts, Field: "spec.containers", Detail: "hostPort 8080/TCP is published by pod default/a"}},
		{name: "two addresses", pod: schedPod("b", 8080, nil), ports: port(8080, "tcp", "127.0.0.1"),
			others: []placed{{"default", "a", port(8080, "tcp", "127.0.0.2")}}},
		{name: "its own record", pod: schedPod("a", 8080, nil), ports: port(8080, "tcp", ""), others: []placed{a}},
		{name: "this node's labels", pod: schedPod("b", 0, selector(map[string]string{corev1.LabelOSStable: "linux", corev1.LabelHostname: "box"}))},
		{name: "a label this node lacks", pod: schedPod("b", 0, selector(map[string]string{"disktype": "ssd"})),
			want: &Unschedulable{Message: msgAffinity, Field: "spec.nodeSelector"}},
		{name: "required affinity met", pod: schedPod("b", 0, required(corev1.LabelArchStable, corev1.NodeSelectorOpIn, "amd64", "arm64"))},
		{name: "required affinity unmet", pod: schedPod("b", 0, required(corev1.LabelHostname, corev1.NodeSelectorOpIn, "other")),
			want: &Unschedulable{Message: msgAffinity, Field: "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"}},
		{name: "the node first, then the ports", pod: schedPod("b", 8080, selector(map[string]string{"disktype": "ssd"})),
			ports: port(8080, "tcp", ""), others: []placed{a}, want: &Unschedulable{Message: msgAffinity, Field: "spec.nodeSelector"}},
		{name: "tolerations with no taints", pod: schedPod("b", 0, func(s *corev1.PodSpec) {
			s.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists}}
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := unschedulable(node, tt.pod, tt.ports, tt.others)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("verdict (-want +got):\n%s", diff)
			}
		})
	}
}

var cmpIgnoreTime = cmpopts.IgnoreFields(corev1.PodCondition{}, "LastTransitionTime")

// TestNodeLabels: the node carries the labels a kubelet gives its node.
func TestNodeLabels(t *testing.T) {
	n := Node()
	host, _ := os.Hostname()
	if n.Name != host || n.Labels[corev1.LabelHostname] != host || n.Labels[corev1.LabelOSStable] != "linux" ||
		n.Labels[corev1.LabelArchStable] == "" || len(n.Taints) != 0 {
		t.Errorf("node %+v", n)
	}
}

// recordPlaced records pod name as placed and running, publishing ports.
func recordPlaced(t *testing.T, r *Runner, name string, ports ...state.Port) {
	t.Helper()
	k, _ := state.PodKey("default", name)
	h := r.pod(k)
	if err := os.MkdirAll(h.dir.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := h.dir.Write(&state.Pod{Namespace: "default", Name: name, Stage: state.StageRunning, Ports: ports}); err != nil {
		t.Fatal(err)
	}
}

// TestPendingPodStatus: a pod asking for a hostPort another pod publishes
// is created Pending, as the scheduler leaves it: no node, no start time,
// no container statuses, the condition PodScheduled False (Unschedulable)
// and a FailedScheduling event from the default-scheduler, both with the
// scheduler's message; nothing is made for it. Applied again unchanged it
// stays the same pod, Pending, the event counted twice.
func TestPendingPodStatus(t *testing.T) {
	ctx := context.Background()
	r := verdictRunner(t)
	recordPlaced(t, r, "a", state.Port{ContainerPort: 80, HostPort: 18080, Protocol: "tcp"})
	p := kube.Pod{Source: kube.Source{File: "pods.yaml", Line: 20}, Pod: schedPod("b", 18080, nil)}
	out, err := r.applyPod(ctx, p, verdictImages, nil, turn{})
	if err != nil || out.Action != "created" {
		t.Fatalf("apply: %+v, %v", out, err)
	}
	pod, err := r.Get(ctx, "default", "b")
	if err != nil {
		t.Fatal(err)
	}
	st := pod.Status
	if st.Phase != corev1.PodPending || pod.Spec.NodeName != "" || st.StartTime != nil || st.HostIP != "" || st.PodIP != "" ||
		len(st.ContainerStatuses) != 0 || st.Reason != "" {
		t.Errorf("status %+v, node %q", st, pod.Spec.NodeName)
	}
	want := []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable", Message: msgPorts}}
	if diff := cmp.Diff(want, st.Conditions, cmpIgnoreTime); diff != "" {
		t.Errorf("conditions (-want +got):\n%s", diff)
	}
	events, err := r.Events(ctx, "default", "b")
	if err != nil || len(events) != 1 {
		t.Fatalf("events %+v, %v", events, err)
	}
	if e := events[0]; e.Type != corev1.EventTypeWarning || e.Reason != "FailedScheduling" || e.Message != msgPorts ||
		e.Source.Component != "default-scheduler" || e.Count != 1 {
		t.Errorf("event %+v", e)
	}
	if got := r.PendingWarning(p); got != "pods.yaml:20: pod b is Pending: Unschedulable: "+msgPorts+" (hostPort 18080/TCP is published by pod default/a)" {
		t.Errorf("warning %q", got)
	}
	if err := r.Logs(ctx, "default", "b", LogOptions{}, io.Discard); !errors.Is(err, ErrNoHost) || !strings.Contains(err.Error(), msgPorts) {
		t.Errorf("logs of a Pending pod: %v, want %v with the reason", err, ErrNoHost)
	}
	if _, err := r.Exec(ctx, "default", "b", ExecOptions{Args: []string{"true"}}); !errors.Is(err, ErrNoHost) {
		t.Errorf("exec in a Pending pod: %v, want %v", err, ErrNoHost)
	}
	k, _ := state.PodKey("default", "b")
	if _, err := os.Stat(r.pod(k).layout.Namespace("net")); !os.IsNotExist(err) {
		t.Errorf("a network namespace for a Pending pod: %v", err)
	}

	out, err = r.applyPod(ctx, p, verdictImages, nil, turn{})
	if err != nil || out.Action != "unchanged" {
		t.Fatalf("apply again: %+v, %v", out, err)
	}
	again, err := r.Get(ctx, "default", "b")
	if err != nil || again.UID != pod.UID || !again.CreationTimestamp.Equal(&pod.CreationTimestamp) || again.Status.Phase != corev1.PodPending {
		t.Errorf("applied again: %+v, %v; want uid %s, Pending", again, err, pod.UID)
	}
	if events, _ := r.Events(ctx, "default", "b"); len(events) != 1 || events[0].Count != 2 {
		t.Errorf("events applied again: %+v", events)
	}
	// Applied with a label more, it is configured, still the same pod.
	p.Pod.Labels = map[string]string{"tier": "web"}
	if out, err := r.applyPod(ctx, p, verdictImages, nil, turn{}); err != nil || out.Action != "configured" {
		t.Fatalf("apply with a label: %+v, %v", out, err)
	}
	if relabelled, err := r.Get(ctx, "default", "b"); err != nil || relabelled.UID != pod.UID || relabelled.Labels["tier"] != "web" {
		t.Errorf("applied with a label: %+v, %v", relabelled, err)
	}

	// The pod that now holds the port is not a Pending one.
	if others, _ := r.placedPods(); len(others) != 1 || others[0].name != "a" {
		t.Errorf("placed pods %+v, want a alone", others)
	}
}

// TestPendingNodeSelector: a pod whose nodeSelector this node does not
// match is Pending with the scheduler's message, located at its
// nodeSelector; a pod naming its node itself is not the scheduler's.
func TestPendingNodeSelector(t *testing.T) {
	ctx := context.Background()
	r := verdictRunner(t)
	set, err := kube.LoadSet([]string{"-"}, strings.NewReader(`apiVersion: v1
kind: Pod
metadata:
  name: ssd
spec:
  nodeSelector:
    disktype: ssd
  containers:
  - name: app
    image: img
`), kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := set.Pods[0]
	if _, err := r.applyPod(ctx, p, verdictImages, nil, turn{}); err != nil {
		t.Fatal(err)
	}
	pod, err := r.Get(ctx, "default", "ssd")
	if err != nil || pod.Status.Phase != corev1.PodPending || len(pod.Status.Conditions) != 1 || pod.Status.Conditions[0].Message != msgAffinity {
		t.Fatalf("pod %+v, %v", pod, err)
	}
	if got := r.PendingWarning(p); !strings.HasSuffix(got, ":6: pod ssd is Pending: Unschedulable: "+msgAffinity) {
		t.Errorf("warning %q", got)
	}
	if !scheduled(p) {
		t.Error("a pod without nodeName is not the scheduler's")
	}
	p.Pod.Spec.NodeName = "box"
	if scheduled(p) {
		t.Error("a pod naming its node is the scheduler's")
	}
}

// TestPendingQueueOrder: the Pending pods are taken oldest first, and
// SchedulePending leaves alone those that still do not fit.
func TestPendingQueueOrder(t *testing.T) {
	r := verdictRunner(t)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, name := range []string{"c", "a", "b"} {
		p := kube.Pod{Pod: schedPod(name, 18080, nil)}
		pod := p.Pod.DeepCopy()
		pod.UID = types.UID("uid-" + name)
		pod.CreationTimestamp = metav1.NewTime(base.Add(time.Duration(i) * time.Minute))
		k, _ := state.PodKey("default", name)
		h := r.pod(k)
		if err := os.MkdirAll(h.dir.Dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := r.recordPending(h.dir, p, pod, &Unschedulable{Message: msgPorts}, nil); err != nil {
			t.Fatal(err)
		}
	}
	queue, err := r.pendingPods()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, q := range queue {
		names = append(names, q.record.Name)
	}
	if diff := cmp.Diff([]string{"c", "a", "b"}, names); diff != "" {
		t.Errorf("queue (-want +got):\n%s", diff)
	}
	recordPlaced(t, r, "holder", state.Port{ContainerPort: 80, HostPort: 18080, Protocol: "tcp"})
	if started, err := r.SchedulePending(context.Background()); err != nil || len(started) != 0 {
		t.Errorf("SchedulePending with the port held: %v, %v", started, err)
	}
}

// TestTurns: each pod of an apply is placed after the one before it.
func TestTurns(t *testing.T) {
	ts := turns(3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := ts[0].wait(ctx); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error)
	go func() { waited <- ts[2].wait(ctx) }()
	ts[0].placed()
	select {
	case err := <-waited:
		t.Fatalf("the third pod went before the second: %v", err)
	default:
	}
	ts[1].placed()
	ts[1].placed() // twice is once
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
}

// TestRelabel: a Pending pod applied again takes the labels and
// annotations applied, and keeps those admission added.
func TestRelabel(t *testing.T) {
	first := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "1"}, Annotations: map[string]string{"note": "x"}}}
	applied, _ := json.Marshal(first)
	admitted := first.DeepCopy()
	admitted.Annotations["kubernetes.io/limit-ranger"] = "LimitRanger plugin set: cpu request"
	again := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"b": "2"}}}
	got := relabel(admitted, &state.Pod{Applied: applied}, again)
	want := metav1.ObjectMeta{Labels: map[string]string{"b": "2"}, Annotations: map[string]string{"kubernetes.io/limit-ranger": "LimitRanger plugin set: cpu request"}}
	if diff := cmp.Diff(want, got.ObjectMeta); diff != "" {
		t.Errorf("metadata (-want +got):\n%s", diff)
	}
}
