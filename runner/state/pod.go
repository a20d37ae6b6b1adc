package state

import (
	"encoding/json"
	"time"
)

// Version is the version of the Pod record that this package writes.
const Version = 1

// Pod phases, as Kubernetes names them.
const (
	PhasePending   = "Pending"
	PhaseRunning   = "Running"
	PhaseSucceeded = "Succeeded"
	PhaseFailed    = "Failed"
	PhaseUnknown   = "Unknown"
)

// Container states, as Kubernetes names them in ContainerStatus.
const (
	Waiting    = "waiting"
	Running    = "running"
	Terminated = "terminated"
)

// Pod is a pod's record, kept in its directory's state.json. The runner
// writes it when it sets the pod up; the pod's monitor updates container
// states as they change. Every change goes through PodDir.Update.
type Pod struct {
	Version int `json:"version"`

	UID       string `json:"uid"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Manifest is the pod object as applied (after defaulting and
	// admission: the ServiceAccount's token volume), as JSON.
	Manifest json.RawMessage `json:"manifest,omitempty"`
	// Applied is the pod object as the user applied it (after defaulting,
	// before admission), as JSON: what a later apply compares its spec to
	// (kubectl's last-applied configuration), and applies again when the
	// pod waits. Empty in records written before podrun kept it.
	Applied json.RawMessage `json:"applied,omitempty"`
	// Source is the manifest file it came from; "-" for stdin.
	Source  string    `json:"source,omitempty"`
	Created time.Time `json:"created"`

	// Stage is how far apply got, or that delete has begun; empty in
	// records written before podrun kept it.
	Stage Stage `json:"stage,omitempty"`

	Phase   string `json:"phase,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`

	// The sandbox as translate planned it (translate.Sandbox), recorded
	// first: the network namespace's bind mount ("" on the host's
	// network), the published ports, and the infra's namespaces the
	// monitor pins for the other containers to join.
	NetNS string      `json:"netns,omitempty"`
	Ports []Port      `json:"ports,omitempty"`
	Pin   []Namespace `json:"pin,omitempty"`
	// Network: the CNI network and ADD result to hand back to DEL, and
	// the addresses.
	Network   string          `json:"network,omitempty"`
	CNIResult json.RawMessage `json:"cniResult,omitempty"`
	PodIP     string          `json:"podIP,omitempty"`
	HostIP    string          `json:"hostIP,omitempty"`
	// DNS is the cluster DNS the monitor serves inside the pod's network
	// namespace, for a pod whose resolver is the cluster's; nil for
	// others.
	DNS *DNS `json:"dns,omitempty"`

	// Monitor is the pod's monitor process, zero when none runs.
	Monitor Process `json:"monitor,omitzero"`
	// Infra is the container holding the pod's namespaces.
	Infra *Container `json:"infra,omitempty"`
	// Containers are the init containers, then the app containers, in
	// manifest order.
	Containers []Container `json:"containers,omitempty"`

	// Conditions and Events are kept by the monitor (Initialized,
	// ContainersReady, Ready; what a kubelet would post as events).
	Conditions []Condition `json:"conditions,omitempty"`
	Events     []Event     `json:"events,omitempty"`
	// Deleting is when delete asked the monitor to stop the pod, with
	// the grace period it asked for (nil: the pod's own).
	Deleting            time.Time `json:"deleting,omitzero"`
	DeletionGracePeriod *int64    `json:"deletionGracePeriodSeconds,omitempty"`
}

// DNS is what a pod's monitor needs to serve cluster DNS, fixed at apply
// so that the monitor depends on no flag.
type DNS struct {
	// Addr is the cluster DNS address (kube.ClusterDNSIP) the pod's
	// resolv.conf names, which the monitor adds to the pod's loopback
	// device and answers on.
	Addr string `json:"addr"`
	// Objects is the object store holding the Services and
	// EndpointSlices answered.
	Objects string `json:"objects"`
	// ResolvConf is the host resolv.conf whose nameservers the names
	// outside the cluster are forwarded to (the kubelet's --resolv-conf).
	ResolvConf string `json:"resolvConf"`
}

// Port is a published container port (hostPort).
type Port struct {
	ContainerPort int32  `json:"containerPort"`
	HostPort      int32  `json:"hostPort,omitempty"`
	HostIP        string `json:"hostIP,omitempty"`   // empty: every address
	Protocol      string `json:"protocol,omitempty"` // as CNI: "tcp", "udp", "sctp"
}

// Namespace is a namespace of the infra, pinned at Path for the other
// containers to join.
type Namespace struct {
	Type string `json:"type"` // "ipc", "uts" or "pid"
	Path string `json:"path"`
}

// Container is one container's record.
type Container struct {
	Name  string `json:"name"`
	Init  bool   `json:"init,omitempty"`
	Image string `json:"image,omitempty"`
	// ImageID is the manifest digest of the image the container was
	// created from; image prune keeps it while the pod exists.
	ImageID string `json:"imageID,omitempty"`
	// ID is the runtime's container id.
	ID string `json:"id,omitempty"`

	State        string    `json:"state"` // Waiting, Running or Terminated
	Reason       string    `json:"reason,omitempty"`
	Message      string    `json:"message,omitempty"`
	ExitCode     int       `json:"exitCode,omitempty"`
	Signal       int       `json:"signal,omitempty"`
	StartedAt    time.Time `json:"startedAt,omitzero"`
	FinishedAt   time.Time `json:"finishedAt,omitzero"`
	RestartCount int       `json:"restartCount,omitempty"`
	Ready        bool      `json:"ready,omitempty"`

	// Pid is the container's init process, zero when it is not running.
	Pid Process `json:"pid,omitzero"`
	// LogPath is the container's CRI log file.
	LogPath string `json:"logPath,omitempty"`
	// Started is true once the startup probe (if any) and the postStart
	// hook (if any) have succeeded for the current run.
	Started bool `json:"started,omitempty"`
	// LastState is the previous run's end, once the container restarted.
	LastState *Exit `json:"lastState,omitempty"`
	// SubPaths are the container's subPath mounts, resolved again before
	// each restart.
	SubPaths []SubPath `json:"subPaths,omitempty"`
}

// Container returns the record of the container named name, or nil.
func (p *Pod) Container(name string) *Container {
	for i := range p.Containers {
		if p.Containers[i].Name == name {
			return &p.Containers[i]
		}
	}
	return nil
}
