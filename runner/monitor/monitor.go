package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/kube/kubelet"
	"github.com/podrun/podrun/runner/host"
	"github.com/podrun/podrun/runner/ready"
	"github.com/podrun/podrun/runner/runtime"
	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/translate"
)

// Image is what the monitor needs to know of an image.
type Image struct {
	Layers     []string // unpacked layers, bottom first
	StopSignal string   // the image config's StopSignal, as it is written
}

// Config is what a monitor needs.
type Config struct {
	Pod     *state.PodDir
	Layout  translate.Layout
	Runtime *runtime.CLI
	// Image looks up an image by the reference the pod names.
	Image func(ref string) (Image, error)
	// Ready receives one JSON line, {} or {"error": "..."}, once every
	// container has been started or has failed to (or an init container
	// has failed once), and is then closed.
	Ready *os.File
	Log   *slog.Logger
	// Backoff is the restart back-off's base; zero is the kubelet's 10 s.
	Backoff time.Duration
	// Housekeeping is how often emptyDir sizeLimits are checked; zero is
	// the kubelet's 10 s.
	Housekeeping time.Duration
	// RefreshTokens rewrites the pod's volumes that hold service account
	// tokens, under the pod's lock; ctx is cancelled when the pod stops.
	RefreshTokens func(ctx context.Context) error
	// TokenRefresh, if set, replaces the kubelet's period of renewing
	// tokens (80% of their lifetime, at most 24 h): for tests.
	TokenRefresh time.Duration
	// Endpoints, if set, is called after a change of the pod's state
	// that Services see (its Ready condition, phase, address or
	// deletion) has been written, outside the pod's lock: it brings the
	// endpoints of the Services selecting the pod up to date.
	Endpoints func(ctx context.Context)
}

// Report is the one line written to Config.Ready, and read by the
// command that started the monitor.
type Report = ready.Report

type monitor struct {
	cfg   Config
	rt    *runtime.CLI // cfg.Runtime, killing what an interrupted exec started
	pod   *corev1.Pod
	netns string            // the pinned network namespace; "" for hostNetwork
	pin   []state.Namespace // the infra's namespaces to pin, as recorded
	podIP string

	inits, apps []*ctr
	// created are the container inits this monitor made, which
	// reapOrphans leaves to their own waits.
	created created

	halting  chan struct{} // closed when containers must stop and not restart
	haltOnce sync.Once
	reported sync.Once
}

// Run supervises the pod until it is told to stop, then stops it. An
// error before the report means the pod could not start; the caller
// tears it down.
func Run(ctx context.Context, cfg Config) error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return report(cfg.Ready, fmt.Errorf("becoming a child subreaper: %w", err))
	}
	stop := signalled()
	done := (&monitor{cfg: cfg}).timeStep("read state")
	m, err := newMonitor(cfg)
	if err != nil {
		return report(cfg.Ready, err)
	}
	st, err := cfg.Pod.Read()
	if err != nil {
		return report(cfg.Ready, fmt.Errorf("reading the pod's state: %w", err))
	}
	done()
	stopDNS, err := m.serveDNS(st.DNS)
	if err != nil {
		return report(cfg.Ready, err)
	}
	defer stopDNS()
	done = m.timeStep("infra")
	if err := m.startInfra(ctx, *st.Infra); err != nil {
		return report(cfg.Ready, err)
	}
	done()
	orphansDone := make(chan struct{})
	defer close(orphansDone)
	go m.reapOrphans(orphansDone)
	go m.enforceDeadline(st.Created)
	go m.enforceSizeLimits()
	go m.refreshTokens()
	lifecycleDone := make(chan struct{})
	go func() {
		defer close(lifecycleDone)
		m.live(ctx)
	}()
	select {
	case <-stop:
	case <-ctx.Done():
	}
	m.stopPod(context.WithoutCancel(ctx))
	<-lifecycleDone
	m.stopInfra(context.WithoutCancel(ctx), *st.Infra)
	return nil
}

// signalled is closed on SIGTERM or SIGINT.
func signalled() <-chan struct{} {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT)
	stop := make(chan struct{})
	go func() { <-sigs; close(stop) }()
	return stop
}

func newMonitor(cfg Config) (*monitor, error) {
	st, err := cfg.Pod.Read()
	if err != nil {
		return nil, fmt.Errorf("reading the pod's state: %w", err)
	}
	if st.Infra == nil {
		return nil, fmt.Errorf("the pod's state names no infra container")
	}
	var pod corev1.Pod
	if err := json.Unmarshal(st.Manifest, &pod); err != nil {
		return nil, fmt.Errorf("reading the pod's manifest: %w", err)
	}
	if cfg.Image == nil {
		cfg.Image = func(string) (Image, error) { return Image{}, errors.New("no image store") }
	}
	m := &monitor{cfg: cfg, rt: execRuntime(cfg.Runtime), pod: &pod, netns: st.NetNS, pin: st.Pin, podIP: st.PodIP, halting: make(chan struct{})}
	specs := map[string]corev1.Container{}
	for _, c := range pod.Spec.InitContainers {
		specs[c.Name] = c
	}
	for _, c := range pod.Spec.Containers {
		specs[c.Name] = c
	}
	for _, rec := range st.Containers {
		spec := specs[rec.Name]
		c := &ctr{m: m, name: rec.Name, id: rec.ID, image: rec.Image, role: kubelet.RoleOf(&pod.Spec, rec.Name), spec: spec,
			backoff: kubelet.Backoff{Base: cfg.Backoff}, settled: make(chan struct{})}
		if c.role != kubelet.App {
			m.inits = append(m.inits, c)
		} else {
			m.apps = append(m.apps, c)
		}
	}
	return m, nil
}

func report(w *os.File, err error) error {
	if w == nil {
		return err
	}
	var rep Report
	if err != nil {
		rep.Error = err.Error()
	}
	line, _ := json.Marshal(rep)
	_, _ = w.Write(append(line, '\n'))
	_ = w.Close()
	return err
}

// report tells the command that started the monitor that every
// container has been started (or has failed to), once, and records the
// stage as running itself, so that a pod whose apply was killed while it
// waited still reaches it.
func (m *monitor) report() {
	m.reported.Do(func() {
		m.update(func(s *state.Pod) {
			if s.Stage.Before(state.StageRunning) {
				s.Stage = state.StageRunning
			}
		})
		_ = report(m.cfg.Ready, nil)
	})
}

func (m *monitor) halted() bool {
	select {
	case <-m.halting:
		return true
	default:
		return false
	}
}

func (m *monitor) halt() { m.haltOnce.Do(func() { close(m.halting) }) }

// live is the pod's life: init containers in order, then app containers,
// then, once no app container will run again, the sidecars are stopped.
func (m *monitor) live(ctx context.Context) {
	defer m.report()
	m.update(func(s *state.Pod) {
		if len(m.inits) > 0 {
			for i := range s.Containers {
				if !configBlocked(&s.Containers[i]) {
					s.Containers[i].Reason = "PodInitializing"
				}
			}
		}
	})
	var sidecars sync.WaitGroup
	defer sidecars.Wait()
	if !m.runInits(ctx, &sidecars) {
		m.stopSidecars(ctx)
		return
	}
	m.update(func(s *state.Pod) {
		for i := range s.Containers {
			if !s.Containers[i].Init && s.Containers[i].State == state.Waiting && !configBlocked(&s.Containers[i]) {
				s.Containers[i].Reason = "ContainerCreating"
			}
		}
	})
	var apps sync.WaitGroup
	for _, c := range m.apps {
		apps.Add(1)
		go func() {
			defer apps.Done()
			c.supervise(ctx)
		}()
	}
	done := m.timeStep("apps")
	for _, c := range m.apps {
		<-c.settled
	}
	done()
	m.report()
	apps.Wait()
	m.stopSidecars(ctx)
}

// runInits runs the init containers in order: each regular one to
// success (its supervisor retries as the policy says), each sidecar until
// it has started (its startup probe passed: a run that ends before is
// restarted and the next init container waits), after which it keeps
// running. It reports whether the app containers may start.
func (m *monitor) runInits(ctx context.Context, sidecars *sync.WaitGroup) bool {
	for _, c := range m.inits {
		if m.halted() {
			return false
		}
		if c.role == kubelet.Sidecar {
			done := make(chan struct{})
			sidecars.Add(1)
			go func() {
				defer sidecars.Done()
				defer close(done)
				c.supervise(ctx)
			}()
			<-c.settled
			select {
			case <-done: // it gave up without ever starting
				return false
			default:
			}
			continue
		}
		if c.superviseInit(ctx) != 0 {
			return false
		}
	}
	return !m.halted()
}

// superviseInit runs a regular init container to its end; the first
// failure lets apply return, since a retried init container may take long.
func (c *ctr) superviseInit(ctx context.Context) int {
	done := make(chan int, 1)
	go func() { done <- c.supervise(ctx) }()
	for {
		select {
		case code := <-done:
			if code != 0 {
				c.m.report()
			}
			return code
		case <-time.After(100 * time.Millisecond):
			if rec := c.m.record(c.name); rec != nil && rec.State == state.Terminated && rec.ExitCode != 0 {
				c.m.report()
			}
		}
	}
}

// stopSidecars stops the running sidecars in reverse order, each with the
// pod's grace period, once no app container will run again.
func (m *monitor) stopSidecars(ctx context.Context) {
	m.halt()
	for i := len(m.inits) - 1; i >= 0; i-- {
		if c := m.inits[i]; c.role == kubelet.Sidecar {
			c.stop(ctx, m.podGrace())
		}
	}
}

// stopPod stops every container as the kubelet does when a pod is
// deleted: app containers (and a running init container) side by side,
// then sidecars in reverse order with what is left of the grace period.
func (m *monitor) stopPod(ctx context.Context) {
	m.stopPodGrace(ctx, m.deletionGrace())
}

// stopPodGrace is stopPod with the grace period given.
func (m *monitor) stopPodGrace(ctx context.Context, grace time.Duration) {
	deadline := time.Now().Add(grace)
	m.halt()
	var wg sync.WaitGroup
	for _, c := range append(append([]*ctr{}, m.apps...), m.inits...) {
		if c.role == kubelet.Sidecar {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.stop(ctx, grace)
		}()
	}
	wg.Wait()
	for i := len(m.inits) - 1; i >= 0; i-- {
		if c := m.inits[i]; c.role == kubelet.Sidecar {
			c.stop(ctx, max(time.Until(deadline), 2*time.Second))
		}
	}
}

// deletionGrace is the grace period delete asked for, else the pod's.
func (m *monitor) deletionGrace() time.Duration {
	var override *time.Duration
	if st, err := m.cfg.Pod.Read(); err == nil && st.DeletionGracePeriod != nil {
		d := time.Duration(*st.DeletionGracePeriod) * time.Second
		override = &d
	}
	return kubelet.GracePeriod(&m.pod.Spec, override)
}

func (m *monitor) podGrace() time.Duration { return kubelet.GracePeriod(&m.pod.Spec, nil) }

// enforceDeadline fails the pod once it has been active longer than its
// activeDeadlineSeconds: every container is stopped and none restarts.
func (m *monitor) enforceDeadline(created time.Time) {
	d := m.pod.Spec.ActiveDeadlineSeconds
	if d == nil {
		return
	}
	select {
	case <-m.halting:
		return
	case <-time.After(time.Until(created.Add(time.Duration(*d) * time.Second))):
	}
	msg := "Pod was active on the node longer than the specified deadline"
	m.update(func(s *state.Pod) {
		s.Phase, s.Reason, s.Message = state.PhaseFailed, "DeadlineExceeded", msg
		s.AddEvent(time.Now(), "Normal", "DeadlineExceeded", "", msg)
	})
	m.stopPod(context.Background())
}

// startInfra starts the infra container and pins the namespaces it made.
func (m *monitor) startInfra(ctx context.Context, c state.Container) error {
	done := m.timeStep("infra create")
	proc, err := m.create(ctx, c.ID, c.Name, nil)
	if err != nil {
		return fmt.Errorf("creating the infra container: %w", err)
	}
	done()
	done = m.timeStep("infra start")
	if err := m.rt.Start(ctx, c.ID); err != nil {
		return fmt.Errorf("starting the infra container: %w", err)
	}
	done()
	// The infra's init is this process's child, so its pid names it
	// until it is reaped: no need to ask the runtime again.
	pid := proc.Pid
	done = m.timeStep("pin namespaces")
	if err := pinNamespaces(pid, m.pin); err != nil {
		return err
	}
	done()
	defer m.timeStep("infra record")()
	return m.updateErr(func(s *state.Pod) {
		if s.Infra == nil {
			return
		}
		s.Infra.State = state.Running
		s.Infra.Reason = ""
		s.Infra.StartedAt = time.Now()
		s.Infra.Pid, _ = state.Identify(pid)
	})
}

// stopInfra kills the infra container once every other has stopped.
func (m *monitor) stopInfra(ctx context.Context, c state.Container) {
	if err := m.rt.Kill(ctx, c.ID, syscall.SIGKILL, false); err != nil {
		return
	}
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if s, err := m.rt.State(ctx, c.ID); err != nil || s.Status == runtime.StatusStopped {
			break
		}
	}
	m.update(func(s *state.Pod) {
		if s.Infra != nil {
			s.Infra.State, s.Infra.Pid = state.Terminated, state.Process{}
		}
	})
}

// pinNamespaces bind-mounts the namespace files of process pid (the
// infra's init) that the pod's state lists in Pin, at the paths recorded
// there, where the other containers' specs expect them.
func pinNamespaces(pid int, pin []state.Namespace) error {
	for _, ns := range pin {
		src := fmt.Sprintf("/proc/%d/ns/%s", pid, ns.Type)
		if err := os.MkdirAll(filepath.Dir(ns.Path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(ns.Path, nil, 0o444); err != nil {
			return err
		}
		if err := unix.Mount(src, ns.Path, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("pinning the pod's %s namespace: %w", ns.Type, err)
		}
	}
	return nil
}

// create runs the runtime's create verb for container id, its output
// going to logs: pipes, or for a tty container the terminal whose master
// the runtime sends on a console socket. The container's init is then
// this process's child: the runtime's create command has exited and we
// are the subreaper.
func (m *monitor) create(ctx context.Context, id, name string, logs *logPipes) (*os.Process, error) {
	bundle := m.cfg.Layout.Bundle(name)
	opts := runtime.CreateOpts{PidFile: filepath.Join(bundle, "pid")} // nil streams are /dev/null
	var cons *console
	switch {
	case logs != nil && logs.tty: // the runtime makes a terminal and sends its master
		var err error
		if cons, err = m.listenConsole(name); err != nil {
			return nil, err
		}
		defer cons.close()
		opts.ConsoleSocket = cons.path
	case logs != nil:
		opts.Stdio = runtime.Stdio{Stdin: m.stdin(name), Stdout: logs.outW, Stderr: logs.errW}
	}
	err := m.rt.Create(ctx, id, bundle, opts)
	if logs != nil {
		logs.closeWriters()
	}
	if err == nil && cons != nil {
		var master *os.File
		if master, err = cons.master(ctx); err == nil {
			logs.attachTerminal(master)
		}
	}
	if err != nil {
		return nil, err
	}
	pid, err := createdPid(opts.PidFile)
	if err != nil {
		if pid, err = m.pid(ctx, id); err != nil {
			return nil, err
		}
	}
	m.created.add(pid)
	restoreOOMScore(bundle, pid)
	return os.FindProcess(pid)
}

// restoreOOMScore gives a container whose spec sets no oom_score_adj the
// score the monitor had before protecting itself, instead of inheriting
// the monitor's -1000.
func restoreOOMScore(bundle string, pid int) {
	data, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return
	}
	var spec specs.Spec
	if json.Unmarshal(data, &spec) != nil || spec.Process == nil || spec.Process.OOMScoreAdj != nil {
		return
	}
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/oom_score_adj", pid), []byte(strconv.Itoa(inheritedOOMScore)), 0)
}

// inheritedOOMScore is the oom_score_adj this process started with.
var inheritedOOMScore int

// ProtectFromOOM makes the monitor the last process the OOM killer picks,
// remembering its score for the containers it starts. In a user namespace
// that is not the initial one the kernel refuses any score below the one
// inherited (CAP_SYS_RESOURCE of the initial namespace), so the monitor
// keeps its own there, and so do its containers.
func ProtectFromOOM() error {
	data, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return err
	}
	inheritedOOMScore, _ = strconv.Atoi(string(trimNewline(data)))
	if host.InUserNS() {
		return nil
	}
	return os.WriteFile("/proc/self/oom_score_adj", []byte("-1000"), 0)
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return b
}

// createdPid reads the pid file the runtime's create wrote: the
// container's init, this process's child, as `runc state` would report
// it, without running the runtime again.
func createdPid(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(string(trimNewline(data)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s holds no pid: %q", path, data)
	}
	return pid, nil
}

func (m *monitor) pid(ctx context.Context, id string) (int, error) {
	s, err := m.rt.State(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("asking the runtime for container %s: %w", id, err)
	}
	if s.Pid <= 0 {
		return 0, fmt.Errorf("container %s has no process (status %q)", id, s.Status)
	}
	return s.Pid, nil
}

// wait reaps a container's init and returns its exit code, as the kubelet
// reports it: the status, or 128+signal for a signalled process.
func wait(p *os.Process) (code, signal int) {
	ps, err := p.Wait()
	if err != nil {
		return 255, 0
	}
	ws, ok := ps.Sys().(syscall.WaitStatus) // os.Process gives syscall's type, not unix's
	if ok && ws.Signaled() {
		return 128 + int(ws.Signal()), int(ws.Signal())
	}
	return ps.ExitCode(), 0
}

// startErrorMessage is the runtime's own words where it gave any.
func startErrorMessage(err error) string {
	var rerr *runtime.Error
	if errors.As(err, &rerr) && rerr.Message != "" {
		return rerr.Message
	}
	return err.Error()
}

// record returns a copy of container name's record as on disk now.
func (m *monitor) record(name string) *state.Container {
	st, err := m.cfg.Pod.Read()
	if err != nil {
		return nil
	}
	return st.Container(name)
}

// update changes the pod's record, then brings its conditions up to date.
func (m *monitor) update(fn func(*state.Pod)) {
	if err := m.updateErr(fn); err != nil {
		m.cfg.Log.Error("updating the pod's state", "error", err)
	}
}

func (m *monitor) updateErr(fn func(*state.Pod)) error {
	var before, after endpointView
	_, err := m.cfg.Pod.Update(context.Background(), func(s *state.Pod) error {
		before = viewOf(s)
		fn(s)
		syncConditions(s, m.pod, m.halted() || !s.Deleting.IsZero(), time.Now())
		after = viewOf(s)
		return nil
	})
	if err == nil && before != after && m.cfg.Endpoints != nil {
		m.cfg.Endpoints(context.Background())
	}
	return err
}

// endpointView is what Services see of a pod's record.
type endpointView struct {
	ready    string
	phase    string
	podIP    string
	deleting bool
	running  int // containers running: all gone, the pod may have finished
}

func viewOf(s *state.Pod) endpointView {
	v := endpointView{phase: s.Phase, podIP: s.PodIP, deleting: !s.Deleting.IsZero()}
	if c := s.FindCondition(string(corev1.PodReady)); c != nil {
		v.ready = c.Status
	}
	for _, c := range s.Containers {
		if c.State == state.Running {
			v.running++
		}
	}
	return v
}

// event records a pod event.
func (m *monitor) event(typ, reason, object, message string) {
	m.update(func(s *state.Pod) { s.AddEvent(time.Now(), typ, reason, object, message) })
}
