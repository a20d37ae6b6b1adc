package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/runner/supervise"
)

// SuperviseCommand is the hidden podrun verb that runs a workload's
// supervisor (runner/supervise).
const SuperviseCommand = "supervise"

// ErrWorkloadNotFound is returned for a workload that does not exist.
var ErrWorkloadNotFound = supervise.ErrNotFound

// WorkloadsDir is the store of workloads, under the run root.
const WorkloadsDir = "workloads"

// Workloads is the store of workloads: <run-root>/workloads.
func (r *Runner) Workloads() supervise.Store {
	return supervise.Store{Dir: filepath.Join(r.cfg.RunRoot, WorkloadsDir)}
}

// Supervisors start, find again and stop the workloads' supervisors.
func (r *Runner) Supervisors() *supervise.Supervisors {
	return &supervise.Supervisors{Store: r.Workloads(), Self: r.cfg.Self, Args: r.SuperviseArgs, Log: r.cfg.Log}
}

// EnsureSupervisors restarts the supervisor of every workload whose
// supervisor is gone: the first step of apply, get and delete.
func (r *Runner) EnsureSupervisors(ctx context.Context) error {
	return r.Supervisors().EnsureAll(ctx)
}

// SuperviseArgs is the command line, after the binary, of workload k's
// supervisor: this runner's configuration, so that the pods it starts
// are started as this command would start them.
func (r *Runner) SuperviseArgs(k supervise.Key) []string {
	c := r.cfg
	args := []string{"--root", c.Root, "--run-root", c.RunRoot, "--runtime", c.Runtime}
	if c.Network.Name != "" {
		args = append(args, "--network", c.Network.Name)
	}
	if c.Network.ConfDir != "" {
		args = append(args, "--cni-config-dir", c.Network.ConfDir)
	}
	if len(c.Network.PluginDirs) > 0 {
		args = append(args, "--cni-plugin-dir", strings.Join(c.Network.PluginDirs, string(filepath.ListSeparator)))
	}
	for _, reg := range c.Pull.Insecure {
		args = append(args, "--insecure-registry", reg)
	}
	if c.Log.Enabled(context.Background(), -4) { // slog.LevelDebug
		args = append(args, "--log-level", "debug")
	} else {
		args = append(args, "--log-level", "info")
	}
	args = append(args, SuperviseCommand, k.Kind, k.Namespace(), k.Name())
	if c.PullPolicy != "" {
		args = append(args, "--pull-policy", string(c.PullPolicy))
	}
	if c.AllowUnsafeHostPaths {
		args = append(args, "--allow-unsafe-host-paths")
	}
	for _, s := range c.AllowedUnsafeSysctls {
		args = append(args, "--allowed-unsafe-sysctls", s)
	}
	return args
}

// ApplyWorkload records obj, a workload of kind (lower case: "deployment"),
// as applied, and makes sure its supervisor runs, which then makes its
// pods: apply does not wait for them. The object keeps the uid and
// creation time of an earlier apply; its generation grows when its spec
// changes. Under the workload's lock, the object is written atomically;
// if no supervisor can be started, a first apply is undone and a re-apply
// puts the old object back.
func (r *Runner) ApplyWorkload(ctx context.Context, kind string, obj metav1.Object) (Outcome, error) {
	out := Outcome{Kind: kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
	k, err := supervise.NewKey(kind, obj.GetNamespace(), obj.GetName())
	if err != nil {
		return out, err
	}
	d := r.Workloads().Workload(k)
	_, statErr := os.Stat(d.Path)
	created := errors.Is(statErr, os.ErrNotExist)
	if err := d.Create(); err != nil {
		return out, err
	}
	l, err := d.Lock(ctx)
	if err != nil {
		return out, err
	}
	defer l.Unlock()
	old, err := d.ReadObject()
	if err != nil && !errors.Is(err, supervise.ErrNotFound) {
		return out, err
	}
	data, action, err := supervise.Stamp(old, obj, time.Now())
	if err != nil {
		return out, err
	}
	out.Action = action
	if err := r.recordWorkload(ctx, d, data); err != nil {
		if rerr := undoApply(d, created, old); rerr != nil {
			err = errors.Join(err, fmt.Errorf("rolling back: %w", rerr))
		}
		return out, err
	}
	return out, nil
}

// recordWorkload writes the object and the supervisor's command line,
// then starts the supervisor unless it runs. A re-apply with other
// options (--network, --pull...) restarts it with them, so that the pods
// it starts from then on are started as this apply would.
func (r *Runner) recordWorkload(ctx context.Context, d *supervise.Dir, data []byte) error {
	if err := d.WriteObject(data); err != nil {
		return err
	}
	rec, err := d.Read()
	if err != nil {
		return err
	}
	if !rec.Deleting.IsZero() {
		return fmt.Errorf("workload %s is being deleted: delete it again to finish, then apply", d.Key)
	}
	args := r.SuperviseArgs(d.Key)
	if slices.Equal(rec.Args, args) {
		return r.Supervisors().EnsureLocked(ctx, d)
	}
	before := rec.Args
	rec.Args = args
	if err := d.Write(rec); err != nil {
		return err
	}
	err = r.Supervisors().Restart(ctx, d)
	if err != nil {
		if rec, rerr := d.Read(); rerr == nil {
			rec.Args = before
			err = errors.Join(err, d.Write(rec))
		}
	}
	return err
}

// undoApply removes a workload that a failed first apply made, or puts
// back the object a failed re-apply replaced.
func undoApply(d *supervise.Dir, created bool, old []byte) error {
	if created || old == nil {
		return d.Remove()
	}
	return d.WriteObject(old)
}

// Cascade is how deleting a workload treats its pods, as kubectl's
// --cascade.
type Cascade string

const (
	// CascadeBackground deletes the pods. Without an API server's garbage
	// collector to leave it to, podrun deletes them before it returns, as
	// with CascadeForeground.
	CascadeBackground Cascade = "background"
	// CascadeForeground deletes the pods, then the workload.
	CascadeForeground Cascade = "foreground"
	// CascadeOrphan keeps the pods running and removes their
	// ownerReference to the workload.
	CascadeOrphan Cascade = "orphan"
)

// DeleteWorkloadOptions tune DeleteWorkload.
type DeleteWorkloadOptions struct {
	Cascade Cascade // "" is CascadeBackground
	Pods    DeleteOptions
}

// DeleteWorkload deletes workload kind namespace/name: it records that the
// workload is being deleted (no supervisor starts again), stops its
// supervisor (SIGTERM, then SIGKILL after supervise.StopTimeout), deletes or
// orphans the pods it owns, and removes its directory. A workload already
// gone is ErrWorkloadNotFound. A delete that fails or is killed half-way
// leaves the workload marked, and the next delete finishes it.
func (r *Runner) DeleteWorkload(ctx context.Context, kind, namespace, name string, opts DeleteWorkloadOptions) error {
	k, err := supervise.NewKey(kind, namespace, name)
	if err != nil {
		return err
	}
	switch opts.Cascade {
	case "", CascadeBackground, CascadeForeground, CascadeOrphan:
	default:
		return fmt.Errorf("unknown cascade %q: want background, foreground or orphan", opts.Cascade)
	}
	d := r.Workloads().Workload(k)
	l, err := d.Lock(ctx)
	if err != nil {
		return err
	}
	defer l.Unlock()
	if err := r.Supervisors().Stop(ctx, d); err != nil {
		return fmt.Errorf("deleting %s: %w", k, err)
	}
	uids, err := d.UIDs()
	if err != nil && !errors.Is(err, supervise.ErrNotFound) {
		return fmt.Errorf("deleting %s: %w", k, err)
	}
	if err := r.cascade(ctx, namespace, uids, opts); err != nil {
		return fmt.Errorf("deleting %s: %w", k, err)
	}
	return d.Remove()
}

// cascade deletes, or orphans, the pods and the claims owned by one of
// uids: the workload's and its owned objects'.
func (r *Runner) cascade(ctx context.Context, namespace string, uids []string, opts DeleteWorkloadOptions) error {
	uids = slices.DeleteFunc(uids, func(u string) bool { return u == "" })
	if len(uids) == 0 {
		return nil
	}
	pods, err := r.List(ctx, namespace)
	if err != nil {
		return err
	}
	owned := supervise.Owned(pods, uids...)
	var errs []error
	if opts.Cascade == CascadeOrphan {
		for _, p := range owned {
			errs = append(errs, r.orphan(ctx, p.Namespace, p.Name, uids))
		}
		errs = append(errs, r.cascadeClaims(namespace, uids, true))
		return errors.Join(errs...)
	}
	refs := make([]PodRef, len(owned))
	for i, p := range owned {
		refs[i] = PodRef{p.Namespace, p.Name}
	}
	if _, err = deletedPods(refs, r.DeletePods(ctx, refs, opts.Pods)); err != nil {
		return err
	}
	return r.cascadeClaims(namespace, uids, false)
}

// orphan removes, from pod namespace/name's records, its ownerReferences
// to uids, as the garbage collector does for --cascade=orphan. The
// objects a workload owns go with it (podrun keeps no ReplicaSet without
// its Deployment), so the pods lose their references to those too.
func (r *Runner) orphan(ctx context.Context, namespace, name string, uids []string) error {
	k, err := state.PodKey(namespace, name)
	if err != nil {
		return err
	}
	h := r.pod(k)
	unlock, err := h.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	_, err = h.dir.Update(ctx, func(st *state.Pod) error {
		for _, raw := range []*json.RawMessage{&st.Manifest, &st.Applied} {
			if len(*raw) == 0 {
				continue
			}
			var p corev1.Pod
			if err := json.Unmarshal(*raw, &p); err != nil {
				return err
			}
			var keep []metav1.OwnerReference
			for _, ref := range p.OwnerReferences {
				if !slices.Contains(uids, string(ref.UID)) {
					keep = append(keep, ref)
				}
			}
			p.OwnerReferences = keep
			data, err := json.Marshal(&p)
			if err != nil {
				return err
			}
			*raw = data
		}
		return nil
	})
	if errors.Is(err, state.ErrNoState) {
		return nil // gone meanwhile
	}
	return err
}

// SuperviseOptions tune Supervise.
type SuperviseOptions struct {
	// Ready receives the supervisor's ready line.
	Ready *os.File
}

// Supervise runs the supervisor of workload kind namespace/name in this
// process, with controller c, until it is stopped or the workload is
// gone (runner/supervise).
func (r *Runner) Supervise(ctx context.Context, kind, namespace, name string, c supervise.Controller, opts SuperviseOptions) error {
	k, err := supervise.NewKey(kind, namespace, name)
	if err != nil {
		return err
	}
	if b, ok := c.(runnerController); ok {
		c = b.withRunner(r)
	}
	return supervise.Run(ctx, supervise.Config{
		Dir:        r.Workloads().Workload(k),
		PodsDir:    r.pods.Dir,
		Controller: c,
		World:      &world{r: r, source: kind + "/" + name, monitors: map[int]bool{}},
		Ready:      opts.Ready,
		Log:        r.cfg.Log,
	})
}

// runnerController is a controller that needs the runner itself beside
// its Env: a StatefulSet's claims, the node a DaemonSet runs on.
type runnerController interface {
	withRunner(r *Runner) supervise.Controller
}

// world is a supervisor's World: the runner's own list, apply and delete.
type world struct {
	r      *Runner
	source string // where its pods are said to come from
	// monitors are the pod monitors this process started, which are its
	// children until they exit: a long-lived supervisor must reap them.
	mu       sync.Mutex
	monitors map[int]bool
}

// ListPods lists the pods, after reaping the monitors of pods deleted
// since the last step (each deletion wakes a step).
func (w *world) ListPods(ctx context.Context, namespace string) ([]corev1.Pod, error) {
	w.reap()
	return w.r.List(ctx, namespace)
}

// reap collects the exit of every monitor this process started that has
// exited. Only those pids are waited for, so that no exit status is
// taken from a command the runner is running (os/exec waits for its own).
func (w *world) reap() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for pid := range w.monitors {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		if got == pid || err != nil { // exited and reaped, or not our child
			delete(w.monitors, pid)
		}
	}
}

// started remembers the monitors of pods this process started.
func (w *world) started(pods []kube.Pod) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range pods {
		k, err := state.PodKey(p.Pod.Namespace, p.Pod.Name)
		if err != nil {
			continue
		}
		if st, err := w.r.pod(k).dir.Read(); err == nil && st.Monitor.Pid > 0 {
			w.monitors[st.Monitor.Pid] = true
		}
	}
}

// ApplyPods validates and defaults the pods as a manifest's are (so that
// a template is held to what the API server holds a pod to), then starts
// them as apply does.
func (w *world) ApplyPods(ctx context.Context, pods []*corev1.Pod) error {
	objs := make([]kube.Object, len(pods))
	for i, p := range pods {
		p = p.DeepCopy()
		p.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
		objs[i] = kube.Object{Source: kube.Source{File: w.source}, Kind: "Pod", Object: p}
	}
	set, err := kube.Expand(objs, kube.Options{Namespace: pods[0].Namespace})
	if err != nil {
		return err
	}
	_, err = w.r.Apply(ctx, set.Pods)
	w.started(set.Pods)
	return err
}

func (w *world) DeletePods(ctx context.Context, namespace string, names []string) error {
	refs := make([]PodRef, len(names))
	for i, n := range names {
		refs[i] = PodRef{namespace, n}
	}
	_, err := deletedPods(refs, w.r.DeletePods(ctx, refs, DeleteOptions{}))
	return err
}

var _ supervise.World = (*world)(nil)

// Workload is a workload as get and describe show it.
type Workload struct {
	Kind, Namespace, Name string
	// Object is the object as applied, with the status its controller
	// last recorded: what `get -o json` prints.
	Object json.RawMessage
	// Supervised is whether its supervisor is alive; Deleting whether a
	// delete has begun.
	Supervised, Deleting bool
	Events               []state.Event
	// Owned are the objects it owns besides pods (a Deployment's
	// ReplicaSets), with the status their controller recorded in them.
	Owned []supervise.OwnedObject
}

// GetWorkload returns workload kind namespace/name, or an object of kind
// that a workload owns (a Deployment's ReplicaSet), or
// ErrWorkloadNotFound.
func (r *Runner) GetWorkload(kind, namespace, name string) (*Workload, error) {
	k, err := supervise.NewKey(kind, namespace, name)
	if err != nil {
		return nil, err
	}
	return r.getOrOwned(k)
}

// ListWorkloads returns the workloads of kind in namespace ("" for every
// namespace), and the objects of kind that workloads own (a Deployment's
// ReplicaSets), sorted by namespace and name. Those half-deleted or
// unreadable are skipped.
func (r *Runner) ListWorkloads(kind, namespace string) ([]Workload, error) {
	keys, err := r.Workloads().List()
	if err != nil {
		return nil, err
	}
	var out []Workload
	for _, k := range keys {
		if k.Kind != kind || (namespace != "" && k.Namespace() != namespace) {
			continue
		}
		w, err := r.workload(k)
		if err != nil {
			if !errors.Is(err, ErrWorkloadNotFound) {
				r.cfg.Log.Warn("skipping a workload whose state is unreadable", "workload", k.String(), "error", err)
			}
			continue
		}
		out = append(out, *w)
	}
	return r.withOwned(out, keys, kind, namespace), nil
}

func (r *Runner) workload(k supervise.Key) (*Workload, error) {
	d := r.Workloads().Workload(k)
	obj, err := d.ReadObject()
	if err != nil {
		return nil, err
	}
	rec, err := d.Read()
	if err != nil {
		return nil, err
	}
	owned, err := d.ReadOwned()
	if err != nil {
		return nil, err
	}
	if len(rec.Status) > 0 {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(obj, &m); err != nil {
			return nil, fmt.Errorf("decoding workload %s: %w", k, err)
		}
		m["status"] = rec.Status
		if obj, err = json.Marshal(m); err != nil {
			return nil, err
		}
	}
	return &Workload{
		Kind: k.Kind, Namespace: k.Namespace(), Name: k.Name(),
		Object:     obj,
		Supervised: rec.Supervisor.Alive(),
		Deleting:   !rec.Deleting.IsZero(),
		Events:     rec.Events,
		Owned:      owned,
	}, nil
}
