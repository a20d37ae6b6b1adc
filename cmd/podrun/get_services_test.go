package main

import (
	"bytes"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func testServices() []*corev1.Service {
	cluster := corev1.ServiceInternalTrafficPolicyCluster
	single := corev1.IPFamilyPolicySingleStack
	mk := func(name string, typ corev1.ServiceType, ip string, ports ...corev1.ServicePort) *corev1.Service {
		s := &corev1.Service{Spec: corev1.ServiceSpec{Type: typ, ClusterIP: ip, Ports: ports, SessionAffinity: corev1.ServiceAffinityNone}}
		s.Namespace, s.Name = "default", name
		if ip != "" {
			s.Spec.ClusterIPs = []string{ip}
			s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
			s.Spec.IPFamilyPolicy = &single
			s.Spec.InternalTrafficPolicy = &cluster
		}
		return s
	}
	web := mk("web", corev1.ServiceTypeClusterIP, "10.96.0.20",
		corev1.ServicePort{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("http")},
		corev1.ServicePort{Name: "metrics", Port: 9090, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(9090)})
	web.Spec.Selector = map[string]string{"app": "web", "tier": "front"}
	np := mk("np", corev1.ServiceTypeNodePort, "10.96.0.21",
		corev1.ServicePort{Port: 80, NodePort: 30080, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(8080)})
	np.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	lb := mk("lb", corev1.ServiceTypeLoadBalancer, "10.96.0.22",
		corev1.ServicePort{Port: 443, NodePort: 31443, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(443)},
		corev1.ServicePort{Name: "dns", Port: 53, NodePort: 31053, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(53)})
	lb.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "127.0.0.1"}}
	pending := mk("pending", corev1.ServiceTypeLoadBalancer, "10.96.0.23", corev1.ServicePort{Port: 80, Protocol: corev1.ProtocolTCP})
	headless := mk("db", corev1.ServiceTypeClusterIP, "None", corev1.ServicePort{Port: 5432, Protocol: corev1.ProtocolTCP})
	ext := mk("ext", corev1.ServiceTypeExternalName, "")
	ext.Spec.ExternalName = "db.example.com"
	return []*corev1.Service{web, np, lb, pending, headless, ext}
}

// TestServiceTable: kubectl's columns, and SELECTOR with -o wide.
func TestServiceTable(t *testing.T) {
	var b bytes.Buffer
	if err := printServices(&b, testServices(), "wide", false, false); err != nil {
		t.Fatal(err)
	}
	want := `NAME      TYPE           CLUSTER-IP   EXTERNAL-IP      PORT(S)                      AGE         SELECTOR
web       ClusterIP      10.96.0.20   <none>           80/TCP,9090/TCP              <unknown>   app=web,tier=front
np        NodePort       10.96.0.21   <none>           80:30080/TCP                 <unknown>   <none>
lb        LoadBalancer   10.96.0.22   127.0.0.1        443:31443/TCP,53:31053/UDP   <unknown>   <none>
pending   LoadBalancer   10.96.0.23   <pending>        80/TCP                       <unknown>   <none>
db        ClusterIP      None         <none>           5432/TCP                     <unknown>   <none>
ext       ExternalName   <none>       db.example.com   <none>                       <unknown>   <none>
`
	if got := b.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	b.Reset()
	if err := printServices(&b, testServices()[:2], "name", false, false); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "service/web\nservice/np\n" {
		t.Errorf("-o name: %q", got)
	}
	b.Reset()
	if err := printServices(&b, testServices()[:1], "yaml", false, true); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); !strings.HasPrefix(got, "apiVersion: v1\nkind: Service\n") || !strings.Contains(got, "clusterIP: 10.96.0.20") {
		t.Errorf("-o yaml:\n%s", got)
	}
}

// TestDescribeService: kubectl's layout, the Endpoints of each port.
func TestDescribeService(t *testing.T) {
	svcs := testServices()
	ep := &corev1.Endpoints{Subsets: []corev1.EndpointSubset{{
		Addresses: []corev1.EndpointAddress{{IP: "10.88.0.5"}, {IP: "10.88.0.6"}},
		Ports:     []corev1.EndpointPort{{Name: "http", Port: 8080}, {Name: "metrics", Port: 9090}},
	}}}
	var b bytes.Buffer
	if err := describeService(&b, svcs[0], ep); err != nil {
		t.Fatal(err)
	}
	want := `Name:                     web
Namespace:                default
Labels:                   <none>
Annotations:              <none>
Selector:                 app=web,tier=front
Type:                     ClusterIP
IP Family Policy:         SingleStack
IP Families:              IPv4
IP:                       10.96.0.20
IPs:                      10.96.0.20
Port:                     http  80/TCP
TargetPort:               http/TCP
Endpoints:                10.88.0.5:8080,10.88.0.6:8080
Port:                     metrics  9090/TCP
TargetPort:               9090/TCP
Endpoints:                10.88.0.5:9090,10.88.0.6:9090
Session Affinity:         None
Internal Traffic Policy:  Cluster
Events:  <none>
`
	if got := b.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	b.Reset()
	if err := describeService(&b, svcs[2], nil); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"LoadBalancer Ingress:     127.0.0.1\n",
		"Port:                     <unset>  443/TCP\n",
		"NodePort:                 <unset>  31443/TCP\n",
		"NodePort:                 dns  31053/UDP\n",
		"Endpoints:                <none>\n",
	} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("describe lb lacks %q:\n%s", line, b.String())
		}
	}
}
