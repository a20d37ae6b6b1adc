// Package controllers holds the decisions of Kubernetes' workload
// controllers (ReplicaSet, Deployment, Job; see each function for what it
// covers), as pure functions that a supervisor calls in a loop: it
// observes a workload and the objects it owns, calls the function, carries
// out the actions returned (create or delete pods, create, update or
// delete ReplicaSets), stores the new status, and calls again when an
// owned pod changes or at the time the result names, whichever is first.
//
// One call decides one step, as one sync of the kube-controller-manager
// does: a rolling update is many calls, each seeing what the last one
// did. The functions never wait and never remember; everything they need
// arrives as an argument, including the time (now) and the source of the
// random name suffixes, so that tests are deterministic.
//
// The package is pure: no os, os/exec, syscall, net, math/rand nor
// time.Now. A test lists its imports and fails on any that would let it
// touch the machine.
package controllers
