package kube

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	intstrutil "k8s.io/apimachinery/pkg/util/intstr"
)

// The labels the endpointslice controller puts on the slices it manages,
// and the one it and the endpoints controller add for headless Services.
const (
	LabelServiceName = discoveryv1.LabelServiceName // kubernetes.io/service-name
	LabelManagedBy   = discoveryv1.LabelManagedBy   // endpointslice.kubernetes.io/managed-by
	// ManagedByController is the managed-by value of the slices computed
	// here, the endpointslice controller's.
	ManagedByController = "endpointslice-controller.k8s.io"
	LabelHeadless       = corev1.IsHeadlessService // service.kubernetes.io/headless
	// LabelEndpointsManagedBy marks the Endpoints the endpoints controller
	// writes (EndpointsManagedBy): the user's own, of a Service without a
	// selector, have not it.
	LabelEndpointsManagedBy = "endpoints.kubernetes.io/managed-by"
	EndpointsManagedBy      = "endpoint-controller"
)

// ServiceEndpoints is what the endpoints and endpointslice controllers
// make of one Service and the pods of its namespace.
type ServiceEndpoints struct {
	// Endpoints is the Service's v1 Endpoints; nil for a Service without
	// a selector, whose Endpoints are the user's to write.
	Endpoints *corev1.Endpoints
	// Slices are its EndpointSlices: one per address type and set of
	// resolved ports, or one placeholder without endpoints when no pod
	// serves it; none for a Service without a selector.
	Slices []*discoveryv1.EndpointSlice
	// Missing are the ports some pods left out: a named targetPort no
	// container of theirs declares with the port's protocol.
	Missing []MissingPort
}

// MissingPort is a Service port a selected pod cannot serve.
type MissingPort struct {
	Pod        string                 // the pod's name
	Port       string                 // the Service port's name ("" when it has one port)
	TargetPort string                 // the named targetPort
	Protocol   corev1.Protocol        // the port's protocol
	Reason     string                 // "FailedToFindPort"
	Message    string                 // a sentence for an event
	Ref        corev1.ObjectReference // the pod
}

// ComputeEndpoints computes svc's Endpoints and EndpointSlices from pods,
// the pods of its namespace with their status as podrun reports it, as
// the endpoints and endpointslice controllers do:
//
//   - a pod is an endpoint when the Service's selector matches it, it has
//     a pod IP and has not finished (Succeeded or Failed);
//   - it is ready when its Ready condition is True, or the Service
//     publishes not-ready addresses; a terminating pod (deletionTimestamp
//     set) is left out of Endpoints (unless not-ready addresses are
//     published) and listed in slices as terminating, serving while it is
//     Ready, never ready unless not-ready addresses are published;
//   - each Service port's targetPort is resolved per pod: a number as it
//     is, a name through the pod's container ports of that name and
//     protocol; a pod without it is left out for that port (Missing);
//   - pods whose resolved ports differ are in different slices.
//
// Slice names are the Service's name and five characters derived from
// the Service's namespace, name, address type and ports, stable from one
// call to the next. It reads no clock: creationTimestamps are the
// store's to set.
func ComputeEndpoints(svc *corev1.Service, pods []corev1.Pod) ServiceEndpoints {
	var out ServiceEndpoints
	if !Selects(svc) {
		return out
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	ep := &corev1.Endpoints{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Endpoints"},
		ObjectMeta: metav1.ObjectMeta{Name: svc.Name, Namespace: svc.Namespace, Labels: endpointLabels(svc)},
	}
	if ep.Labels == nil {
		ep.Labels = map[string]string{}
	}
	ep.Labels[LabelEndpointsManagedBy] = EndpointsManagedBy
	subsets := map[string]*corev1.EndpointSubset{} // by port set
	groups := map[string]*discoveryv1.EndpointSlice{}
	var pnra = svc.Spec.PublishNotReadyAddresses
	for i := range pods {
		pod := &pods[i]
		if pod.Namespace != svc.Namespace || !sel.Matches(labels.Set(pod.Labels)) || !servesEndpoints(pod) {
			continue
		}
		ports, missing := resolvePorts(svc, pod)
		out.Missing = append(out.Missing, missing...)
		ready := podReady(pod)
		terminating := pod.DeletionTimestamp != nil
		addr := corev1.EndpointAddress{IP: pod.Status.PodIP, NodeName: ptrOrNil(pod.Spec.NodeName), TargetRef: podRef(pod)}
		if hostname := endpointHostname(svc, pod); hostname != "" {
			addr.Hostname = hostname
		}
		if pnra || !terminating {
			addSubset(subsets, ports, addr, pnra || ready, svc)
		}
		family := addressType(pod.Status.PodIP)
		if !serviceFamily(svc, family) {
			continue
		}
		slice := sliceFor(groups, svc, family, ports)
		slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{
			Addresses: []string{pod.Status.PodIP},
			Conditions: discoveryv1.EndpointConditions{
				Ready:       ptr(pnra || (ready && !terminating)),
				Serving:     ptr(ready),
				Terminating: ptr(terminating),
			},
			Hostname:  ptrOrNil(addr.Hostname),
			TargetRef: podRef(pod),
			NodeName:  addr.NodeName,
		})
	}
	ep.Subsets = sortedSubsets(subsets)
	out.Endpoints = ep
	if len(groups) == 0 {
		family := discoveryv1.AddressTypeIPv4
		if len(svc.Spec.IPFamilies) > 0 && svc.Spec.IPFamilies[0] == corev1.IPv6Protocol {
			family = discoveryv1.AddressTypeIPv6
		}
		placeholder := newSlice(svc, family, nil)
		placeholder.Endpoints = []discoveryv1.Endpoint{}
		out.Slices = append(out.Slices, placeholder)
		return out
	}
	for _, s := range groups {
		slices.SortFunc(s.Endpoints, func(a, b discoveryv1.Endpoint) int { return compareIP(a.Addresses[0], b.Addresses[0]) })
		out.Slices = append(out.Slices, s)
	}
	slices.SortFunc(out.Slices, func(a, b *discoveryv1.EndpointSlice) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Selects reports whether svc's endpoints are the controllers' to
// compute: it has a selector (an empty one is none, as the API server
// stores it) and is not of type ExternalName, which is a DNS name only.
func Selects(svc *corev1.Service) bool {
	return len(svc.Spec.Selector) > 0 && svc.Spec.Type != corev1.ServiceTypeExternalName
}

// servesEndpoints is the controllers' test of a pod that may be an
// endpoint at all: it has an address and has not finished.
func servesEndpoints(pod *corev1.Pod) bool {
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return false
	}
	return pod.Status.PodIP != ""
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func podRef(pod *corev1.Pod) *corev1.ObjectReference {
	return &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID}
}

// endpointHostname is the pod's hostname when it names the Service as
// its subdomain: the DNS name <hostname>.<service>.<namespace>.svc.
func endpointHostname(svc *corev1.Service, pod *corev1.Pod) string {
	if pod.Spec.Hostname != "" && pod.Spec.Subdomain == svc.Name && pod.Namespace == svc.Namespace {
		return pod.Spec.Hostname
	}
	return ""
}

// endpointLabels are the Service's labels with the headless label for a
// Service without a cluster IP.
func endpointLabels(svc *corev1.Service) map[string]string {
	l := map[string]string{}
	for k, v := range svc.Labels {
		l[k] = v
	}
	if svc.Spec.ClusterIP == corev1.ClusterIPNone {
		l[LabelHeadless] = ""
	}
	if len(l) == 0 {
		return nil
	}
	return l
}

// resolvePorts resolves every port of svc for pod, in the Service's
// order, and lists those it cannot serve.
func resolvePorts(svc *corev1.Service, pod *corev1.Pod) ([]discoveryv1.EndpointPort, []MissingPort) {
	var ports []discoveryv1.EndpointPort
	var missing []MissingPort
	for _, sp := range svc.Spec.Ports {
		proto := cmp.Or(sp.Protocol, corev1.ProtocolTCP)
		num, ok := findPort(pod, sp, proto)
		if !ok {
			missing = append(missing, MissingPort{
				Pod: pod.Name, Port: sp.Name, TargetPort: sp.TargetPort.StrVal, Protocol: proto,
				Reason: "FailedToFindPort",
				Message: fmt.Sprintf("Failed to find port for service %s/%s: no container of pod %s declares a port named %q with protocol %s; "+
					"the pod is left out of port %s's endpoints until one does", svc.Namespace, svc.Name, pod.Name, sp.TargetPort.StrVal, proto, portLabel(sp)),
				Ref: *podRef(pod),
			})
			continue
		}
		ports = append(ports, discoveryv1.EndpointPort{
			Name: ptr(sp.Name), Port: ptr(num), Protocol: ptr(proto), AppProtocol: sp.AppProtocol,
		})
	}
	return ports, missing
}

func portLabel(sp corev1.ServicePort) string {
	if sp.Name != "" {
		return fmt.Sprintf("%q (%d)", sp.Name, sp.Port)
	}
	return fmt.Sprint(sp.Port)
}

// findPort is the controllers' FindPort: a numeric targetPort is the
// port (0, which the API server defaults away, the Service port); a named
// one is the containerPort of that name and protocol in the pod's
// containers, sidecars (restartable init containers) included.
func findPort(pod *corev1.Pod, sp corev1.ServicePort, proto corev1.Protocol) (int32, bool) {
	tp := sp.TargetPort
	if tp.Type != intstrutil.String {
		if tp.IntVal == 0 {
			return sp.Port, true
		}
		return tp.IntVal, true
	}
	if tp.StrVal == "" {
		return sp.Port, true
	}
	containers := slices.Clone(pod.Spec.Containers)
	for _, c := range pod.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			containers = append(containers, c)
		}
	}
	for _, c := range containers {
		for _, p := range c.Ports {
			if p.Name == tp.StrVal && cmp.Or(p.Protocol, corev1.ProtocolTCP) == proto {
				return p.ContainerPort, true
			}
		}
	}
	return 0, false
}

// addressType is the slice address type of ip.
func addressType(ip string) discoveryv1.AddressType {
	if a, err := netip.ParseAddr(ip); err == nil && a.Is6() && !a.Is4In6() {
		return discoveryv1.AddressTypeIPv6
	}
	return discoveryv1.AddressTypeIPv4
}

// serviceFamily reports whether svc serves addresses of family; a
// Service whose families are not set serves both.
func serviceFamily(svc *corev1.Service, family discoveryv1.AddressType) bool {
	if len(svc.Spec.IPFamilies) == 0 {
		return true
	}
	for _, f := range svc.Spec.IPFamilies {
		if string(f) == string(family) {
			return true
		}
	}
	return false
}

// sliceFor returns the slice of groups for family and ports, adding it.
func sliceFor(groups map[string]*discoveryv1.EndpointSlice, svc *corev1.Service, family discoveryv1.AddressType, ports []discoveryv1.EndpointPort) *discoveryv1.EndpointSlice {
	key := string(family) + "|" + portsKey(ports)
	if s, ok := groups[key]; ok {
		return s
	}
	s := newSlice(svc, family, ports)
	groups[key] = s
	return s
}

func newSlice(svc *corev1.Service, family discoveryv1.AddressType, ports []discoveryv1.EndpointPort) *discoveryv1.EndpointSlice {
	l := endpointLabels(svc)
	if l == nil {
		l = map[string]string{}
	}
	l[LabelServiceName] = svc.Name
	l[LabelManagedBy] = ManagedByController
	return &discoveryv1.EndpointSlice{
		TypeMeta: metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      sliceName(svc.Namespace, svc.Name, string(svc.UID), string(family)+"|"+portsKey(ports)),
			Namespace: svc.Namespace,
			Labels:    l,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "Service", Name: svc.Name, UID: svc.UID,
				Controller: ptr(true), BlockOwnerDeletion: ptr(true),
			}},
		},
		AddressType: family,
		Ports:       ports,
	}
}

// portsKey identifies a set of resolved ports.
func portsKey(ports []discoveryv1.EndpointPort) string {
	var b strings.Builder
	for _, p := range ports {
		fmt.Fprintf(&b, "%s/%s/%d/%s;", *p.Name, *p.Protocol, *p.Port, ptrValue(p.AppProtocol))
	}
	return b.String()
}

// sliceAlphabet is the one the API server draws generated names from:
// no vowels, no look-alikes.
const sliceAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// sliceName is the name of the slice for key of the Service (or
// Endpoints) namespace/name: the generateName the controllers use (the
// name and "-", cut to 58 characters) and five characters derived from
// the object and key, so that the same slice keeps its name from one sync
// to the next.
func sliceName(namespace, name, uid, key string) string {
	base := name + "-"
	if len(base) > 58 {
		base = base[:58]
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s", namespace, name, uid, key)
	sum := h.Sum64()
	var suffix [5]byte
	for i := range suffix {
		suffix[i] = sliceAlphabet[sum%uint64(len(sliceAlphabet))]
		sum /= uint64(len(sliceAlphabet))
	}
	return base + string(suffix[:])
}

// addSubset adds addr, with ports, to the Endpoints subset of that port
// set, as ready or not-ready address.
func addSubset(subsets map[string]*corev1.EndpointSubset, ports []discoveryv1.EndpointPort, addr corev1.EndpointAddress, ready bool, svc *corev1.Service) {
	if len(ports) == 0 && len(svc.Spec.Ports) > 0 {
		return // no port of the Service reaches it
	}
	key := portsKey(ports)
	s, ok := subsets[key]
	if !ok {
		s = &corev1.EndpointSubset{}
		for _, p := range ports {
			s.Ports = append(s.Ports, corev1.EndpointPort{Name: *p.Name, Port: *p.Port, Protocol: *p.Protocol, AppProtocol: p.AppProtocol})
		}
		subsets[key] = s
	}
	if ready {
		s.Addresses = append(s.Addresses, addr)
	} else {
		s.NotReadyAddresses = append(s.NotReadyAddresses, addr)
	}
}

// sortedSubsets orders subsets and their addresses and ports as the
// controller's repacking does, so that the same pods give the same
// object.
func sortedSubsets(m map[string]*corev1.EndpointSubset) []corev1.EndpointSubset {
	var out []corev1.EndpointSubset
	for _, s := range m {
		byIP := func(a, b corev1.EndpointAddress) int { return compareIP(a.IP, b.IP) }
		slices.SortFunc(s.Addresses, byIP)
		slices.SortFunc(s.NotReadyAddresses, byIP)
		slices.SortFunc(s.Ports, func(a, b corev1.EndpointPort) int {
			return cmp.Or(strings.Compare(a.Name, b.Name), cmp.Compare(a.Port, b.Port), strings.Compare(string(a.Protocol), string(b.Protocol)))
		})
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b corev1.EndpointSubset) int { return strings.Compare(subsetKey(a), subsetKey(b)) })
	return out
}

func subsetKey(s corev1.EndpointSubset) string {
	var b strings.Builder
	for _, p := range s.Ports {
		fmt.Fprintf(&b, "%s/%d/%s;", p.Name, p.Port, p.Protocol)
	}
	return b.String()
}

func compareIP(a, b string) int {
	x, errX := netip.ParseAddr(a)
	y, errY := netip.ParseAddr(b)
	if errX != nil || errY != nil {
		return strings.Compare(a, b)
	}
	return x.Compare(y)
}

func ptrOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func ptrValue(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
