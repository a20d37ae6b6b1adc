// Package portdriver publishes a rootless pod's hostPorts on the host.
//
// Rootless, the pods' network lives in the per-user namespace holder's
// network namespace, whose uplink is slirp4netns; the host's 127.0.0.1 is
// outside it. A Slirp asks slirp4netns, through its API socket
// (--api-socket), to listen on the host's address:port and forward each
// connection to the holder's tap address (10.0.2.100) on the same port,
// where the CNI portmap plugin's DNAT sends it on to the pod. (slirp4netns
// accepts a pod's address as guest_addr but cannot reach it: it forwards
// only into its own 10.0.2.0/24.)
//
// Publish and Unpublish are idempotent: Unpublish finds a forward by what
// it forwards (list_hostfwd), never by a recorded id, so a forward whose
// pod was killed half-way is found again. Neither prints; errors name the
// port and the socket.
package portdriver
