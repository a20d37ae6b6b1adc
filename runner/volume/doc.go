// Package volume prepares a pod's volumes on the host, as the kubelet's
// volume plugins do, and keeps every path it builds inside the volume it
// belongs to.
//
// Each volume of a pod lives at <pod dir>/volumes/<name>: emptyDir is a
// 0777 directory (a tmpfs for medium Memory); configMap, secret,
// downwardAPI and projected volumes are filled by an atomic writer (a
// timestamped directory and a `..data` symlink swapped in one rename),
// secrets on a tmpfs so that they never reach the disk; hostPath is the
// host's path, checked against its type; persistentVolumeClaim is a named
// volume under the data root (see Store) that outlives every pod.
//
// Every path taken from a manifest or from what a container may have
// written (item paths, subPaths, the contents of a volume directory
// between two writes) is resolved inside its volume root by the kernel:
// through os.Root, or openat2 with RESOLVE_BENEATH, so that no symlink or
// `..` leads outside. A subPath is bind-mounted from a file descriptor
// opened that way, so a symlink swapped in after the check cannot
// redirect the mount.
//
// The package is silent: it returns errors and never prints.
package volume
