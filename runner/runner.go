package runner

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/flock"
	"github.com/podrun/podrun/runner/host"
	"github.com/podrun/podrun/runner/image"
	"github.com/podrun/podrun/runner/network"
	"github.com/podrun/podrun/runner/portdriver"
	"github.com/podrun/podrun/runner/runtime"
	"github.com/podrun/podrun/runner/services"
	"github.com/podrun/podrun/runner/state"
	"github.com/podrun/podrun/translate"
)

// Config is what a Runner needs to know about this machine and its user,
// and what it may allow. It is fixed at New: a Runner has no setters.
type Config struct {
	Root    string // images and other data that survive reboots
	RunRoot string // pods, bundles, mounts, logs, locks: gone on reboot
	Runtime string // OCI runtime binary: "runc", "crun" or a path; "" is runtime.Default()
	Network network.Config
	// Self is the podrun binary: re-executed as each pod's monitor and
	// bind-mounted into every infra container as its pause process.
	Self string
	Log  *slog.Logger
	// Pull says how Apply reaches registries (insecure registries,
	// progress); each pod's imagePullSecrets are added to it.
	Pull image.PullOptions

	// AllowUnsafeHostPaths lets hostPath volumes name /, the roots or the
	// runtime's state, which apply refuses by default (volumes.go).
	AllowUnsafeHostPaths bool
	// AllowedUnsafeSysctls are the sysctls ("net.core.somaxconn", or
	// prefix patterns as "net.core.*") pods may set beyond the kubelet's
	// safe set, as its --allowed-unsafe-sysctls (process.go).
	AllowedUnsafeSysctls []string
	// PullPolicy, if set, replaces every container's imagePullPolicy, as
	// Podman's and docker compose's --pull do: IfNotPresent lets images
	// loaded from archives run offline whatever their tag. "" keeps each
	// container's own policy, defaulted as the API server defaults it.
	PullPolicy corev1.PullPolicy
	// ServiceCIDR is the range Services get their ClusterIPs from, and
	// the cluster DNS address (kube.ClusterDNSIP); "" is
	// kube.DefaultServiceCIDR.
	ServiceCIDR string
	// ResolvConf is the host's resolver configuration (the kubelet's
	// --resolv-conf): pods with dnsPolicy Default get it, ClusterFirst
	// pods its search domains, and their resolver forwards to its
	// nameservers; "" is /etc/resolv.conf.
	ResolvConf string
	// PublishAddress is where LoadBalancer Services are published, their
	// status.loadBalancer.ingress; "" is DefaultPublishAddress.
	PublishAddress string
	// DataPlane, if set, carries Services and their endpoints into the
	// network (the service proxy); it is told each time they change.
	DataPlane services.DataPlane
	// PortDriver, set only rootless (in a user namespace that is not the
	// initial one), publishes hostPorts on the host through the holder's
	// slirp4netns (rootless_ports.go); nil publishes them with CNI alone.
	PortDriver *portdriver.Slirp
}

// Runner runs pods. Its methods are safe to call from several processes at
// once: every change to a pod happens under that pod's lock.
type Runner struct {
	cfg     Config
	images  *image.Store
	pods    *state.Store
	runtime *runtime.CLI
	// unstored are ConfigMaps and Secrets of the input that are not
	// stored: Render plans pods as if apply had stored them.
	unstored *kube.Set
	// unstoredServices are the Services of unstored as apply would
	// allocate them, whose variables Render gives the pods.
	unstoredServices []*corev1.Service
	// rendered are the pods Render admitted so far, which ResourceQuota
	// counts as apply would count them recorded.
	rendered []*corev1.Pod
	// dryRun is set by Render: planPod checks what apply checks and
	// writes what apply would, mounting and attaching nothing.
	dryRun bool
	// pauseLibs is what cfg.Self needs in the infra container when it is
	// dynamically linked (host.PauseLibs), found once per command.
	pauseLibs func() ([]string, error)
}

// New checks cfg and opens the stores under its roots.
func New(cfg Config) (*Runner, error) {
	if cfg.Root == "" || cfg.RunRoot == "" {
		return nil, fmt.Errorf("both a root and a run root are needed")
	}
	switch cfg.PullPolicy {
	case "", corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
	default:
		return nil, fmt.Errorf("unknown pull policy %q: want Always, IfNotPresent or Never", cfg.PullPolicy)
	}
	if cfg.ServiceCIDR == "" {
		cfg.ServiceCIDR = kube.DefaultServiceCIDR
	}
	if _, err := kube.ParseServiceCIDR(cfg.ServiceCIDR); err != nil {
		return nil, err
	}
	if cfg.ResolvConf == "" {
		cfg.ResolvConf = DefaultResolvConf
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Runtime == "" {
		cfg.Runtime = runtime.Default()
	}
	for _, dir := range []*string{&cfg.Root, &cfg.RunRoot, &cfg.ResolvConf} {
		abs, err := filepath.Abs(*dir)
		if err != nil {
			return nil, err
		}
		*dir = abs
	}
	if cfg.Network.CacheDir == "" {
		cfg.Network.CacheDir = filepath.Join(cfg.RunRoot, "cni", "cache")
	}
	if cfg.Network.LockFile == "" {
		cfg.Network.LockFile = filepath.Join(cfg.RunRoot, "cni", "lock")
	}
	images, err := image.Open(filepath.Join(cfg.Root, "images"))
	if err != nil {
		return nil, fmt.Errorf("opening the image store: %w", err)
	}
	images.Log = cfg.Log
	return &Runner{
		cfg:     cfg,
		images:  images,
		pods:    &state.Store{Dir: filepath.Join(cfg.RunRoot, "pods")},
		runtime: &runtime.CLI{Binary: cfg.Runtime, Root: filepath.Join(cfg.RunRoot, "runtime")},
		pauseLibs: sync.OnceValues(func() ([]string, error) {
			return host.PauseLibs(context.Background(), cfg.Self)
		}),
	}, nil
}

// Images is the runner's image store.
func (r *Runner) Images() *image.Store { return r.images }

// podHandle is where one pod's files and locks are: the one place their
// paths are derived (Runner.pod).
type podHandle struct {
	key    state.Key
	dir    *state.PodDir    // state.json and its short-held lock
	layout translate.Layout // bundles, namespaces, pod files, logs: under dir.Dir
	// lockPath serialises commands on the pod. It lives outside the
	// pod's directory, which teardown removes.
	lockPath string
}

// pod is the handle of pod k.
func (r *Runner) pod(k state.Key) podHandle {
	dir := r.pods.Pod(k)
	return podHandle{
		key:      k,
		dir:      dir,
		layout:   translate.Layout{Dir: dir.Dir},
		lockPath: filepath.Join(r.cfg.RunRoot, "locks", k.File()+".lock"),
	}
}

// lock takes the lock that serialises commands on the pod, returning its
// release.
func (h podHandle) lock(ctx context.Context) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(h.lockPath), 0o700); err != nil {
		return nil, err
	}
	l, err := flock.Exclusive(ctx, h.lockPath)
	if err != nil {
		return nil, fmt.Errorf("locking pod %s: %w", h.key, err)
	}
	return func() { _ = l.Unlock() }, nil
}

// containerID names the pod's container name (translate.InfraName for
// the infra) for the runtime: unique under podrun's runtime root and
// recognisable in `runc list`.
func (h podHandle) containerID(name string) string {
	return h.key.File() + "_" + name
}

// preflight checks, before anything is created, that the programs a pod
// needs are installed and that podrun can run as the pause process, and
// warns when the runtime is below podrun's floor.
func (r *Runner) preflight(ctx context.Context) error {
	if _, err := exec.LookPath(r.cfg.Runtime); err != nil {
		return fmt.Errorf("OCI runtime %q not found: run `make deps`, which builds the current runc into %s, or pick another with --runtime", r.cfg.Runtime, runtime.Bundled)
	}
	if _, err := os.Stat(r.cfg.Self); err != nil {
		return fmt.Errorf("finding the podrun binary for the pod monitor: %w", err)
	}
	if _, err := r.pauseLibs(); err != nil {
		return err
	}
	info, err := r.RuntimeInfo(ctx)
	if err != nil {
		return err
	}
	r.cfg.Log.Debug("runtime", "runtime", info.String())
	if err := runtime.Floor(info); err != nil {
		r.cfg.Log.Warn(err.Error())
	}
	return nil
}

// RuntimeInfo is what the OCI runtime podrun uses says of itself,
// remembered under the run root while the binary stays the same.
func (r *Runner) RuntimeInfo(ctx context.Context) (runtime.Info, error) {
	return runtime.CachedVersion(ctx, r.cfg.Runtime, filepath.Join(r.cfg.RunRoot, "runtime-version.json"))
}
