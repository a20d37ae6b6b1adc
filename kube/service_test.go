package kube

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	istr "k8s.io/apimachinery/pkg/util/intstr"
)

const svcHead = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n"

func expandServices(t *testing.T, in string, opts Options) (*Set, error) {
	t.Helper()
	objs, err := Decode("a.yaml", []byte(in))
	if err != nil {
		return nil, err
	}
	return Expand(objs, opts)
}

func TestServiceDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want corev1.ServiceSpec
	}{
		{"ClusterIP", svcHead + "  selector: {app: web}\n  ports: [{port: 80}]\n", corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, Selector: map[string]string{"app": "web"},
			Ports:           []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: istr.FromInt32(80)}},
			SessionAffinity: corev1.ServiceAffinityNone, InternalTrafficPolicy: ptr(corev1.ServiceInternalTrafficPolicyCluster),
			IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol}, IPFamilyPolicy: ptr(corev1.IPFamilyPolicySingleStack),
		}},
		{"NodePort with a named targetPort", svcHead + "  type: NodePort\n  ports: [{port: 80, targetPort: http, protocol: UDP}]\n", corev1.ServiceSpec{
			Type:            corev1.ServiceTypeNodePort,
			Ports:           []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolUDP, TargetPort: istr.FromString("http")}},
			SessionAffinity: corev1.ServiceAffinityNone, InternalTrafficPolicy: ptr(corev1.ServiceInternalTrafficPolicyCluster),
			ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyCluster,
			IPFamilies:            []corev1.IPFamily{corev1.IPv4Protocol}, IPFamilyPolicy: ptr(corev1.IPFamilyPolicySingleStack),
		}},
		{"LoadBalancer with ClientIP affinity and an IP", svcHead + "  type: LoadBalancer\n  clusterIP: 10.96.3.4\n  sessionAffinity: ClientIP\n  ports: [{port: 443}]\n", corev1.ServiceSpec{
			Type: corev1.ServiceTypeLoadBalancer, ClusterIP: "10.96.3.4", ClusterIPs: []string{"10.96.3.4"},
			Ports:           []corev1.ServicePort{{Port: 443, Protocol: corev1.ProtocolTCP, TargetPort: istr.FromInt32(443)}},
			SessionAffinity: corev1.ServiceAffinityClientIP,
			SessionAffinityConfig: &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{
				TimeoutSeconds: ptr(int32(10800))}},
			InternalTrafficPolicy: ptr(corev1.ServiceInternalTrafficPolicyCluster),
			ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyCluster, AllocateLoadBalancerNodePorts: ptr(true),
			IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol}, IPFamilyPolicy: ptr(corev1.IPFamilyPolicySingleStack),
		}},
		{"ExternalName", svcHead + "  type: ExternalName\n  externalName: db.example.com\n", corev1.ServiceSpec{
			Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com", SessionAffinity: corev1.ServiceAffinityNone,
		}},
		{"headless without ports", svcHead + "  clusterIP: None\n  selector: {app: db}\n", corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: "None", ClusterIPs: []string{"None"}, Selector: map[string]string{"app": "db"},
			SessionAffinity: corev1.ServiceAffinityNone, InternalTrafficPolicy: ptr(corev1.ServiceInternalTrafficPolicyCluster),
			IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol}, IPFamilyPolicy: ptr(corev1.IPFamilyPolicySingleStack),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := expandServices(t, tt.in, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(set.Services) != 1 {
				t.Fatalf("got %d services, want 1", len(set.Services))
			}
			s := set.Services[0].Service
			if s.Namespace != "default" {
				t.Errorf("namespace %q, want default", s.Namespace)
			}
			if diff := cmp.Diff(tt.want, s.Spec); diff != "" {
				t.Errorf("spec (-want +got):\n%s", diff)
			}
		})
	}
}

func TestServiceDefaultsIPv6Range(t *testing.T) {
	set, err := expandServices(t, svcHead+"  ports: [{port: 80}]\n", Options{ServiceCIDR: "fd00:10:96::/112"})
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Services[0].Service.Spec.IPFamilies; len(got) != 1 || got[0] != corev1.IPv6Protocol {
		t.Errorf("ipFamilies %v, want [IPv6]", got)
	}
}

func TestServiceValidation(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts Options
		want string // every line must appear
	}{
		{"name not a DNS-1035 label", "apiVersion: v1\nkind: Service\nmetadata:\n  name: 1web\nspec:\n  ports: [{port: 80}]\n", Options{},
			`a.yaml:4: metadata.name: Invalid value: "1web": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character`},
		{"ports required", svcHead + "  selector: {app: web}\n", Options{},
			"a.yaml:5: spec.ports: Required value"},
		{"port out of range", svcHead + "  ports:\n  - port: 0\n  - name: b\n    port: 70000\n", Options{},
			"a.yaml:7: spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive\n" +
				"a.yaml:7: spec.ports[0].name: Required value\n" +
				"a.yaml:9: spec.ports[1].port: Invalid value: 70000: must be between 1 and 65535, inclusive"},
		{"names unique and DNS labels", svcHead + "  ports:\n  - {name: http, port: 80}\n  - {name: http, port: 81}\n  - {name: Web_1, port: 82}\n", Options{},
			`a.yaml:8: spec.ports[1].name: Duplicate value: "http"` + "\n" +
				`a.yaml:9: spec.ports[2].name: Invalid value: "Web_1": a lowercase RFC 1123 label`},
		{"duplicate port and protocol", svcHead + "  ports:\n  - {name: a, port: 80}\n  - {name: b, port: 80, protocol: UDP}\n  - {name: c, port: 80}\n", Options{},
			`a.yaml:9: spec.ports[2]: Duplicate value: "80/TCP"`},
		{"protocol and targetPort", svcHead + "  ports:\n  - port: 80\n    protocol: HTTP\n    targetPort: not_a_name\n", Options{},
			`a.yaml:8: spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"` + "\n" +
				`a.yaml:9: spec.ports[0].targetPort: Invalid value: "not_a_name": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`},
		{"targetPort number", svcHead + "  ports:\n  - port: 80\n    targetPort: 65536\n", Options{},
			`a.yaml:8: spec.ports[0].targetPort: Invalid value: 65536: must be between 1 and 65535, inclusive`},
		{"nodePort on ClusterIP", svcHead + "  ports:\n  - port: 80\n    nodePort: 30080\n", Options{},
			"a.yaml:8: spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"},
		{"nodePort out of range", svcHead + "  type: NodePort\n  ports:\n  - port: 80\n    nodePort: 8080\n", Options{},
			"a.yaml:9: spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767"},
		{"duplicate nodePort", svcHead + "  type: NodePort\n  ports:\n  - {name: a, port: 80, nodePort: 30080}\n  - {name: b, port: 81, nodePort: 30080}\n", Options{},
			`a.yaml:9: spec.ports[1].nodePort: Duplicate value: "30080/TCP"`},
		{"clusterIP not an IP", svcHead + "  clusterIP: ten\n  ports: [{port: 80}]\n", Options{},
			`a.yaml:6: spec.clusterIP: Invalid value: "ten": must be a valid IP address`},
		{"clusterIP outside the range", svcHead + "  clusterIP: 10.0.0.5\n  ports: [{port: 80}]\n", Options{ServiceCIDR: "10.96.0.0/16"},
			`a.yaml:6: spec.clusterIP: Invalid value: "10.0.0.5": failed to allocate IP 10.0.0.5: the provided IP (10.0.0.5) is not in the valid range. The range of valid IPs is 10.96.0.0/16 (podrun's --service-cidr)`},
		{"headless NodePort", svcHead + "  type: NodePort\n  clusterIP: None\n  ports: [{port: 80}]\n", Options{},
			`a.yaml:7: spec.clusterIP: Invalid value: "None": may not be set to 'None' for NodePort services`},
		{"ExternalName needs a name", svcHead + "  type: ExternalName\n", Options{},
			"a.yaml:5: spec.externalName: Required value"},
		{"ExternalName with a clusterIP and a bad name", svcHead + "  type: ExternalName\n  clusterIP: 10.96.0.20\n  externalName: Bad_Name\n", Options{},
			"a.yaml:7: spec.clusterIP: Forbidden: may not be set for ExternalName services\n" +
				`a.yaml:8: spec.externalName: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain`},
		{"selector labels", svcHead + "  selector: {\"a b\": x}\n  ports: [{port: 80}]\n", Options{},
			`a.yaml:6: spec.selector: Invalid value: "a b": name part must consist of alphanumeric characters`},
		{"session affinity", svcHead + "  sessionAffinity: Sticky\n  ports: [{port: 80}]\n", Options{},
			`a.yaml:6: spec.sessionAffinity: Unsupported value: "Sticky": supported values: "None", "ClientIP"`},
		{"affinity timeout", svcHead + "  sessionAffinity: ClientIP\n  sessionAffinityConfig:\n    clientIP:\n      timeoutSeconds: 86401\n  ports: [{port: 80}]\n", Options{},
			"a.yaml:9: spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 86401: must be greater than 0 and less than 86400"},
		{"affinity config with None", svcHead + "  sessionAffinityConfig:\n    clientIP: {timeoutSeconds: 10}\n  ports: [{port: 80}]\n", Options{},
			"a.yaml:6: spec.sessionAffinityConfig: Forbidden: must not be set when session affinity is None"},
		{"type", svcHead + "  type: Ingress\n  ports: [{port: 80}]\n", Options{},
			`a.yaml:6: spec.type: Unsupported value: "Ingress": supported values: "ClusterIP", "NodePort", "LoadBalancer", "ExternalName"`},
		{"dual stack", svcHead + "  ipFamilyPolicy: RequireDualStack\n  ipFamilies: [IPv6]\n  ports: [{port: 80}]\n", Options{},
			`a.yaml:6: spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services` + "\n" +
				`a.yaml:7: spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster (its service range is 10.96.0.0/16)`},
		{"unknown field", svcHead + "  ports: [{port: 80, prot: TCP}]\n", Options{},
			`a.yaml:6: spec.ports[0].prot: unknown field`},
		{"allocateLoadBalancerNodePorts on NodePort", svcHead + "  type: NodePort\n  allocateLoadBalancerNodePorts: false\n  ports: [{port: 80}]\n", Options{},
			"a.yaml:7: spec.allocateLoadBalancerNodePorts: Forbidden: may only be used when `type` is 'LoadBalancer'"},
		{"externalTrafficPolicy on ClusterIP", svcHead + "  externalTrafficPolicy: Local\n  ports: [{port: 80}]\n", Options{},
			`a.yaml:6: spec.externalTrafficPolicy: Invalid value: "Local": may only be set when ` + "`type` is 'NodePort' or 'LoadBalancer'"},
		{"duplicate Service", svcHead + "  ports: [{port: 80}]\n---\n" + svcHead + "  ports: [{port: 81}]\n", Options{},
			`a.yaml:11: metadata.name: Duplicate value: "web": service "web" in namespace "default" is already defined at a.yaml:1`},
		{"wrong apiVersion", "apiVersion: apps/v1\nkind: Service\nmetadata: {name: s}\n", Options{},
			`a.yaml:1: apiVersion: Unsupported value: "apps/v1": supported values: "v1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := expandServices(t, tt.in, tt.opts)
			if err == nil {
				t.Fatalf("accepted, want:\n%s", tt.want)
			}
			for _, line := range strings.Split(tt.want, "\n") {
				if !strings.Contains(err.Error(), line) {
					t.Errorf("error:\n%v\nwant it to contain:\n%s", err, line)
				}
			}
		})
	}
}

func TestServiceAt(t *testing.T) {
	set, err := expandServices(t, svcHead+"  type: NodePort\n  ports:\n  - port: 80\n    nodePort: 30080\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := set.Services[0].At("spec.ports[0].nodePort").String(); got != "a.yaml:9" {
		t.Errorf("At = %s, want a.yaml:9", got)
	}
	if got := set.Services[0].At("spec.clusterIP").String(); got != "a.yaml:5" {
		t.Errorf("At(absent) = %s, want the spec's line a.yaml:5", got)
	}
}
