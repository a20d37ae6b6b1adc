package translate

import (
	"fmt"
	"io/fs"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
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
}

// Host holds the facts about the machine that shape a spec.
type Host struct {
	CgroupV2   bool
	Rootless   bool
	NodeName   string // spec.nodeName, the machine's hostname
	HostIP     string
	ResolvConf []byte // the host's /etc/resolv.conf, as read
	Hosts      []byte // the host's /etc/hosts, for hostNetwork pods
}

// Input is everything Pod needs; nothing else is read.
type Input struct {
	Pod    *corev1.Pod      // validated and defaulted (kube.Pods)
	Images map[string]Image // by container name, init containers included
	Host   Host
	Layout Layout
	PodIP  string // empty for hostNetwork pods
	// Pause is the host path of a static binary that the infra container
	// runs as its pause process (the podrun binary itself).
	Pause string
	// UserDB reads /etc/passwd and /etc/group of a container's rootfs, to
	// resolve a named image USER. Keyed by container name.
	UserDB map[string]fs.FS
}

// Plan is everything the runner must do to start a pod, decided here.
type Plan struct {
	Infra      Container
	Init       []Container // run in order, each to completion
	Containers []Container // started together
	Files      []File      // written before any container starts
	Mounts     []Mount     // pod-level mounts made before any container starts
	Ports      []Port
}

// Container is one container of the plan.
type Container struct {
	Name  string // InfraName for the infra container
	Image string // reference; empty for the infra container
	Spec  *specs.Spec
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

// Pod translates in into a plan.
func Pod(in Input) (*Plan, error) {
	return nil, fmt.Errorf("translate.Pod: not implemented")
}

// Ports lists the hostPort mappings of pod's containers. The runner needs
// them before the pod's network exists, so before Pod can run.
func Ports(pod *corev1.Pod) []Port {
	return nil
}
