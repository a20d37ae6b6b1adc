package translate

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Image is what translate needs of an image: its reference and the
// runtime part of its config.
type Image struct {
	Ref        string
	Env        []string
	Entrypoint []string
	Cmd        []string
	WorkingDir string
	User       string
	StopSignal string
	Volumes    []string // the image config's VOLUMEs
}

// Host holds the facts about the machine that shape a spec.
type Host struct {
	CgroupV2   bool
	Rootless   bool
	NodeName   string // spec.nodeName, the machine's hostname
	HostIP     string
	ResolvConf []byte // the host's resolv.conf (the kubelet's --resolv-conf), as read
	// ClusterDNS are the cluster DNS addresses (the kubelet's
	// --cluster-dns) that pods whose resolver is the cluster's
	// (ClusterDNS) name; none gives them the host's configuration, as
	// the kubelet does without cluster DNS.
	ClusterDNS []string
	Hosts      []byte // the host's /etc/hosts, for hostNetwork pods
	// Allocatable is what a limit-less container may use, as the node's
	// allocatable cpu and memory, for resourceFieldRef and oom_score_adj.
	Allocatable corev1.ResourceList
	// SwapAccounting says the kernel accounts swap in the memory cgroup,
	// so that a memory limit can forbid swap too, as the kubelet does.
	SwapAccounting bool
	// Devices are the host's devices, which privileged containers get.
	Devices []specs.LinuxDevice
	// Capabilities are those podrun holds (its bounding set), which
	// privileged containers and "ALL" get; nil means every one.
	Capabilities []string
	// SeccompDefault is the RuntimeDefault seccomp profile.
	SeccompDefault *SeccompProfile
	// AppArmor says AppArmor is enabled on the machine, so that a
	// container's profile can be applied.
	AppArmor bool
	// UserNS says podrun runs in a user namespace that is not the initial
	// one (rootless, in the per-user namespace holder): the specs ask
	// nothing of the kernel that it refuses there (userns.go).
	UserNS UserNS
}

// UserNS is what a spec must respect when podrun runs in a user namespace
// that is not the initial one. The zero value is the initial namespace.
type UserNS struct {
	Nested bool
	// Cgroup says the cgroups under CgroupParent can be created and
	// written there (root prepared and chowned them for the user); without
	// it the specs carry no cgroup path and no limits.
	Cgroup bool
	// OOMScoreAdj is podrun's own oom_score_adj: without CAP_SYS_RESOURCE
	// in the initial namespace no container may go below it.
	OOMScoreAdj int
	// RlimitHard are podrun's hard limits by rlimit name (RLIMIT_NOFILE):
	// no container may ask for more.
	RlimitHard map[string]uint64
}

// Input is everything Pod needs; nothing else is read.
type Input struct {
	Pod    *corev1.Pod      // validated and defaulted (kube.Pods)
	Images map[string]Image // by container name, init containers included
	Host   Host
	Layout Layout
	PodIP  string // empty for hostNetwork pods
	// Pause is the host path of the binary that the infra container runs
	// as its pause process (the podrun binary itself).
	Pause string
	// PauseLibs are what Pause needs to start in the infra container's
	// empty root when it is dynamically linked: absolute host paths of its
	// ELF interpreter and shared libraries, each bind-mounted read-only at
	// the same path. Empty for a static binary.
	PauseLibs []string
	// UserDB reads /etc/passwd and /etc/group of a container's rootfs, to
	// resolve a named image USER. Keyed by container name.
	UserDB map[string]fs.FS
	// Volumes are the host paths of the pod's volumes, by name, as the
	// runner prepared them (volumes.go).
	Volumes map[string]string
	// ConfigMaps and Secrets are the objects of the pod's namespace, by
	// name, that its containers' env and envFrom may read.
	ConfigMaps map[string]*corev1.ConfigMap
	Secrets    map[string]*corev1.Secret
	// Services are the Services of the pod's namespace, by name, as they
	// are when the pod's bundles are made: their variables are in every
	// container's environment (serviceEnv). The kubelet reads them at each
	// container start instead.
	Services []*corev1.Service
	// SeccompProfiles are the Localhost profiles the pod names, by their
	// localhostProfile path.
	SeccompProfiles map[string]*SeccompProfile
	// AllowedUnsafeSysctls are sysctls (or "prefix*" patterns) allowed
	// beyond the kubelet's safe set, as its --allowed-unsafe-sysctls.
	AllowedUnsafeSysctls []string
}

// Plan is everything the runner must do to start a pod, decided here.
type Plan struct {
	Infra      Container
	Init       []Container // run in order, each to completion
	Containers []Container // started together
	Files      []File      // written before any container starts
	Mounts     []Mount     // pod-level mounts made before any container starts
	SandboxPlan
	// SubPaths and ImageVolumes are prepared by the runner before the
	// containers that mount them are created (volumes.go).
	SubPaths     []SubPath
	ImageVolumes []ImageVolume
	// Warnings are things the kubelet would record as warning events,
	// such as envFrom keys skipped for not being variable names.
	Warnings []Warning `json:",omitempty"`
}

// Warning is a problem that does not stop the pod, about one field.
type Warning struct {
	Field   string // its path in the pod: spec.containers[0].envFrom[1]
	Message string
}

func (w Warning) String() string { return w.Field + ": " + w.Message }

// SandboxPlan is the part of a plan that concerns the pod's sandbox: its
// network and the infra's namespaces. It needs no pod IP, so the runner has
// it before the pod's network exists (Sandbox); Pod embeds the same value.
type SandboxPlan struct {
	Ports []Port
	// NetNS is where the runner creates and pins the pod's own network
	// namespace, and runs CNI in it, before the infra starts. Empty for
	// hostNetwork pods, which stay in the host's.
	NetNS string
	// Pin lists the infra's namespaces ("ipc", "uts", "pid") that init and
	// app containers join by path: once the infra runs, its monitor
	// bind-mounts each from /proc/<infra pid>/ns/<type> at its Path.
	Pin []PinnedNamespace
}

// PinnedNamespace is one namespace of the infra pinned at Path.
type PinnedNamespace struct {
	Type string // "ipc", "uts" or "pid"
	Path string // Layout.Namespace(Type)
}

// PodNetwork says the pod has a network namespace of its own.
func (s SandboxPlan) PodNetwork() bool { return s.NetNS != "" }

// Sandbox plans pod's sandbox: its hostPort mappings, its network
// namespace, and the infra's namespaces the other containers join.
func Sandbox(pod *corev1.Pod, l Layout) SandboxPlan {
	s := SandboxPlan{Ports: hostPorts(pod), Pin: pinned(&pod.Spec, l)}
	if !pod.Spec.HostNetwork {
		s.NetNS = l.Namespace("net")
	}
	return s
}

// Container is one container of the plan.
type Container struct {
	Name  string // InfraName for the infra container
	Image string // reference; empty for the infra container
	Spec  *specs.Spec
	// ConfigError, when set, keeps the container from starting: it waits
	// with reason CreateContainerConfigError and this message, as the
	// kubelet's message reads (`configmap "x" not found`).
	ConfigError string `json:",omitempty"`
	// ConfigErrorField is the path of the field ConfigError is about
	// (spec.containers[0].env[1].valueFrom), else of the container.
	ConfigErrorField string `json:",omitempty"`
}

// File is a pod-level file, such as the Kubernetes-managed /etc/hosts.
type File struct {
	Path string // absolute, under Layout.Dir
	Data []byte
	Mode fs.FileMode
}

// Mount is a pod-level mount, such as the pod-wide /dev/shm tmpfs.
type Mount struct {
	Target  string // absolute, under Layout.Dir
	Type    string // "tmpfs"
	Source  string
	Options []string
}

// Port is one hostPort mapping, in the shape of CNI's portMappings capability.
type Port struct {
	HostPort      int32
	ContainerPort int32
	Protocol      string // "tcp", "udp" or "sctp"
	HostIP        string // empty: every address
}

// Annotations set on every spec, as containerd's CRI plugin and the
// kubelet name them, so that tools looking at runc's state see what is what.
const (
	AnnotationContainerType    = "io.kubernetes.cri.container-type" // ContainerTypeSandbox or ContainerTypeContainer
	AnnotationSandboxID        = "io.kubernetes.cri.sandbox-id"     // the pod's uid
	AnnotationSandboxName      = "io.kubernetes.cri.sandbox-name"
	AnnotationSandboxNamespace = "io.kubernetes.cri.sandbox-namespace"
	AnnotationSandboxUID       = "io.kubernetes.cri.sandbox-uid"
	AnnotationContainerName    = "io.kubernetes.cri.container-name"
	AnnotationImageName        = "io.kubernetes.cri.image-name"
	AnnotationPodName          = "io.kubernetes.pod.name"
	AnnotationPodNamespace     = "io.kubernetes.pod.namespace"
	AnnotationPodUID           = "io.kubernetes.pod.uid"
	AnnotationKubeContainer    = "io.kubernetes.container.name"

	ContainerTypeSandbox   = "sandbox"
	ContainerTypeContainer = "container"
)

// CgroupParent is the cgroup under which a pod's containers live:
// /podrun/<pod uid>. Each container's cgroupsPath is CgroupParent/<name>
// (CgroupParent/POD for the infra). The runner removes the parent when it
// deletes the pod.
func CgroupParent(pod *corev1.Pod) string {
	return path.Join("/podrun", string(pod.UID))
}

// podContext holds what every container of one pod shares.
type podContext struct {
	in       Input
	warnings []Warning
	hostname string // in the pod's UTS namespace; the node's name on the host network
	mounts   []specs.Mount
}

// Pod translates in into a plan. Its errors do not name the pod, which
// the caller knows and names once; those about a field of the pod are,
// or wrap, a *FieldError, so that the caller can give the field's line.
func Pod(in Input) (*Plan, error) {
	if in.Pod == nil {
		return nil, errors.New("translating pod: no pod")
	}
	if in.Pod.UID == "" {
		return nil, fmt.Errorf("translating pod %q: metadata.uid: Required value", in.Pod.Name)
	}
	return translatePod(in)
}

func translatePod(in Input) (*Plan, error) {
	spec := &in.Pod.Spec
	hostname, domain, err := podHostname(in.Pod)
	if err != nil {
		return nil, err
	}
	uts, err := kernelHostname(in.Pod, hostname, domain)
	if err != nil {
		return nil, err
	}
	var podIPs []string
	if in.PodIP != "" {
		podIPs = []string{in.PodIP}
	}
	p := &podContext{in: in, hostname: uts}
	if spec.HostNetwork {
		p.hostname = in.Host.NodeName
	}
	files, err := podFiles(in, p.hostname, podIPs, hostname, domain)
	if err != nil {
		return nil, err
	}
	plan := &Plan{Files: files, SandboxPlan: Sandbox(in.Pod, in.Layout)}
	shm := "/dev/shm"
	if !spec.HostIPC {
		shm = in.Layout.Shm()
		plan.Mounts = append(plan.Mounts, Mount{
			Target: shm, Type: "tmpfs", Source: "shm",
			Options: []string{"nosuid", "nodev", "noexec", "mode=1777", "size=65536k"},
		})
	}
	rw := []string{"rbind", "rprivate", "rw"}
	p.mounts = []specs.Mount{
		{Destination: "/etc/hostname", Type: "bind", Source: in.Layout.EtcFile("hostname"), Options: rw},
		{Destination: "/etc/hosts", Type: "bind", Source: in.Layout.EtcFile("hosts"), Options: rw},
		{Destination: "/etc/resolv.conf", Type: "bind", Source: in.Layout.EtcFile("resolv.conf"), Options: rw},
		{Destination: "/dev/shm", Type: "bind", Source: shm, Options: rw},
	}
	if plan.Infra, err = p.infra(shm); err != nil {
		return nil, err
	}
	for i := range spec.InitContainers {
		c, err := p.container(&spec.InitContainers[i], field.NewPath("spec", "initContainers").Index(i))
		if err != nil {
			return nil, err
		}
		plan.Init = append(plan.Init, c)
	}
	for i := range spec.Containers {
		c, err := p.container(&spec.Containers[i], field.NewPath("spec", "containers").Index(i))
		if err != nil {
			return nil, err
		}
		plan.Containers = append(plan.Containers, c)
	}
	plan.SubPaths, plan.ImageVolumes = volumePlan(in)
	plan.Files = append(plan.Files, p.terminationFiles()...)
	if in.Host.UserNS.Nested {
		p.warnings = append(p.warnings, inUserNS(plan, in.Host.UserNS)...)
	}
	plan.Warnings = p.warnings
	return plan, nil
}

// annotations are the CRI annotations of container name (InfraName for the
// infra) running image.
func (p *podContext) annotations(name, image string) map[string]string {
	pod := p.in.Pod
	a := map[string]string{
		AnnotationSandboxID:        string(pod.UID),
		AnnotationSandboxName:      pod.Name,
		AnnotationSandboxNamespace: pod.Namespace,
		AnnotationSandboxUID:       string(pod.UID),
		AnnotationPodName:          pod.Name,
		AnnotationPodNamespace:     pod.Namespace,
		AnnotationPodUID:           string(pod.UID),
	}
	if name == InfraName {
		a[AnnotationContainerType] = ContainerTypeSandbox
		return a
	}
	a[AnnotationContainerType] = ContainerTypeContainer
	a[AnnotationContainerName] = name
	a[AnnotationKubeContainer] = name
	a[AnnotationImageName] = image
	return a
}

// infra is the spec of the infra container: the pause process on an empty,
// read-only root, creating the pod's namespaces. Like containerd's sandbox
// it runs with no_new_privs set and /dev/shm mounted read-only.
func (p *podContext) infra(shm string) (Container, error) {
	l := p.in.Layout
	opts := []SpecOpt{
		WithRoot(l.Rootfs(InfraName), true),
		WithProcessArgs("/pause"),
		WithNoNewPrivileges(true),
		WithNamespaces(namespaces(&p.in.Pod.Spec, l, true)),
		WithCgroupsPath(path.Join(CgroupParent(p.in.Pod), InfraName)),
		WithAnnotations(p.annotations(InfraName, "")),
		WithMounts(
			specs.Mount{Destination: "/dev/shm", Type: "bind", Source: shm, Options: []string{"rbind", "ro", "nosuid", "nodev", "noexec"}},
			specs.Mount{Destination: "/pause", Type: "bind", Source: p.in.Pause, Options: []string{"rbind", "ro", "nosuid", "nodev"}},
		),
	}
	libs, err := pauseLibMounts(p.in.PauseLibs)
	if err != nil {
		return Container{}, err
	}
	opts = append(opts, WithMounts(libs...))
	if !p.in.Pod.Spec.HostNetwork {
		opts = append(opts, WithHostname(p.hostname))
	}
	sysctls, err := podSysctls(p.in.Pod, p.in.AllowedUnsafeSysctls)
	if err != nil {
		return Container{}, err
	}
	var sc corev1.SecurityContext
	if psc := p.in.Pod.Spec.SecurityContext; psc != nil {
		sc.SeccompProfile = psc.SeccompProfile
	}
	seccomp, err := p.seccomp(sc, defaultCapabilities(), field.NewPath("spec"))
	if err != nil {
		return Container{}, err
	}
	opts = append(opts, WithSysctls(sysctls), WithSeccomp(seccomp))
	s, err := newSpec(opts...)
	if err != nil {
		return Container{}, fmt.Errorf("translating infra container: %w", err)
	}
	return Container{Name: InfraName, Spec: s}, nil
}

// pauseLibMounts bind-mounts each of a dynamic pause binary's interpreter
// and libraries read-only at its own path.
func pauseLibMounts(libs []string) ([]specs.Mount, error) {
	var ms []specs.Mount
	for _, l := range libs {
		if !path.IsAbs(l) || path.Clean(l) != l || l == "/" || l == "/pause" {
			return nil, fmt.Errorf("translating infra container: pause library %q is not a clean absolute file path", l)
		}
		ms = append(ms, specs.Mount{Destination: l, Type: "bind", Source: l, Options: []string{"rbind", "ro", "nosuid", "nodev"}})
	}
	return ms, nil
}

// container is the spec of one init or app container; fp is its field path.
func (p *podContext) container(c *corev1.Container, fp *field.Path) (Container, error) {
	s, cfgErr, err := p.containerSpec(c, fp)
	if err != nil {
		return Container{}, fmt.Errorf("container %q: %w", c.Name, err)
	}
	out := Container{Name: c.Name, Image: c.Image, Spec: s}
	if cfgErr != nil {
		out.ConfigError, out.ConfigErrorField = cfgErr.Err.Error(), cfgErr.Field
	}
	return out, nil
}

// containerSpec builds the spec of container c. A problem the kubelet
// reports as CreateContainerConfigError (a missing ConfigMap, Secret or
// key; runAsNonRoot refused) is returned as cfgErr, with a spec built
// without what failed: the runner records it and does not start c.
func (p *podContext) containerSpec(c *corev1.Container, fp *field.Path) (s *specs.Spec, cfgErr *FieldError, err error) {
	img, ok := p.in.Images[c.Name]
	if !ok {
		return nil, nil, fieldErrorf(fp.Child("image"), "%w for %q", ErrMissingImage, c.Image)
	}
	kenv, warnings, err := p.kubeEnv(c, fp)
	if cfgErr, err = configErrorOf(err, fp); err != nil {
		return nil, nil, err
	}
	p.warnings = append(p.warnings, warnings...)
	vars := envMap(kenv)
	args, err := processArgs(expandAll(c.Command, vars), expandAll(c.Args, vars), img, fp)
	if err != nil {
		return nil, nil, err
	}
	cwd, err := workingDir(c, img, fp)
	if err != nil {
		return nil, nil, err
	}
	security, err := p.securityOpts(c, img, fp)
	if nonRoot, err := configErrorOf(err, fp); err != nil {
		return nil, nil, err
	} else if cfgErr == nil {
		cfgErr = nonRoot
	}
	vmounts, _, _, err := containerVolumes(p.in, c, fp)
	if err != nil {
		return nil, nil, err
	}
	l := p.in.Layout
	opts := []SpecOpt{
		WithRoot(l.Rootfs(c.Name), false),
		WithProcessArgs(args...),
		WithTTY(c.TTY),
		WithEnv(containerEnv(kenv, img, p.hostname)),
		WithCwd(cwd),
		WithNamespaces(namespaces(&p.in.Pod.Spec, l, false)),
		WithCgroupsPath(path.Join(CgroupParent(p.in.Pod), c.Name)),
		WithResources(p.in.Pod, c, p.in.Host),
		WithAnnotations(p.annotations(c.Name, c.Image)),
		WithMounts(append(unshadowed(append(slices.Clone(p.mounts), p.terminationMount(c)), vmounts), vmounts...)...),
		WithRootfsPropagation(),
	}
	s, err = newSpec(append(opts, security...)...)
	return s, cfgErr, err
}

// hostPorts lists the hostPort mappings of pod's containers, for Sandbox.
//
// As the kubelet does, only app containers count, and only ports with a
// hostPort; the protocol is lowercased for CNI, TCP when unset.
func hostPorts(pod *corev1.Pod) []Port {
	var ports []Port
	for _, c := range pod.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.HostPort == 0 {
				continue
			}
			proto := strings.ToLower(string(cp.Protocol))
			if proto == "" {
				proto = "tcp"
			}
			ports = append(ports, Port{
				HostPort:      cp.HostPort,
				ContainerPort: cp.ContainerPort,
				Protocol:      proto,
				HostIP:        cp.HostIP,
			})
		}
	}
	return ports
}
