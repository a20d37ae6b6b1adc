// Package runner carries out pod plans on this machine: images, root file
// systems, the pod network, OCI bundles, the runtime and the per-pod
// monitor that supervises containers after apply returns.
//
// The runner decides nothing about Kubernetes semantics: translate does.
// It performs named steps in order and, on any failure, tears down what
// it set up. Teardown is idempotent and works from what is on disk, so a
// command killed at any point leaves a pod that the next delete removes.
//
// Nothing here prints; progress and warnings go to the injected logger.
package runner
