// Package proxy is podrun's Service data plane, kube-proxy's iptables mode
// for one machine: connections to a ClusterIP:port, or to a NodePort or
// LoadBalancer port published on the host, are DNATed to one of the
// Service's ready endpoints.
//
// A Proxy serves one instance (one run root). Sync takes every Service and
// EndpointSlice of the instance, renders all its rules (renderSync, pure,
// golden-tested) and applies them with one `iptables-restore --noflush`:
// the instance's chains, all named PODRUN-<instance>-..., are declared
// (hence flushed) and refilled, stale ones deleted, and six jump rules,
// commented "podrun <instance>", put first in the built-in chains. Nothing
// else is touched: Teardown deletes the rules that jump into the
// instance's chains and then the chains, so that iptables-save afterwards
// is what it was before the first Sync.
//
// Locally originated packets to the service range are routed to the
// pods' interface by a routing rule and table of the instance's, so the
// host reaches ClusterIPs even with no default route. PublishedPorts lists
// the host ports of every instance (what a NodePort allocator avoids), and
// InstanceName derives an instance from a run root.
//
// The whole service range is rejected in the filter table for anything
// not DNATed, so no packet to it leaves the machine. Every connection
// through a Service is masqueraded (the endpoint may share the client's
// bridge, or be the client). UDP conntrack entries pointing at endpoints
// that left are deleted through netlink after each Sync.
//
// The package is silent: it logs to Config.Log and returns errors. It
// works in the network namespace of the calling thread, which is how its
// tests run it inside namespaces of their own.
package proxy
