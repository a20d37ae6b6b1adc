// Package kube reads Kubernetes manifests the way the API server would.
//
// It decodes multi-document YAML and JSON strictly into k8s.io/api types
// (an unknown field is an error naming its file, line and field path),
// validates what podrun reads as the API server does, applies the API
// server's defaults, and turns workloads into the concrete pods to run.
// Every problem found in one pass is reported together.
//
// Package kube imports nothing of translate or runner, and prints nothing.
package kube
