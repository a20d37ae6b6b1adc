package kube

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	intstrpkg "k8s.io/apimachinery/pkg/util/intstr"
)

// epPod is a pod of namespace default labelled app=web, serving http on
// 8080, with ip and the Ready condition ready.
func epPod(name, ip string, ready bool, opts ...func(*corev1.Pod)) corev1.Pod {
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name), Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{NodeName: "node", Containers: []corev1.Container{{Name: "c", Ports: []corev1.ContainerPort{
			{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP},
		}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: status}}},
	}
	for _, o := range opts {
		o(&p)
	}
	return p
}

func epService(opts ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "svc-uid", Labels: map[string]string{"tier": "front"}},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstrpkg.FromString("http")}},
		},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// summary is one line per subset and per slice endpoint, for tables.
func summary(se ServiceEndpoints) string {
	var b strings.Builder
	if se.Endpoints != nil {
		for _, s := range se.Endpoints.Subsets {
			var ports []string
			for _, p := range s.Ports {
				ports = append(ports, fmt.Sprintf("%s:%d", p.Name, p.Port))
			}
			fmt.Fprintf(&b, "ep ports=%s", strings.Join(ports, ","))
			for _, a := range s.Addresses {
				fmt.Fprintf(&b, " ready=%s", a.IP)
				if a.Hostname != "" {
					fmt.Fprintf(&b, "(%s)", a.Hostname)
				}
			}
			for _, a := range s.NotReadyAddresses {
				fmt.Fprintf(&b, " notready=%s", a.IP)
			}
			b.WriteString("\n")
		}
	}
	var lines []string
	for _, sl := range se.Slices {
		var b strings.Builder
		var ports []string
		for _, p := range sl.Ports {
			ports = append(ports, fmt.Sprintf("%s:%d", *p.Name, *p.Port))
		}
		fmt.Fprintf(&b, "slice %s ports=%s", sl.AddressType, strings.Join(ports, ","))
		for _, e := range sl.Endpoints {
			c := e.Conditions
			fmt.Fprintf(&b, " %s[r=%t s=%t t=%t]", e.Addresses[0], *c.Ready, *c.Serving, *c.Terminating)
		}
		lines = append(lines, b.String()+"\n")
	}
	sort.Strings(lines) // slices are in name order, which is a hash's
	b.WriteString(strings.Join(lines, ""))
	for _, m := range se.Missing {
		fmt.Fprintf(&b, "missing %s %s\n", m.Pod, m.TargetPort)
	}
	return b.String()
}

func TestComputeEndpoints(t *testing.T) {
	terminating := func(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{} }
	for _, tc := range []struct {
		name string
		svc  *corev1.Service
		pods []corev1.Pod
		want string
	}{
		{
			name: "ready and unready",
			svc:  epService(),
			pods: []corev1.Pod{epPod("b", "10.1.0.10", true), epPod("a", "10.1.0.9", false), epPod("c", "10.1.0.2", true)},
			want: "ep ports=http:8080 ready=10.1.0.2 ready=10.1.0.10 notready=10.1.0.9\n" +
				"slice IPv4 ports=http:8080 10.1.0.2[r=true s=true t=false] 10.1.0.9[r=false s=false t=false] 10.1.0.10[r=true s=true t=false]\n",
		},
		{
			name: "selector, namespace, address and phase",
			svc:  epService(),
			pods: []corev1.Pod{
				epPod("other-label", "10.1.0.3", true, func(p *corev1.Pod) { p.Labels = map[string]string{"app": "db"} }),
				epPod("other-ns", "10.1.0.4", true, func(p *corev1.Pod) { p.Namespace = "team" }),
				epPod("no-ip", "", true),
				epPod("done", "10.1.0.5", false, func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }),
				epPod("failed", "10.1.0.6", false, func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }),
			},
			want: "slice IPv4 ports=\n",
		},
		{
			name: "terminating",
			svc:  epService(),
			pods: []corev1.Pod{epPod("a", "10.1.0.2", true, terminating), epPod("b", "10.1.0.3", false, terminating), epPod("c", "10.1.0.4", true)},
			want: "ep ports=http:8080 ready=10.1.0.4\n" +
				"slice IPv4 ports=http:8080 10.1.0.2[r=false s=true t=true] 10.1.0.3[r=false s=false t=true] 10.1.0.4[r=true s=true t=false]\n",
		},
		{
			name: "publishNotReadyAddresses",
			svc:  epService(func(s *corev1.Service) { s.Spec.PublishNotReadyAddresses = true }),
			pods: []corev1.Pod{epPod("a", "10.1.0.2", false), epPod("b", "10.1.0.3", true, terminating)},
			want: "ep ports=http:8080 ready=10.1.0.2 ready=10.1.0.3\n" +
				"slice IPv4 ports=http:8080 10.1.0.2[r=true s=false t=false] 10.1.0.3[r=true s=true t=true]\n",
		},
		{
			name: "named port missing in one pod",
			svc:  epService(),
			pods: []corev1.Pod{epPod("a", "10.1.0.2", true), epPod("b", "10.1.0.3", true, func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].Name = "web" })},
			want: "ep ports=http:8080 ready=10.1.0.2\n" +
				"slice IPv4 ports= 10.1.0.3[r=true s=true t=false]\n" +
				"slice IPv4 ports=http:8080 10.1.0.2[r=true s=true t=false]\n" +
				"missing b http\n",
		},
		{
			name: "named port with another protocol is missing",
			svc:  epService(func(s *corev1.Service) { s.Spec.Ports[0].Protocol = corev1.ProtocolUDP }),
			pods: []corev1.Pod{epPod("a", "10.1.0.2", true)},
			want: "slice IPv4 ports= 10.1.0.2[r=true s=true t=false]\n" +
				"missing a http\n",
		},
		{
			name: "two port sets, two slices",
			svc:  epService(),
			pods: []corev1.Pod{epPod("a", "10.1.0.2", true), epPod("b", "10.1.0.3", true, func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 9090 })},
			want: "ep ports=http:8080 ready=10.1.0.2\nep ports=http:9090 ready=10.1.0.3\n" +
				"slice IPv4 ports=http:8080 10.1.0.2[r=true s=true t=false]\n" +
				"slice IPv4 ports=http:9090 10.1.0.3[r=true s=true t=false]\n",
		},
		{
			name: "numeric target port and a sidecar's named port",
			svc: epService(func(s *corev1.Service) {
				s.Spec.Ports = []corev1.ServicePort{
					{Name: "a", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstrpkg.FromInt32(8081)},
					{Name: "b", Port: 81, Protocol: corev1.ProtocolTCP},
					{Name: "m", Port: 82, Protocol: corev1.ProtocolTCP, TargetPort: intstrpkg.FromString("metrics")},
				}
			}),
			pods: []corev1.Pod{epPod("a", "10.1.0.2", true, func(p *corev1.Pod) {
				always := corev1.ContainerRestartPolicyAlways
				p.Spec.InitContainers = []corev1.Container{{Name: "side", RestartPolicy: &always, Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: 9100, Protocol: corev1.ProtocolTCP}}}}
			})},
			want: "ep ports=a:8081,b:81,m:9100 ready=10.1.0.2\n" +
				"slice IPv4 ports=a:8081,b:81,m:9100 10.1.0.2[r=true s=true t=false]\n",
		},
		{
			name: "hostname with the service as subdomain",
			svc:  epService(),
			pods: []corev1.Pod{
				epPod("a", "10.1.0.2", true, func(p *corev1.Pod) { p.Spec.Hostname, p.Spec.Subdomain = "web-0", "web" }),
				epPod("b", "10.1.0.3", true, func(p *corev1.Pod) { p.Spec.Hostname, p.Spec.Subdomain = "web-1", "other" }),
			},
			want: "ep ports=http:8080 ready=10.1.0.2(web-0) ready=10.1.0.3\n" +
				"slice IPv4 ports=http:8080 10.1.0.2[r=true s=true t=false] 10.1.0.3[r=true s=true t=false]\n",
		},
		{
			name: "no selector: user-managed",
			svc:  epService(func(s *corev1.Service) { s.Spec.Selector = nil }),
			pods: []corev1.Pod{epPod("a", "10.1.0.2", true)},
			want: "",
		},
		{
			name: "empty selector: user-managed",
			svc:  epService(func(s *corev1.Service) { s.Spec.Selector = map[string]string{} }),
			pods: []corev1.Pod{epPod("a", "10.1.0.2", true)},
			want: "",
		},
		{
			name: "ExternalName: a DNS name only",
			svc: epService(func(s *corev1.Service) {
				s.Spec.Type, s.Spec.ExternalName = corev1.ServiceTypeExternalName, "db.example"
			}),
			pods: []corev1.Pod{epPod("a", "10.1.0.2", true)},
			want: "",
		},
		{
			name: "IPv6 pod",
			svc:  epService(),
			pods: []corev1.Pod{epPod("a", "fd00::2", true)},
			want: "ep ports=http:8080 ready=fd00::2\nslice IPv6 ports=http:8080 fd00::2[r=true s=true t=false]\n",
		},
		{
			name: "IPv6 pod of an IPv4 service",
			svc:  epService(func(s *corev1.Service) { s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol} }),
			pods: []corev1.Pod{epPod("a", "fd00::2", true), epPod("b", "10.1.0.2", true)},
			want: "ep ports=http:8080 ready=10.1.0.2 ready=fd00::2\nslice IPv4 ports=http:8080 10.1.0.2[r=true s=true t=false]\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := summary(ComputeEndpoints(tc.svc, tc.pods))
			if got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestEndpointsObjects: the metadata of what the controllers write,
// stable from one computation to the next.
func TestEndpointsObjects(t *testing.T) {
	svc := epService(func(s *corev1.Service) { s.Spec.ClusterIP = corev1.ClusterIPNone })
	pods := []corev1.Pod{epPod("a", "10.1.0.2", true), epPod("b", "10.1.0.3", false)}
	se := ComputeEndpoints(svc, pods)
	ep := se.Endpoints
	if ep.Name != "web" || ep.Namespace != "default" || ep.Kind != "Endpoints" || ep.APIVersion != "v1" {
		t.Errorf("endpoints meta: %+v %+v", ep.TypeMeta, ep.ObjectMeta)
	}
	if _, ok := ep.Labels[LabelHeadless]; !ok || ep.Labels["tier"] != "front" {
		t.Errorf("endpoints labels: %v", ep.Labels)
	}
	a := ep.Subsets[0].Addresses[0]
	if a.TargetRef == nil || a.TargetRef.Kind != "Pod" || a.TargetRef.Name != "a" || a.TargetRef.UID != "uid-a" || a.NodeName == nil || *a.NodeName != "node" {
		t.Errorf("address: %+v", a)
	}
	if len(se.Slices) != 1 {
		t.Fatalf("slices: %d", len(se.Slices))
	}
	s := se.Slices[0]
	if !strings.HasPrefix(s.Name, "web-") || len(s.Name) != len("web-")+5 || s.Kind != "EndpointSlice" || s.APIVersion != "discovery.k8s.io/v1" {
		t.Errorf("slice name/type: %s %+v", s.Name, s.TypeMeta)
	}
	if s.Labels[LabelServiceName] != "web" || s.Labels[LabelManagedBy] != ManagedByController {
		t.Errorf("slice labels: %v", s.Labels)
	}
	if o := s.OwnerReferences; len(o) != 1 || o[0].Kind != "Service" || o[0].Name != "web" || o[0].UID != "svc-uid" || o[0].Controller == nil || !*o[0].Controller {
		t.Errorf("slice owner: %+v", o)
	}
	e := s.Endpoints[0]
	if e.TargetRef == nil || e.TargetRef.Name != "a" || e.NodeName == nil || *e.NodeName != "node" {
		t.Errorf("slice endpoint: %+v", e)
	}
	// The same pods in another order, one turned ready: same names.
	pods[1].Status.Conditions[0].Status = corev1.ConditionTrue
	again := ComputeEndpoints(svc, []corev1.Pod{pods[1], pods[0]})
	if again.Slices[0].Name != s.Name {
		t.Errorf("slice name changed: %s, then %s", s.Name, again.Slices[0].Name)
	}
	// Another Service of the same name elsewhere gets another.
	other := ComputeEndpoints(epService(func(s *corev1.Service) { s.Namespace = "team" }), nil)
	if other.Slices[0].Name == s.Name {
		t.Errorf("two Services share the slice name %s", s.Name)
	}
	long := epService(func(s *corev1.Service) { s.Name = strings.Repeat("x", 63) })
	if n := ComputeEndpoints(long, nil).Slices[0].Name; len(n) != 63 {
		t.Errorf("a long Service's slice name %q is %d characters", n, len(n))
	}
}

func TestMissingPortMessage(t *testing.T) {
	se := ComputeEndpoints(epService(), []corev1.Pod{epPod("a", "10.1.0.2", true, func(p *corev1.Pod) { p.Spec.Containers[0].Ports = nil })})
	if len(se.Missing) != 1 {
		t.Fatalf("missing: %+v", se.Missing)
	}
	m := se.Missing[0]
	if m.Reason != "FailedToFindPort" || m.Ref.Name != "a" || !strings.Contains(m.Message, `port named "http" with protocol TCP`) || !strings.Contains(m.Message, "default/web") {
		t.Errorf("missing port: %+v", m)
	}
}

func TestMirrorEndpoints(t *testing.T) {
	svc := epService(func(s *corev1.Service) { s.Spec.Selector = nil })
	ep := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "ep-uid", Labels: map[string]string{"team": "a"}},
		Subsets: []corev1.EndpointSubset{
			{Addresses: []corev1.EndpointAddress{{IP: "192.168.1.9"}, {IP: "not-an-ip"}, {IP: "192.168.1.2", Hostname: "db"}},
				NotReadyAddresses: []corev1.EndpointAddress{{IP: "192.168.1.5"}},
				Ports:             []corev1.EndpointPort{{Name: "pg", Port: 5432}}},
			{Addresses: []corev1.EndpointAddress{{IP: "fd00::9"}}, Ports: []corev1.EndpointPort{{Name: "pg", Port: 5432}}},
		},
	}
	got := summary(ServiceEndpoints{Slices: MirrorEndpoints(svc, ep)})
	want := "slice IPv4 ports=pg:5432 192.168.1.2[r=true s=true t=false] 192.168.1.5[r=false s=false t=false] 192.168.1.9[r=true s=true t=false]\n" +
		"slice IPv6 ports=pg:5432 fd00::9[r=true s=true t=false]\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	var s *discoveryv1.EndpointSlice
	for _, sl := range MirrorEndpoints(svc, ep) {
		if sl.AddressType == discoveryv1.AddressTypeIPv4 {
			s = sl
		}
	}
	if s.Labels[LabelManagedBy] != ManagedByMirroring || s.Labels[LabelServiceName] != "web" || s.Labels["team"] != "a" ||
		s.OwnerReferences[0].Kind != "Endpoints" || s.OwnerReferences[0].UID != "ep-uid" || *s.Ports[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("mirrored slice: %+v", s)
	}
	if s.Endpoints[0].Hostname == nil || *s.Endpoints[0].Hostname != "db" {
		t.Errorf("hostname not mirrored: %+v", s.Endpoints[0])
	}
	for name, tc := range map[string]struct {
		svc *corev1.Service
		ep  *corev1.Endpoints
	}{
		"selector":   {epService(), ep},
		"skip label": {svc, &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{LabelSkipMirror: "true"}}, Subsets: ep.Subsets}},
		"controller": {svc, &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{LabelEndpointsManagedBy: EndpointsManagedBy}}, Subsets: ep.Subsets}},
		"none":       {svc, nil},
	} {
		if got := MirrorEndpoints(tc.svc, tc.ep); len(got) != 0 {
			t.Errorf("%s: mirrored %d slices", name, len(got))
		}
	}
}
