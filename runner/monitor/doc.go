// Package monitor is the per-pod supervisor that outlives `podrun apply`,
// the role conmon plays for Podman, one per pod instead of one per
// container, and what a kubelet does for one pod.
//
// Contract:
//
//   - Run is the whole life of one process: podrun re-executed by the
//     runner (MonitorCommand), in a session of its own, detached from the
//     command that started it, on one processor (GOMAXPROCS=1: a Go
//     process's memory grows with its processors, and a monitor mostly
//     waits). It makes itself a child subreaper, so that
//     every container's init becomes its child once the runtime's create
//     command exits. Nothing runs a monitor inside a command: `apply` and
//     `up` start the same detached monitors.
//   - It reads what to run from the pod's state and bundles, which apply
//     wrote: it never plans, and never reads a manifest's files.
//   - It is the only writer of the pod's containers' runtime status (runs,
//     exits, restarts, probes' verdicts, conditions, events) in the state
//     file, always through state.PodDir.Update, under the pod's state lock,
//     atomically. Kubernetes rules (phase, conditions, restarts and
//     back-off, stop signals, grace periods, sidecars) come from
//     kube/kubelet; the monitor carries them out.
//   - It writes each container's output as CRI log lines under the pod's
//     logs directory, one file per run, and the ready line (Report) to
//     Config.Ready once every container has been started or has failed
//     to, then closes it: the command that started it waits for that line.
//   - Every restart runs on a fresh root file system (rootfs.Mount, which
//     masks an image's non-directory /dev, /proc and /sys, as apply's first
//     mount does) with an empty termination message file, as the kubelet
//     makes a new container for every restart.
//   - SIGTERM or SIGINT stops the pod gracefully: preStop hooks, each
//     container's stop signal, SIGKILL at the grace period's end; app
//     containers first, then sidecars in reverse order, then the infra
//     container. Then Run returns, and the runner tears the pod down.
//   - The monitor runs outside the pod's cgroups and holds no lock while
//     it waits, so that `get`, `logs` and `delete` from other processes
//     never wait on it. Killed, it loses no state: the next command sees
//     the pod as Unknown/MonitorLost, and delete still stops the
//     containers and tears down.
//   - A pod whose state names cluster DNS (state.DNS) gets its resolver
//     from its monitor (dns.go): runner/dns answering at the cluster DNS
//     address, on sockets inside the pod's network namespace, from before
//     the infra starts until the monitor returns.
//   - It prints nothing: it logs to Config.Log (the pod's monitor.log).
package monitor
