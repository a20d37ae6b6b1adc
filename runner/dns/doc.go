// Package dns is the cluster DNS a pod with dnsPolicy ClusterFirst asks:
// the answers of Kubernetes' DNS specification, as CoreDNS's kubernetes
// plugin gives them, for the Services and EndpointSlices podrun stores,
// and every other name forwarded to the host's resolvers.
//
// Contract:
//
//   - Handler answers one query at a time, from a Source read at each
//     query: a Service stored a moment ago is answered at once. It is a
//     github.com/miekg/dns Handler, served on whatever sockets its caller
//     opened (the pod's monitor opens them inside the pod's network
//     namespace, at the cluster DNS address).
//   - Names in the cluster domain are answered here, authoritatively:
//     <svc>.<ns>.svc (A/AAAA of the ClusterIPs; a headless Service's
//     ready endpoints), <hostname>.<svc>.<ns>.svc (an endpoint of a
//     headless Service), _<port>._<proto>.<svc>.<ns>.svc (SRV),
//     ExternalName Services (CNAME, chased), <a-b-c-d>.<ns>.pod (A), and
//     NXDOMAIN with the zone's SOA for everything else. PTR queries for a
//     Service's or endpoint's address are answered too. Search domains are
//     the client's business: the handler sees full names.
//   - Every other query goes to the upstream resolvers (Forwarder), over
//     the transport it came on, UDP retried over TCP when truncated; when
//     none answers, SERVFAIL.
//   - It never panics on a query, and prints nothing: it logs to an
//     injected *slog.Logger.
package dns
