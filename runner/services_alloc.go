package runner

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/podrun/podrun/kube"
)

// allocator gives Services their ClusterIPs and nodePorts, as the API
// server's registry does, against the Services it knows: those stored,
// each replaced by its new version once allocated, so that the Services
// of one set never share an address or port either.
type allocator struct {
	cidr    netip.Prefix
	publish string // LoadBalancer ingress; "" is DefaultPublishAddress
	current map[string]*corev1.Service
	// hostPorts are the hostPorts pods publish ("30080/TCP" to "pod
	// ns/name"); portFree says whether a port is free on the host. Either
	// may be nil (unit tests).
	hostPorts func() (map[string]string, error)
	portFree  func(port int32, protocol string) error
	rand      func(n uint64) uint64
}

func newAllocator(cidr netip.Prefix, stored []*corev1.Service) *allocator {
	a := &allocator{cidr: cidr, current: map[string]*corev1.Service{}, rand: rand.Uint64N}
	for _, s := range stored {
		a.current[s.Namespace+"/"+s.Name] = s
	}
	return a
}

// allocate returns s as it is to be stored: what a re-apply leaves out
// kept from the stored version, the missing ClusterIP and nodePorts
// allocated, a LoadBalancer's ingress set.
func (a *allocator) allocate(s kube.Service) (*corev1.Service, error) {
	key := s.Service.Namespace + "/" + s.Service.Name
	old := a.current[key]
	svc := s.Service.DeepCopy()
	fail := func(fe *field.Error) error {
		return fmt.Errorf("%s: service %s: %s", s.At(fe.Field), key, fe.Error())
	}
	if fe := keepAllocated(svc, old); fe != nil {
		return nil, fail(fe)
	}
	if fe := a.clusterIP(svc, key); fe != nil {
		return nil, fail(fe)
	}
	if fe := a.nodePorts(svc, key, old); fe != nil {
		return nil, fail(fe)
	}
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: cmp.Or(a.publish, DefaultPublishAddress)}}
	}
	asStored(svc, old)
	a.current[key] = svc
	return svc, nil
}

// keepAllocated applies the API server's update rules to svc, replacing
// old: the ClusterIP is immutable, and kept when left out; nodePorts left
// out are kept, port by port. A type change drops what the new type does
// not use (to ExternalName: the ClusterIP; to ClusterIP: the nodePorts).
func keepAllocated(svc, old *corev1.Service) *field.Error {
	if old == nil || old.Spec.Type == corev1.ServiceTypeExternalName || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	switch ip := svc.Spec.ClusterIP; {
	case ip == "":
		svc.Spec.ClusterIP, svc.Spec.ClusterIPs = old.Spec.ClusterIP, old.Spec.ClusterIPs
	case ip != old.Spec.ClusterIP:
		return field.Invalid(field.NewPath("spec", "clusterIP"), ip, fmt.Sprintf(
			"field is immutable (the service has %s: leave clusterIP out or give that one; delete the Service to change it)", old.Spec.ClusterIP))
	}
	if !usesNodePorts(svc) {
		return nil
	}
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if p.NodePort != 0 {
			continue
		}
		for _, o := range old.Spec.Ports {
			if o.NodePort != 0 && o.Protocol == p.Protocol && (o.Port == p.Port || o.Name != "" && o.Name == p.Name) {
				p.NodePort = o.NodePort
				break
			}
		}
	}
	return nil
}

// usesNodePorts says whether svc's ports get nodePorts allocated.
func usesNodePorts(svc *corev1.Service) bool {
	switch svc.Spec.Type {
	case corev1.ServiceTypeNodePort:
		return true
	case corev1.ServiceTypeLoadBalancer:
		a := svc.Spec.AllocateLoadBalancerNodePorts
		return a == nil || *a
	}
	return false
}

// hasClusterIP says whether svc is of a type with a ClusterIP and not
// headless.
func hasClusterIP(svc *corev1.Service) bool {
	return svc.Spec.Type != corev1.ServiceTypeExternalName && svc.Spec.ClusterIP != corev1.ClusterIPNone
}

// clusterIP checks the ClusterIP svc asks for, or picks a free one.
func (a *allocator) clusterIP(svc *corev1.Service, key string) *field.Error {
	if !hasClusterIP(svc) {
		return nil
	}
	p := field.NewPath("spec", "clusterIP")
	used := a.usedIPs(key)
	if ip := svc.Spec.ClusterIP; ip != "" {
		addr, err := netip.ParseAddr(ip)
		if err != nil || !a.cidr.Contains(addr) {
			return field.Invalid(p, ip, fmt.Sprintf("failed to allocate IP %s: the provided IP (%s) is not in the valid range. The range of valid IPs is %s (podrun's --service-cidr)", ip, ip, a.cidr))
		}
		if why := a.reserved(addr); why != "" {
			return field.Invalid(p, ip, fmt.Sprintf("failed to allocate IP %s: provided IP is already allocated: %s; leave clusterIP out to get a free one", ip, why))
		}
		if owner, taken := used[addr]; taken {
			return field.Invalid(p, ip, fmt.Sprintf("failed to allocate IP %s: provided IP is already allocated to service %s; leave clusterIP out to get a free one, or delete that Service", ip, owner))
		}
		svc.Spec.ClusterIPs = []string{ip}
		return nil
	}
	addr, ok := a.freeIP(used)
	if !ok {
		return field.Invalid(p, "", fmt.Sprintf("failed to allocate a serviceIP: range is full: every address of %s is taken; delete a Service, or run with a larger --service-cidr once no Service is left", a.cidr))
	}
	svc.Spec.ClusterIP, svc.Spec.ClusterIPs = addr.String(), []string{addr.String()}
	return nil
}

// reserved says why addr cannot be a Service's, or "".
func (a *allocator) reserved(addr netip.Addr) string {
	base := a.cidr.Masked().Addr()
	switch {
	case addr == base:
		return "it is the network address of " + a.cidr.String()
	case addr == base.Next():
		return "it is the kubernetes Service's address, the first of " + a.cidr.String()
	case addr == kube.ClusterDNSIP(a.cidr):
		return "it is the cluster DNS address (podrun's resolver), the tenth of " + a.cidr.String()
	case addr.Is4() && addr == lastAddr(a.cidr):
		return "it is the broadcast address of " + a.cidr.String()
	}
	return ""
}

// usedIPs are the ClusterIPs of every Service but key, to their owners.
func (a *allocator) usedIPs(key string) map[netip.Addr]string {
	used := map[netip.Addr]string{}
	for k, s := range a.current {
		if k == key || !hasClusterIP(s) {
			continue
		}
		if addr, err := netip.ParseAddr(s.Spec.ClusterIP); err == nil {
			used[addr] = k
		}
	}
	return used
}

// maxScan bounds the search of a free address in a huge (IPv6) range.
const maxScan = 1 << 20

// freeIP picks a free address of the range at random, as the API
// server's allocator does, then scans on from it.
func (a *allocator) freeIP(used map[netip.Addr]string) (netip.Addr, bool) {
	hostBits := a.cidr.Addr().BitLen() - a.cidr.Bits()
	size := uint64(1) << min(hostBits, 62)
	start := a.rand(size)
	for i := range min(size, maxScan) {
		addr := addrAt(a.cidr, (start+i)%size)
		if _, taken := used[addr]; !taken && a.reserved(addr) == "" {
			return addr, true
		}
	}
	return netip.Addr{}, false
}

// addrAt is the address offset after the range's first.
func addrAt(p netip.Prefix, offset uint64) netip.Addr {
	b := p.Masked().Addr().As16()
	for i := 15; i >= 0 && offset > 0; i-- {
		sum := uint64(b[i]) + offset&0xff
		b[i] = byte(sum)
		offset = offset>>8 + sum>>8
	}
	addr := netip.AddrFrom16(b)
	if p.Addr().Is4() {
		return addr.Unmap()
	}
	return addr
}

// lastAddr is the range's last address.
func lastAddr(p netip.Prefix) netip.Addr {
	hostBits := p.Addr().BitLen() - p.Bits()
	if hostBits >= 64 {
		return netip.Addr{}
	}
	return addrAt(p, uint64(1)<<hostBits-1)
}

// nodePorts checks the nodePorts svc asks for and allocates the missing
// ones. One kept from old (a re-apply) is not checked on the host, where
// the service proxy may hold it.
func (a *allocator) nodePorts(svc *corev1.Service, key string, old *corev1.Service) *field.Error {
	if svc.Spec.Type != corev1.ServiceTypeNodePort && svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return nil
	}
	used := a.usedNodePorts(key)
	hostPorts := map[string]string{}
	if a.hostPorts != nil {
		var err error
		if hostPorts, err = a.hostPorts(); err != nil {
			return field.InternalError(field.NewPath("spec", "ports"), err)
		}
	}
	mine := map[int32]bool{} // allocated to svc here: one nodePort may serve TCP and UDP
	for i := range svc.Spec.Ports {
		port := &svc.Spec.Ports[i]
		p := field.NewPath("spec", "ports").Index(i).Child("nodePort")
		if port.NodePort == 0 {
			if !usesNodePorts(svc) {
				continue
			}
			n, ok := a.freeNodePort(used, hostPorts, port.Protocol)
			if !ok {
				return field.Invalid(p, 0, fmt.Sprintf("failed to allocate a nodePort: range is full: every port of %d-%d is taken", kube.NodePortMin, kube.NodePortMax))
			}
			port.NodePort = n
			used[n] = key
			mine[n] = true
			continue
		}
		n := port.NodePort
		if owner, taken := used[n]; taken && !mine[n] {
			return field.Invalid(p, n, fmt.Sprintf("provided port is already allocated to service %s; leave nodePort out to get a free one, or delete that Service", owner))
		}
		if kept(old, n) || mine[n] {
			continue
		}
		if why := a.hostHeld(hostPorts, n, port.Protocol); why != "" {
			return field.Invalid(p, n, why)
		}
		used[n] = key
		mine[n] = true
	}
	return nil
}

// kept says whether nodePort n is old's already.
func kept(old *corev1.Service, n int32) bool {
	if old == nil {
		return false
	}
	for _, p := range old.Spec.Ports {
		if p.NodePort == n {
			return true
		}
	}
	return false
}

// usedNodePorts are the nodePorts of every Service but key, to their
// owners. A port number is taken whatever its protocol, as the API
// server's allocator takes it.
func (a *allocator) usedNodePorts(key string) map[int32]string {
	used := map[int32]string{}
	for k, s := range a.current {
		if k == key {
			continue
		}
		for _, p := range s.Spec.Ports {
			if p.NodePort != 0 {
				used[p.NodePort] = k
			}
		}
	}
	return used
}

// hostHeld says why nodePort n cannot be published on this machine, or
// "": a pod publishes it as a hostPort, or a process holds it.
func (a *allocator) hostHeld(hostPorts map[string]string, n int32, proto corev1.Protocol) string {
	if who, ok := hostPorts[fmt.Sprintf("%d/%s", n, proto)]; ok {
		return fmt.Sprintf("provided port is already published on this machine by %s; leave nodePort out to get a free one, or choose another", who)
	}
	if a.portFree == nil {
		return ""
	}
	if err := a.portFree(n, strings.ToLower(string(proto))); err != nil {
		return fmt.Sprintf("provided port cannot be published on this machine: %v; free it, or leave nodePort out to get a free one", err)
	}
	return ""
}

// freeNodePort picks a free nodePort at random, then scans on from it.
func (a *allocator) freeNodePort(used map[int32]string, hostPorts map[string]string, proto corev1.Protocol) (int32, bool) {
	size := uint64(kube.NodePortMax - kube.NodePortMin + 1)
	start := a.rand(size)
	for i := range size {
		n := kube.NodePortMin + int32((start+i)%size)
		if _, taken := used[n]; taken || a.hostHeld(hostPorts, n, proto) != "" {
			continue
		}
		return n, true
	}
	return 0, false
}
