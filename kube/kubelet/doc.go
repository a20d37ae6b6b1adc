// Package kubelet holds the kubelet's rules, each written once: a pod's
// phase and conditions from its container statuses, which containers are
// sidecars, when a container is restarted and after what back-off, which
// signal stops a container and how long it is given, and the API
// server's image pull policy default.
//
// The package is pure: no os, os/exec, syscall, net, nor time.Now. It
// works on k8s.io/api types and plain values; every time it needs is
// passed in, and signals are names, not numbers. A test lists its
// imports and fails on any that would let it touch the machine. The
// runner, the monitor and kube carry out what these rules decide.
package kubelet
