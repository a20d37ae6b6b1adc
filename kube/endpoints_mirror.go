package kube

import (
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The endpointslicemirroring controller's managed-by value, and the
// label that keeps an Endpoints from being mirrored.
const (
	ManagedByMirroring = "endpointslicemirroring-controller.k8s.io"
	LabelSkipMirror    = discoveryv1.LabelSkipMirror // endpointslice.kubernetes.io/skip-mirror
)

// maxMirrored is how many addresses of one Endpoints the mirroring
// controller mirrors.
const maxMirrored = 1000

// MirrorEndpoints is what the endpointslicemirroring controller makes of
// the user's Endpoints ep of svc, a Service without a selector: its
// addresses as slices (ready for addresses, not ready for
// notReadyAddresses), one per subset's ports and address type, so that
// whatever reads slices (the proxy, the resolvers) sees them. It mirrors
// nothing for a Service with a selector, for Endpoints the endpoints
// controller wrote or labelled skip-mirror, and skips addresses that are
// not IPs. The controller sets only the ready condition; serving is set
// here to the same value and terminating to false, which is what a
// reader assumes of a missing one.
func MirrorEndpoints(svc *corev1.Service, ep *corev1.Endpoints) []*discoveryv1.EndpointSlice {
	if Selects(svc) || svc.Spec.Type == corev1.ServiceTypeExternalName || ep == nil || ep.Labels[LabelEndpointsManagedBy] == EndpointsManagedBy || ep.Labels[LabelSkipMirror] == "true" {
		return nil
	}
	groups := map[string]*discoveryv1.EndpointSlice{}
	n := 0
	for _, ss := range ep.Subsets {
		var ports []discoveryv1.EndpointPort
		for _, p := range ss.Ports {
			ports = append(ports, discoveryv1.EndpointPort{Name: ptr(p.Name), Port: ptr(p.Port), Protocol: ptr(cmpProto(p.Protocol)), AppProtocol: p.AppProtocol})
		}
		add := func(a corev1.EndpointAddress, ready bool) {
			if _, err := netip.ParseAddr(a.IP); err != nil || n >= maxMirrored {
				return
			}
			n++
			family := addressType(a.IP)
			key := string(family) + "|" + portsKey(ports)
			sl, ok := groups[key]
			if !ok {
				sl = mirrorSlice(ep, family, ports, key)
				groups[key] = sl
			}
			sl.Endpoints = append(sl.Endpoints, discoveryv1.Endpoint{
				Addresses:  []string{a.IP},
				Conditions: discoveryv1.EndpointConditions{Ready: ptr(ready), Serving: ptr(ready), Terminating: ptr(false)},
				Hostname:   ptrOrNil(a.Hostname),
				TargetRef:  a.TargetRef,
				NodeName:   a.NodeName,
			})
		}
		for _, a := range ss.Addresses {
			add(a, true)
		}
		for _, a := range ss.NotReadyAddresses {
			add(a, false)
		}
	}
	var out []*discoveryv1.EndpointSlice
	for _, sl := range groups {
		slices.SortFunc(sl.Endpoints, func(a, b discoveryv1.Endpoint) int { return compareIP(a.Addresses[0], b.Addresses[0]) })
		out = append(out, sl)
	}
	slices.SortFunc(out, func(a, b *discoveryv1.EndpointSlice) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func mirrorSlice(ep *corev1.Endpoints, family discoveryv1.AddressType, ports []discoveryv1.EndpointPort, key string) *discoveryv1.EndpointSlice {
	l := map[string]string{}
	for k, v := range ep.Labels {
		l[k] = v
	}
	l[LabelServiceName] = ep.Name
	l[LabelManagedBy] = ManagedByMirroring
	return &discoveryv1.EndpointSlice{
		TypeMeta: metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      sliceName(ep.Namespace, ep.Name, string(ep.UID), "mirror|"+key),
			Namespace: ep.Namespace,
			Labels:    l,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "Endpoints", Name: ep.Name, UID: ep.UID,
				Controller: ptr(true), BlockOwnerDeletion: ptr(true),
			}},
		},
		AddressType: family,
		Ports:       ports,
	}
}

func cmpProto(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}
