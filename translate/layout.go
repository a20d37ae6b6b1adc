package translate

import "path/filepath"

// Layout names the files of one pod under the run root. It is plain path
// arithmetic, shared by translate, which writes the paths into specs, and
// the runner, which creates what they name.
//
//	<Dir>/infra/            bundle of the infra container (rootfs is an empty dir)
//	<Dir>/containers/<n>/   bundle of container n: config.json, rootfs, upper, work
//	<Dir>/ns/{net,ipc,uts,pid}
//	                        pinned namespaces (bind mounts of nsfs files)
//	<Dir>/etc/{hosts,hostname,resolv.conf}
//	<Dir>/shm               the pod-wide /dev/shm (a tmpfs)
//	<Dir>/logs/<n>/<restart>.log
//	                        CRI-format logs
type Layout struct {
	Dir string // absolute
}

// InfraName is the name the infra container goes by in plans and state.
// Container names are DNS labels, so it can never clash with one.
const InfraName = "POD"

// Bundle is the OCI bundle directory of container name (InfraName for the infra).
func (l Layout) Bundle(name string) string {
	if name == InfraName {
		return filepath.Join(l.Dir, "infra")
	}
	return filepath.Join(l.Dir, "containers", name)
}

// Rootfs is the root file system of container name.
func (l Layout) Rootfs(name string) string { return filepath.Join(l.Bundle(name), "rootfs") }

// Namespace is where the pod's namespace of type t ("net", "ipc", "uts", "pid") is pinned.
func (l Layout) Namespace(t string) string { return filepath.Join(l.Dir, "ns", t) }

// EtcFile is a Kubernetes-managed file ("hosts", "hostname", "resolv.conf").
func (l Layout) EtcFile(name string) string { return filepath.Join(l.Dir, "etc", name) }

// Shm is the pod-wide /dev/shm.
func (l Layout) Shm() string { return filepath.Join(l.Dir, "shm") }

// Logs is the log directory of container name.
func (l Layout) Logs(name string) string { return filepath.Join(l.Dir, "logs", name) }

// TerminationLog is the host file bind-mounted at container name's
// terminationMessagePath, which the monitor reads when the container exits.
func (l Layout) TerminationLog(name string) string {
	return filepath.Join(l.Dir, "termination", name)
}
