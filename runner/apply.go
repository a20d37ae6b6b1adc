package runner

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/host"
	"github.com/podrun/podrun/runner/image"
	"github.com/podrun/podrun/runner/network"
	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/translate"
)

// Outcome is what happened to one object, in kubectl's words.
type Outcome struct {
	Kind            string // the resource, lower case, as kubectl prints it: "pod", "configmap"
	Namespace, Name string
	Action          string // "created", "configured", "unchanged" or "deleted"
}

// ErrPodExists is returned when a pod of that name runs with another spec.
var ErrPodExists = errors.New("pod exists with a different spec")

// Apply starts pods. Every image is resolved before anything is created;
// then the pods start side by side. Apply returns once every container of
// every pod has been started (or has failed to start, which its status
// records as a kubelet would), handing each pod to its monitor. A pod
// whose start fails is torn down completely; the others stay.
//
// Unlike DeletePods, Apply puts no bound on how many pods start at once:
// a pod's start lasts until its init containers are done, and one of
// them may wait for another pod of the same apply, which a full bound
// would hold back. CNI calls and hostPort checks are serialised by the
// network's locks; the rest is mounts and files here and a few runc
// calls in each pod's monitor.
func (r *Runner) Apply(ctx context.Context, pods []kube.Pod) ([]Outcome, error) {
	if err := r.preflight(ctx); err != nil {
		return nil, err
	}
	if err := r.checkPortFloor(pods); err != nil {
		return nil, err
	}
	timed := r.timeStep("resolve images")
	images, err := r.resolveImages(ctx, pods, nil)
	timed()
	if err != nil {
		return nil, err
	}
	// The network is opened once, by the first pod that has one of its own.
	net := sync.OnceValues(func() (*network.Network, error) { return network.Open(r.cfg.Network) })
	outcomes := make([]Outcome, len(pods))
	errs := make([]error, len(pods))
	turns := turns(len(pods))
	var wg sync.WaitGroup
	for i, p := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer turns[i].placed() // also when the pod never got to it
			outcomes[i], errs[i] = r.applyPod(ctx, p, images, net, turns[i])
		}()
	}
	wg.Wait()
	r.syncEndpoints(ctx, podNamespaces(pods)...)
	var done []Outcome
	rolledBack := false
	for i, o := range outcomes {
		if errs[i] == nil {
			done = append(done, o)
		}
		rolledBack = rolledBack || errs[i] != nil
	}
	if rolledBack { // the ports of the pods torn down are free
		r.scheduleWaiting(ctx)
	}
	return done, errors.Join(errs...)
}

func allContainers(spec *corev1.PodSpec) []corev1.Container {
	return append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...)
}

// applyPod creates one pod under its lock, or finds it unchanged. A pod
// the node cannot take yet is created Pending (PendingWarning says why).
func (r *Runner) applyPod(ctx context.Context, p kube.Pod, images map[string]*image.Image, net openNetwork, t turn) (Outcome, error) {
	pod := p.Pod
	out := Outcome{Kind: "pod", Namespace: pod.Namespace, Name: pod.Name, Action: "created"}
	k, err := state.PodKey(pod.Namespace, pod.Name)
	if err != nil {
		return out, fmt.Errorf("%s: %w", p.Source, err)
	}
	h := r.pod(k)
	unlock, err := h.lock(ctx)
	if err != nil {
		return out, err
	}
	defer unlock()

	dir := h.dir
	old, err := dir.Read()
	var prior *state.Pod // the pod's Pending record, when it stays the same pod
	switch {
	case err == nil && old.Stage == state.StagePending && sameSpec(old, pod):
		out.Action, prior = pendingAction(old, pod), old // placed now, if it fits
	case err == nil && old.Stage == state.StagePending:
		// Never started: replaced by the pod as applied now.
		if err := r.teardown(ctx, h); err != nil {
			return out, err
		}
	case err == nil && old.Monitor.Alive():
		if sameSpec(old, pod) {
			// Labels and annotations may change in place (volumes_live.go).
			out.Action, err = r.updateMetadata(ctx, h, pod)
			return out, err
		}
		return out, podExists(p)
	case err == nil && waitingForVolumes(old) && sameSpec(old, pod):
		if msg, werr := r.waitingFor(pod); werr == nil && msg != "" {
			out.Action = "unchanged" // still waiting, maybe for something else now
			if len(old.Containers) > 0 && old.Containers[0].Message != msg {
				err = r.recordWaiting(ctx, h, pod, msg)
			}
			return out, err
		}
		if err := r.teardown(ctx, h); err != nil {
			return out, err
		}
	case err == nil || exists(dir.Dir):
		// The remains of a pod whose apply was killed half-way, or whose
		// monitor is gone: finish them off and start afresh.
		r.cfg.Log.Warn("removing the remains of an earlier pod", "pod", pod.Name, "stage", remainsStage(old))
		if err := r.teardown(ctx, h); err != nil {
			return out, err
		}
	}

	// A pod the node cannot take is recorded Pending: PendingWarning says why.
	if _, err := r.createPod(ctx, h, p, images, net, t, prior); err != nil {
		err = podError(p, err) // one located line per error it joins
		if terr := r.teardown(context.WithoutCancel(ctx), h); terr != nil {
			err = errors.Join(err, podError(p, fmt.Errorf("rolling back: %w", terr)))
		}
		return out, err
	}
	return out, nil
}

// openNetwork opens the CNI network, once for every pod of an apply.
type openNetwork func() (*network.Network, error)

// remainsStage is how far the remains of a pod had come, for the log.
func remainsStage(st *state.Pod) string {
	switch {
	case st == nil:
		return "unrecorded"
	case st.Stage == "":
		return "unknown"
	}
	return string(st.Stage)
}

// sameSpec reports whether the pod recorded in st was applied with the
// spec of pod. It compares what the user applied (st.Applied), not what
// admission made of it, as kubectl compares its last-applied
// configuration: the token volume's name is random, and a ServiceAccount
// or LimitRange changed since does not change a running pod.
func sameSpec(st *state.Pod, pod *corev1.Pod) bool {
	manifest := st.Applied
	if len(manifest) == 0 {
		manifest = st.Manifest // recorded before podrun kept Applied
	}
	var old corev1.Pod
	if json.Unmarshal(manifest, &old) != nil {
		return false
	}
	if pod.Spec.NodeName == "" {
		old.Spec.NodeName = "" // set by apply, not by the manifest
	}
	a, _ := json.Marshal(old.Spec)
	b, _ := json.Marshal(pod.Spec)
	return bytes.Equal(a, b)
}

// createPod is apply's sequence of named steps, for pod p at h. Each
// step records what it made in the pod's state before the next begins, so
// that teardown, on failure now or at a later delete, finds everything,
// and then the stage it completed (state.Stage). The first step is the
// scheduler's, in the pod's turn: a pod the node cannot take is recorded
// Pending, and its verdict returned. prior is the pod's Pending record
// when it was Pending until now: it is the pod admitted then, with its
// UID and creation time.
func (r *Runner) createPod(ctx context.Context, h podHandle, p kube.Pod, images map[string]*image.Image, net openNetwork, t turn, prior *state.Pod) (*Unschedulable, error) {
	if err := t.wait(ctx); err != nil {
		return nil, err
	}
	pod, unlock, err := r.admitted(ctx, p, prior)
	if err != nil {
		return nil, err
	}
	dir, l := h.dir, h.layout
	sandbox := translate.Sandbox(pod, l)

	defer r.timeStep("total", "pod", pod.Name)()
	done := r.timeStep("record")
	u, st, err := r.place(ctx, dir, p, pod, sandbox, prior)
	done()
	t.placed()
	unlock() // recorded, the pod counts against its namespace's quotas
	if err != nil || u != nil {
		return u, err
	}
	r.reached(dir, state.StageCreated)
	return nil, r.startPod(ctx, h, p, pod, st, sandbox, images, net)
}

// admitted is pod p as admitted, under its namespace's admission lock,
// which the caller releases once the pod is recorded. A pod Pending until
// now (prior) was admitted then: it is the pod recorded, placed on the
// node now, and it counts against its quotas already.
func (r *Runner) admitted(ctx context.Context, p kube.Pod, prior *state.Pod) (*corev1.Pod, func(), error) {
	if prior != nil {
		pod := relabel(manifest(prior), prior, p.Pod)
		if pod.Spec.NodeName == "" {
			pod.Spec.NodeName = nodeName()
		}
		return pod, func() {}, nil
	}
	unlock, err := r.admissionLock(ctx, p.Pod.Namespace)
	if err != nil {
		return nil, nil, err
	}
	pod, err := r.newPod(p)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	return pod, unlock, nil
}

// startPod carries out the steps after the pod is placed and recorded as
// st: the network, root file systems, volumes and bundles, then the
// monitor.
func (r *Runner) startPod(ctx context.Context, h podHandle, p kube.Pod, pod *corev1.Pod, st *state.Pod, sandbox translate.SandboxPlan, images map[string]*image.Image, net openNetwork) error {
	dir, l := h.dir, h.layout
	var done func()
	pp, err := r.planPod(pod, l, images, hostSteps{
		network: func() (string, error) {
			podIP, err := r.attachNetwork(ctx, dir, st, pod, sandbox, net)
			if err == nil {
				r.reached(dir, state.StageNetwork)
			}
			return podIP, err
		},
		rootfs: func() (map[string]fs.FS, error) {
			if err := r.mountRootfs(pod, l, images); err != nil {
				return nil, err
			}
			return mountedUsers(pod, l), nil
		},
	})
	if err == nil {
		for _, w := range pp.warnings(p) {
			r.cfg.Log.Warn(w)
		}
	}
	switch {
	case err != nil:
		return err
	case pp.Plan == nil:
		return r.recordWaiting(ctx, h, pod, pp.WaitsFor) // as the kubelet: the pod waits
	}
	if err := r.recordContainers(h, pp); err != nil {
		return err
	}
	done = r.timeStep("record image IDs")
	err = recordImageIDs(ctx, dir, images)
	done()
	if err != nil {
		return err
	}
	if err := r.recordStage(ctx, dir, state.StageBundles); err != nil {
		return err
	}
	defer r.timeStep("monitor")()
	return r.startMonitor(ctx, h)
}

// recordStage records that the pod has reached stage.
func (r *Runner) recordStage(ctx context.Context, dir *state.PodDir, stage state.Stage) error {
	_, err := dir.Update(ctx, func(s *state.Pod) error { s.Stage = stage; return nil })
	if err != nil {
		return fmt.Errorf("recording stage %s: %w", stage, err)
	}
	r.reached(dir, stage)
	return nil
}

// reached logs, at debug level, that the pod's state records stage.
func (r *Runner) reached(dir *state.PodDir, stage state.Stage) {
	r.cfg.Log.Debug("pod stage", "pod", dir.Key.String(), "stage", string(stage))
}

// recordPod writes the pod's first state: what it is and its sandbox's
// plan, nothing made yet. A pod Pending until now (prior) keeps its
// events, and the scheduler's Scheduled one is added.
func (r *Runner) recordPod(dir *state.PodDir, p kube.Pod, pod *corev1.Pod, sandbox translate.SandboxPlan, prior *state.Pod) (*state.Pod, error) {
	manifest, err := json.Marshal(pod)
	if err != nil {
		return nil, err
	}
	applied, err := json.Marshal(p.Pod)
	if err != nil {
		return nil, err
	}
	dns, err := r.podDNS(pod)
	if err != nil {
		return nil, err
	}
	st := &state.Pod{
		UID:       string(pod.UID),
		Namespace: pod.Namespace,
		Name:      pod.Name,
		Source:    p.Source.String(),
		Manifest:  manifest,
		Applied:   applied,
		Created:   pod.CreationTimestamp.Time,
		HostIP:    host.IP(),
		Stage:     state.StageCreated,
		NetNS:     sandbox.NetNS,
		Ports:     statePorts(sandbox.Ports),
		Pin:       stateNamespaces(sandbox.Pin),
		DNS:       dns,
	}
	if prior != nil {
		st.Events = prior.Events
		st.AddEventFrom(time.Now(), SchedulerName, corev1.EventTypeNormal, ReasonScheduled, "",
			fmt.Sprintf("Successfully assigned %s/%s to %s", pod.Namespace, pod.Name, pod.Spec.NodeName))
	}
	if err := dir.Write(st); err != nil {
		return nil, fmt.Errorf("recording the pod: %w", err)
	}
	return st, nil
}

// plan asks translate for the pod's plan, handing it every impure fact.
// users is where translate reads each container's /etc/passwd and
// /etc/group: the mounted root file systems at apply, the layers at render.
func (r *Runner) plan(pod *corev1.Pod, l translate.Layout, podIP string, images map[string]*image.Image, users map[string]fs.FS, vols map[string]string) (*translate.Plan, error) {
	facts, err := host.Facts()
	if err != nil {
		return nil, err
	}
	if err := r.hostDNS(&facts); err != nil {
		return nil, err
	}
	pauseLibs, err := r.pauseLibs()
	if err != nil {
		return nil, err
	}
	in := translate.Input{
		Pod:    pod,
		Images: map[string]translate.Image{},
		Host:   facts,
		Layout: l,
		PodIP:  podIP,
		Pause:  r.cfg.Self,
		UserDB: users,
	}
	in.PauseLibs = pauseLibs
	in.Volumes = vols
	for _, c := range allContainers(&pod.Spec) {
		img := images[c.Image]
		in.Images[c.Name] = translateImage(img)
	}
	if err := r.processInput(&in); err != nil {
		return nil, err
	}
	plan, err := translate.Pod(in)
	if err != nil {
		return nil, err
	}
	return plan, nil
}

func translateImage(img *image.Image) translate.Image {
	c := img.Config
	return translate.Image{
		Ref: img.Ref, Env: c.Env, Entrypoint: c.Entrypoint, Cmd: c.Cmd,
		WorkingDir: c.WorkingDir, User: c.User, StopSignal: c.StopSignal,
		Volumes: slices.Sorted(maps.Keys(c.Volumes)),
	}
}

func newUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
