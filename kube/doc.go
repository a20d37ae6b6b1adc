// Package kube reads Kubernetes manifests the way the API server would.
//
// Load and Decode read multi-document YAML and JSON (files, directories
// and stdin; v1 List and typed lists such as PodList are flattened into
// their items) strictly into k8s.io/api types: an unknown or duplicate
// field, a value of the wrong type or a malformed quantity is an error
// naming its file, line and field path, for example
//
//	pod.yaml:9: spec.containers[0].imagee: unknown field
//
// Kinds with no Go type here decode as *unstructured.Unstructured, so that
// Expand can name them. YAML is read as the API server's reader does (YAML
// 1.1 scalars: unquoted yes/no/on/off are booleans, 0644 is octal).
//
// Expand turns objects into a Set: pods to run and the ConfigMaps,
// Secrets and PersistentVolumeClaims they read, and Services (their
// ClusterIPs and nodePorts as asked for, checked against the service
// range of Options; the runner allocates the others). ComputeEndpoints
// gives a Service's Endpoints and EndpointSlices from its pods as the two
// controllers would (endpoints.go; MirrorEndpoints for a selector-less
// Service's own Endpoints), with no I/O and no clock. It applies kubectl's
// namespace rule, the API server's defaults (pkg/apis/core/v1/defaults.go
// and the ServiceAccount and Priority admission plugins; stringData merged
// into a Secret's data) and then its validation with its wording
// (k8s.io/apimachinery field errors), for the fields podrun reads. The
// kinds that only matter to an API server (ServiceAccount, RBAC,
// PodDisruptionBudget, NetworkPolicy, ..., CustomResourceDefinition, and
// custom resources of a definition in the same objects or in
// Options.Definitions) are validated likewise and become Set.Kept, each
// with one line saying what it does here (kinds.go, custom.go). Any
// other kind is an error naming the kinds podrun accepts. Fields lists
// every pod field with what podrun does with it: fields only a scheduler
// reads become one warning line per pod (Set.Warnings), fields podrun
// cannot honour are errors naming them; nothing is skipped silently.
//
// Every problem found in one call is returned together as an ErrorList,
// one *Error per line, sorted by file (in input order) then line; a field
// absent from the input is located at its nearest parent. LoadSet
// reports the problems of every file together, decoding resuming after a
// syntax error at the next "---". Only the reading of an unreadable path
// fails at once, as "reading PATH: REASON". A Pod keeps its Lines, so that
// later stages can locate their errors by field path (Pod.At).
//
// Package kube imports nothing of translate or runner, and prints nothing.
package kube
