// Package translate is pure: it turns one validated, defaulted pod, the
// configs of its images and a few facts about the host into OCI runtime
// specs, one for the pod's infra container and one per init and app
// container, plus the files, mounts and port mappings the runner must
// prepare.
//
// Nothing in this package touches the file system, runs a program, reads
// the clock or the environment: every impure fact arrives as an Input
// field, so every rule is testable with tables and golden files. A test
// checks its imports.
//
// Errors about a field of the pod are, or wrap, a *FieldError naming its
// path (spec.containers[0].workingDir), by which the runner gives the
// field's line; they do not name the pod, which the runner names once.
//
// # How a spec is built
//
// Every spec starts from DefaultSpec, the spec containerd's CRI plugin
// starts from on Linux, and small SpecOpt values are applied over it in
// order, one per concern (WithProcessArgs, WithEnv, WithUser, WithMounts,
// WithNamespaces, ...). Each Kubernetes rule is written once, in one
// function, and table-tested:
//
//   - processArgs: command replaces the image's ENTRYPOINT and drops its
//     CMD; args replaces CMD; neither gives ENTRYPOINT then CMD.
//   - mergeEnv: DefaultPath, then HOSTNAME, then the image's Env, then
//     kubeEnv (envFrom, then env); a later name replaces an earlier one in
//     its place.
//   - kubeEnv, expand: envFrom and valueFrom from Input.ConfigMaps and
//     Secrets and the downward API; $(VAR) as Kubernetes expands it, also
//     in command and args. serviceEnv: the kubelet's variables for the
//     Services of the pod's namespace (Input.Services), after env. A missing required reference is the
//     container's ConfigError, not an error of the pod.
//   - effectiveSecurity: the container's securityContext over the pod's;
//     userString, processUser, checkRunAsNonRoot, capabilities,
//     seccompFor (profiles arrive as data: SeccompProfile), podSysctls.
//   - WithResources: requests and limits to cgroup settings
//     (MilliCPUToShares, MilliCPUToQuota, QOSClass, oom_score_adj).
//   - inUserNS (Host.UserNS.Nested, rootless): after the plan is built,
//     no cgroup path and no limits without a writable cgroup (one
//     warning per pod names what is ignored), oom_score_adj raised to
//     podrun's own, rlimits clamped to its hard limits.
//   - workingDir: the container's, else the image's, else "/".
//   - resolveUser: the image USER through the container's /etc/passwd and
//     /etc/group, with containerd's additional gids.
//   - namespaces: which namespaces each container creates, joins by path,
//     or leaves to the host (hostNetwork, hostIPC, hostPID,
//     shareProcessNamespace).
//   - podHostname, hostsFile, resolvConf: the kubelet's hostname,
//     Kubernetes-managed /etc/hosts and /etc/resolv.conf. They refuse a
//     value with a control character (ErrControlCharacter), whatever
//     validation let through, so that no value adds a line of its own.
//
// # Paths the runner must honour
//
// Specs name paths from Layout: container roots, the pinned namespaces
// (the runner pins the network namespace and runs CNI before the infra
// starts, and pins the infra's ipc, uts and pid namespaces before any
// other container starts), the pod files and /dev/shm. Cgroups go under
// CgroupParent(pod), /podrun/<pod uid>, one child per container (POD for
// the infra); the runner removes the parent when it deletes the pod.
package translate
