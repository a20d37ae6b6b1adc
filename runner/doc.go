// Package runner carries out pod plans on this machine: images, root file
// systems, the pod network, OCI bundles, the runtime and the per-pod
// monitor that supervises containers after apply returns.
//
// The runner decides little about Kubernetes semantics: translate turns a
// pod into a plan, and kube/kubelet holds the kubelet's rules (phase,
// conditions, restarts, stop signals, grace, pull policy), which the
// runner and the monitor apply. What is left here is the order of things:
// a manifest set is applied objects first, then pods (manifest.go), and a
// pod whose ConfigMap, Secret or claim is missing waits for it, as the
// kubelet's pod does. Services are allocated their ClusterIPs and
// nodePorts as the API server's registry would (services.go,
// services_alloc.go), under one lock in the run root, every Service of a
// set before any of its objects is applied. Before a pod is recorded (or rendered), admit
// (admission.go) does what the API server's admission plugins would,
// with kube's pure functions. One function, planPod (verdict.go), takes a
// pod to its verdict (refused, waiting for a volume source, or created
// with the containers that wait) for apply and render alike; render runs
// it as a dry run that mounts and attaches nothing. It performs named steps in order and, on any
// failure, tears down what it set up. Teardown is idempotent and works from what is on disk, so a
// command killed at any point leaves a pod that the next delete removes.
//
// Whatever changes a pod's readiness or existence here (Apply, delete,
// the monitor through its Endpoints hook, a Pending pod started) then
// brings the endpoints of its namespace's Services up to date
// (endpoints.go, runner/services), and ServicesChanged does it after a
// Service changes.
//
// DialPod (portforward.go) connects to a pod's port from inside its
// network namespace, as the kubelet's port-forward does: on a locked OS
// thread that enters the pinned netns, dials, and returns to its own; a
// thread that cannot return is never unlocked, so no goroutine runs in
// the wrong namespace.
//
// Nothing here prints; progress and warnings go to the injected logger.
package runner
