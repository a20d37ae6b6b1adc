package proxy

import (
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// defaultAffinitySeconds is the API server's default for
// sessionAffinityConfig.clientIP.timeoutSeconds (three hours).
const defaultAffinitySeconds = 10800

// servicePort is one port of one Service, as the data plane sees it: the
// addresses it is reached on and the ready endpoints behind it.
type servicePort struct {
	// Name is "namespace/service:port" (":port" empty for an unnamed port).
	Name     string
	VIP      netip.Addr
	Protocol corev1.Protocol
	Port     int32
	// NodePort is the port published on the host, 0 for none.
	NodePort int32
	// LoadBalancer publishes Port itself on the host too.
	LoadBalancer bool
	// Affinity is the ClientIP session affinity timeout, 0 for none.
	Affinity int32
	// Endpoints are the ready endpoints, sorted and without duplicates.
	Endpoints []netip.AddrPort
}

// buildPorts turns Services and their EndpointSlices into the ports to
// serve, sorted by name. Services without a ClusterIP (headless,
// ExternalName) have none. Only IPv4 is served: other families are
// logged and skipped, and so are SCTP ports when sctp is false.
func buildPorts(services []*corev1.Service, eps []*discoveryv1.EndpointSlice, sctp bool, log *slog.Logger) []servicePort {
	bySvc := map[string][]*discoveryv1.EndpointSlice{}
	for _, s := range eps {
		if s == nil || s.AddressType != discoveryv1.AddressTypeIPv4 {
			continue
		}
		name := s.Labels[discoveryv1.LabelServiceName]
		if name == "" {
			continue
		}
		key := s.Namespace + "/" + name
		bySvc[key] = append(bySvc[key], s)
	}
	var out []servicePort
	for _, svc := range services {
		if svc == nil || svc.Spec.Type == corev1.ServiceTypeExternalName {
			continue
		}
		vip, ok := clusterIPv4(svc, log)
		if !ok {
			continue
		}
		key := svc.Namespace + "/" + svc.Name
		for _, p := range svc.Spec.Ports {
			proto := p.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			if proto == corev1.ProtocolSCTP && !sctp {
				log.Warn("skipping an SCTP service port: this kernel has no SCTP", "service", key, "port", p.Port)
				continue
			}
			sp := servicePort{
				Name:      key + ":" + p.Name,
				VIP:       vip,
				Protocol:  proto,
				Port:      p.Port,
				Affinity:  affinity(svc),
				Endpoints: readyEndpoints(bySvc[key], p.Name, proto),
			}
			if svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
				sp.NodePort = p.NodePort
			}
			sp.LoadBalancer = svc.Spec.Type == corev1.ServiceTypeLoadBalancer
			out = append(out, sp)
		}
	}
	slices.SortFunc(out, func(a, b servicePort) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(string(a.Protocol), string(b.Protocol))
	})
	return out
}

// clusterIPv4 is svc's IPv4 ClusterIP, if it has one.
func clusterIPv4(svc *corev1.Service, log *slog.Logger) (netip.Addr, bool) {
	ips := svc.Spec.ClusterIPs
	if len(ips) == 0 && svc.Spec.ClusterIP != "" {
		ips = []string{svc.Spec.ClusterIP}
	}
	for _, s := range ips {
		if s == corev1.ClusterIPNone {
			return netip.Addr{}, false
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			log.Warn("skipping a Service with an unparsable ClusterIP", "service", svc.Namespace+"/"+svc.Name, "clusterIP", s)
			continue
		}
		if a.Is4() {
			return a, true
		}
		log.Warn("skipping a non-IPv4 ClusterIP: only IPv4 is proxied", "service", svc.Namespace+"/"+svc.Name, "clusterIP", s)
	}
	return netip.Addr{}, false
}

// affinity is svc's ClientIP affinity timeout in seconds, 0 for none.
func affinity(svc *corev1.Service) int32 {
	if svc.Spec.SessionAffinity != corev1.ServiceAffinityClientIP {
		return 0
	}
	if c := svc.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil && *c.ClientIP.TimeoutSeconds > 0 {
		return *c.ClientIP.TimeoutSeconds
	}
	return defaultAffinitySeconds
}

// readyEndpoints collects, from a Service's slices, the ready endpoints
// of its port named name with protocol proto. The slices hold targetPorts
// already resolved per pod, so a named targetPort is simply the slice
// port's number. A nil ready condition counts as ready, as the API says.
func readyEndpoints(eps []*discoveryv1.EndpointSlice, name string, proto corev1.Protocol) []netip.AddrPort {
	var out []netip.AddrPort
	for _, s := range eps {
		for _, p := range s.Ports {
			pname, pproto := "", corev1.ProtocolTCP
			if p.Name != nil {
				pname = *p.Name
			}
			if p.Protocol != nil {
				pproto = *p.Protocol
			}
			if pname != name || pproto != proto || p.Port == nil {
				continue
			}
			for _, ep := range s.Endpoints {
				if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
					continue
				}
				for _, a := range ep.Addresses {
					ip, err := netip.ParseAddr(a)
					if err != nil || !ip.Is4() {
						continue
					}
					out = append(out, netip.AddrPortFrom(ip, uint16(*p.Port)))
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b netip.AddrPort) int { return a.Compare(b) })
	return slices.Compact(out)
}

// String names sp in logs and rule comments.
func (sp servicePort) String() string {
	return fmt.Sprintf("%s/%s", sp.Name, strings.ToLower(string(sp.Protocol)))
}
