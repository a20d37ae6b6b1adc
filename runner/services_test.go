package runner

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner/objects"
)

// loadServices decodes and expands manifests of Services against cidr.
func loadServices(t *testing.T, cidr, yaml string) []kube.Service {
	t.Helper()
	objs, err := kube.Decode("svc.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	set, err := kube.Expand(objs, kube.Options{ServiceCIDR: cidr})
	if err != nil {
		t.Fatal(err)
	}
	return set.Services
}

func svcYAML(name, spec string) string {
	return "apiVersion: v1\nkind: Service\nmetadata:\n  name: " + name + "\nspec:\n" + spec
}

func TestAllocateClusterIP(t *testing.T) {
	cidr := netip.MustParsePrefix("10.96.0.0/16")
	stored := []*corev1.Service{{}}
	stored[0].Namespace, stored[0].Name = "default", "db"
	stored[0].Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.50", Ports: []corev1.ServicePort{{Port: 5432}}}
	tests := []struct {
		name, spec string
		want       string // the ClusterIP, or the error's text
	}{
		{"given", "  clusterIP: 10.96.7.7\n  ports: [{port: 80}]\n", "10.96.7.7"},
		{"taken", "  clusterIP: 10.96.0.50\n  ports: [{port: 80}]\n",
			`svc.yaml:6: service default/web: spec.clusterIP: Invalid value: "10.96.0.50": failed to allocate IP 10.96.0.50: provided IP is already allocated to service default/db`},
		{"the kubernetes Service's", "  clusterIP: 10.96.0.1\n  ports: [{port: 80}]\n",
			`provided IP is already allocated: it is the kubernetes Service's address`},
		{"the DNS address", "  clusterIP: 10.96.0.10\n  ports: [{port: 80}]\n",
			`provided IP is already allocated: it is the cluster DNS address`},
		{"headless", "  clusterIP: None\n  ports: [{port: 80}]\n", "None"},
		{"ExternalName", "  type: ExternalName\n  externalName: db.example.com\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAllocator(cidr, stored)
			svc, err := a.allocate(loadServices(t, "", svcYAML("web", tt.spec))[0])
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				got = svc.Spec.ClusterIP
			}
			if !strings.Contains(got, tt.want) || (err == nil && got != tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestAllocateRandomIPs fills a /28: every address but the network's,
// the first, the DNS one and the broadcast is given once, then the range
// is full.
func TestAllocateRandomIPs(t *testing.T) {
	cidr := netip.MustParsePrefix("10.0.0.0/28")
	a := newAllocator(cidr, nil)
	seen := map[string]bool{}
	for i := range 12 {
		svc, err := a.allocate(loadServices(t, cidr.String(), svcYAML(fmt.Sprintf("s%d", i), "  ports: [{port: 80}]\n"))[0])
		if err != nil {
			t.Fatalf("service %d: %v", i, err)
		}
		ip := svc.Spec.ClusterIP
		switch {
		case seen[ip]:
			t.Fatalf("%s given twice", ip)
		case ip == "10.0.0.0" || ip == "10.0.0.1" || ip == "10.0.0.10" || ip == "10.0.0.15":
			t.Fatalf("reserved address %s given", ip)
		case !cidr.Contains(netip.MustParseAddr(ip)) || len(svc.Spec.ClusterIPs) != 1 || svc.Spec.ClusterIPs[0] != ip:
			t.Fatalf("bad address %s (%v)", ip, svc.Spec.ClusterIPs)
		}
		seen[ip] = true
	}
	_, err := a.allocate(loadServices(t, cidr.String(), svcYAML("full", "  ports: [{port: 80}]\n"))[0])
	if err == nil || !strings.Contains(err.Error(), "range is full: every address of 10.0.0.0/28 is taken") {
		t.Errorf("13th service: %v, want range is full", err)
	}
}

func TestAllocateNodePorts(t *testing.T) {
	cidr := netip.MustParsePrefix("10.96.0.0/16")
	other := &corev1.Service{}
	other.Namespace, other.Name = "shop", "cart"
	other.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, ClusterIP: "10.96.0.60",
		Ports: []corev1.ServicePort{{Port: 80, NodePort: 30080, Protocol: corev1.ProtocolTCP}}}
	hostPorts := func() (map[string]string, error) { return map[string]string{"30090/TCP": "pod default/proxy"}, nil }
	portFree := func(port int32, proto string) error {
		if port == 30100 {
			return errors.New("hostPort in use: 30100/TCP is held by pid 42 (nc) on this machine")
		}
		return nil
	}
	tests := []struct {
		name, spec string
		want       string // nodePorts joined by ",", or the error's text
	}{
		{"given", "  type: NodePort\n  ports: [{port: 80, nodePort: 31000}]\n", "31000"},
		{"random", "  type: NodePort\n  ports: [{name: a, port: 80}, {name: b, port: 81, protocol: UDP}]\n", "random,random"},
		{"same nodePort for TCP and UDP", "  type: NodePort\n  ports: [{name: a, port: 53, nodePort: 30053}, {name: b, port: 53, protocol: UDP, nodePort: 30053}]\n", "30053,30053"},
		{"LoadBalancer", "  type: LoadBalancer\n  ports: [{port: 443}]\n", "random"},
		{"LoadBalancer without nodePorts", "  type: LoadBalancer\n  allocateLoadBalancerNodePorts: false\n  ports: [{port: 443}]\n", "0"},
		{"ClusterIP", "  ports: [{port: 80}]\n", "0"},
		{"taken by a Service", "  type: NodePort\n  ports:\n  - port: 80\n    nodePort: 30080\n",
			"svc.yaml:9: service default/web: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated to service shop/cart"},
		{"a pod's hostPort", "  type: NodePort\n  ports:\n  - port: 80\n    nodePort: 30090\n",
			"svc.yaml:9: service default/web: spec.ports[0].nodePort: Invalid value: 30090: provided port is already published on this machine by pod default/proxy"},
		{"held on the host", "  type: NodePort\n  ports:\n  - port: 80\n    nodePort: 30100\n",
			"spec.ports[0].nodePort: Invalid value: 30100: provided port cannot be published on this machine: hostPort in use: 30100/TCP is held by pid 42 (nc)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAllocator(cidr, []*corev1.Service{other})
			a.hostPorts, a.portFree = hostPorts, portFree
			svc, err := a.allocate(loadServices(t, "", svcYAML("web", tt.spec))[0])
			if err != nil {
				if !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error %q, want %q", err, tt.want)
				}
				return
			}
			var got []string
			for _, p := range svc.Spec.Ports {
				switch {
				case strings.Contains(tt.want, "random") && p.NodePort >= kube.NodePortMin && p.NodePort <= kube.NodePortMax &&
					p.NodePort != 30080 && p.NodePort != 30090 && p.NodePort != 30100:
					got = append(got, "random")
				default:
					got = append(got, fmt.Sprint(p.NodePort))
				}
			}
			if g := strings.Join(got, ","); g != tt.want {
				t.Errorf("nodePorts %s, want %s", g, tt.want)
			}
			lb := svc.Spec.Type == corev1.ServiceTypeLoadBalancer
			if ing := svc.Status.LoadBalancer.Ingress; lb != (len(ing) == 1 && ing[0].IP == DefaultPublishAddress) {
				t.Errorf("ingress %v for type %s", ing, svc.Spec.Type)
			}
		})
	}
}

func newServiceRunner(t *testing.T, runRoot, cidr string) *Runner {
	t.Helper()
	r, err := New(Config{Root: t.TempDir(), RunRoot: runRoot, ServiceCIDR: cidr})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func applyServices(t *testing.T, r *Runner, yaml string) ([]Outcome, error) {
	t.Helper()
	return r.ApplyServices(context.Background(), loadServices(t, r.cfg.ServiceCIDR, yaml))
}

func storedService(t *testing.T, r *Runner, name string) *corev1.Service {
	t.Helper()
	s, err := r.Objects().Services.Get("default", name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestServiceReapply: what kubectl apply and the API server keep and
// refuse when a Service is applied again.
func TestServiceReapply(t *testing.T) {
	r := newServiceRunner(t, t.TempDir(), "")
	var changed []string
	defer func(old func(context.Context, *Runner, string) error) { servicesChanged = old }(servicesChanged)
	servicesChanged = func(_ context.Context, _ *Runner, ns string) error { changed = append(changed, ns); return nil }

	np := svcYAML("web", "  type: NodePort\n  selector: {app: web}\n  ports: [{port: 80}]\n")
	out, err := applyServices(t, r, np)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Action != "created" || out[0].Kind != "service" {
		t.Fatalf("first apply: %v", out)
	}
	first := storedService(t, r, "web")
	if first.Spec.ClusterIP == "" || first.Spec.Ports[0].NodePort == 0 || first.UID == "" || first.Kind != "Service" {
		t.Fatalf("not allocated: %+v", first.Spec)
	}
	if out, err = applyServices(t, r, np); err != nil || out[0].Action != "unchanged" {
		t.Fatalf("same apply: %v %v", out, err)
	}
	if len(changed) != 1 || changed[0] != "default" {
		t.Errorf("servicesChanged calls %v, want one for default", changed)
	}

	// A label added: configured, the ClusterIP, nodePort and UID kept.
	labelled := strings.Replace(np, "  name: web\n", "  name: web\n  labels: {tier: front}\n", 1)
	if out, err = applyServices(t, r, labelled); err != nil || out[0].Action != "configured" {
		t.Fatalf("changed apply: %v %v", out, err)
	}
	s := storedService(t, r, "web")
	if s.Spec.ClusterIP != first.Spec.ClusterIP || s.Spec.Ports[0].NodePort != first.Spec.Ports[0].NodePort || s.UID != first.UID {
		t.Errorf("re-apply changed what was allocated: %s %d %s, was %s %d %s", s.Spec.ClusterIP, s.Spec.Ports[0].NodePort, s.UID,
			first.Spec.ClusterIP, first.Spec.Ports[0].NodePort, first.UID)
	}

	// Another ClusterIP: immutable.
	other := svcYAML("web", "  type: NodePort\n  clusterIP: 10.96.200.200\n  ports: [{port: 80}]\n")
	if _, err = applyServices(t, r, other); err == nil || !strings.Contains(err.Error(),
		`svc.yaml:7: service default/web: spec.clusterIP: Invalid value: "10.96.200.200": field is immutable (the service has `+first.Spec.ClusterIP) {
		t.Errorf("changed clusterIP: %v", err)
	}

	// To ClusterIP: the nodePort goes, the address stays.
	if _, err = applyServices(t, r, svcYAML("web", "  ports: [{port: 80}]\n")); err != nil {
		t.Fatal(err)
	}
	if s := storedService(t, r, "web"); s.Spec.ClusterIP != first.Spec.ClusterIP || s.Spec.Ports[0].NodePort != 0 {
		t.Errorf("to ClusterIP: %s %d", s.Spec.ClusterIP, s.Spec.Ports[0].NodePort)
	}

	// To ExternalName: the address is released, another Service may take it.
	if _, err = applyServices(t, r, svcYAML("web", "  type: ExternalName\n  externalName: example.com\n")); err != nil {
		t.Fatal(err)
	}
	if s := storedService(t, r, "web"); s.Spec.ClusterIP != "" || len(s.Spec.ClusterIPs) != 0 {
		t.Errorf("ExternalName kept %s", s.Spec.ClusterIP)
	}
	if _, err = applyServices(t, r, svcYAML("api", "  clusterIP: "+first.Spec.ClusterIP+"\n  ports: [{port: 80}]\n")); err != nil {
		t.Errorf("the released address: %v", err)
	}
	// From ExternalName: a new address.
	if _, err = applyServices(t, r, svcYAML("web", "  ports: [{port: 80}]\n")); err != nil {
		t.Fatal(err)
	}
	if s := storedService(t, r, "web"); s.Spec.ClusterIP == "" || s.Spec.ClusterIP == first.Spec.ClusterIP {
		t.Errorf("from ExternalName: %q", s.Spec.ClusterIP)
	}

	// Deleted: gone, its hook called, and deleting again is not found.
	changed = nil
	if err := r.DeleteService(context.Background(), "default", "web"); err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteService(context.Background(), "default", "web"); !errors.Is(err, objects.ErrNotFound) || err.Error() != `services "web" not found` {
		t.Errorf("second delete: %v", err)
	}
	if len(changed) != 1 {
		t.Errorf("servicesChanged after delete: %v", changed)
	}
}

// TestServicesAllOrNothing: a Service that cannot be allocated stores
// none of its set, and ApplySet applies nothing.
func TestServicesAllOrNothing(t *testing.T) {
	r := newServiceRunner(t, t.TempDir(), "")
	if _, err := applyServices(t, r, svcYAML("db", "  clusterIP: 10.96.0.50\n  ports: [{port: 5432}]\n")); err != nil {
		t.Fatal(err)
	}
	in := svcYAML("a", "  ports: [{port: 80}]\n") + "---\n" + svcYAML("b", "  clusterIP: 10.96.0.50\n  ports: [{port: 80}]\n") +
		"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n"
	objs, err := kube.Decode("svc.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	set, err := kube.Expand(objs, kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.ApplySet(context.Background(), set)
	if err == nil || !strings.Contains(err.Error(), "svc.yaml:13: service default/b: spec.clusterIP") || len(out) != 0 {
		t.Fatalf("apply: %v %v", out, err)
	}
	for _, name := range []string{"a", "b"} {
		if _, err := r.Objects().Services.Get("default", name); !errors.Is(err, objects.ErrNotFound) {
			t.Errorf("service %s stored: %v", name, err)
		}
	}
	if _, err := r.Objects().ConfigMaps.Get("default", "cm"); !errors.Is(err, objects.ErrNotFound) {
		t.Errorf("configmap stored: %v", err)
	}
}

// TestServiceRangeFixed: the range of the first Service stays while any
// Service is left.
func TestServiceRangeFixed(t *testing.T) {
	root := t.TempDir()
	r := newServiceRunner(t, root, "10.100.0.0/24")
	if _, err := applyServices(t, r, svcYAML("a", "  ports: [{port: 80}]\n")); err != nil {
		t.Fatal(err)
	}
	other := newServiceRunner(t, root, "10.96.0.0/16")
	_, err := applyServices(t, other, svcYAML("b", "  ports: [{port: 80}]\n"))
	if err == nil || !strings.Contains(err.Error(), "the service range in use under "+root+" is 10.100.0.0/24 (1 Services have addresses from it), not --service-cidr=10.96.0.0/16") {
		t.Fatalf("other range: %v", err)
	}
	if got, _ := other.ServiceCIDR(); got.String() != "10.100.0.0/24" {
		t.Errorf("ServiceCIDR = %s", got)
	}
	if err := r.DeleteService(context.Background(), "default", "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := applyServices(t, other, svcYAML("b", "  ports: [{port: 80}]\n")); err != nil {
		t.Fatalf("once no Service is left: %v", err)
	}
	if got, _ := r.ServiceCIDR(); got.String() != "10.96.0.0/16" {
		t.Errorf("recorded range %s, want the new one", got)
	}
}

// TestServicesConcurrent: applies from several runners at once, as from
// several podrun processes, never share an address.
func TestServicesConcurrent(t *testing.T) {
	root := t.TempDir()
	const workers, each = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		r := newServiceRunner(t, root, "10.0.0.0/26") // 60 addresses for 40 Services
		var yaml []string
		for i := range each {
			yaml = append(yaml, svcYAML(fmt.Sprintf("s%d-%d", w, i), "  ports: [{port: 80}]\n"))
		}
		services := loadServices(t, "10.0.0.0/26", strings.Join(yaml, "---\n"))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, s := range services {
				if _, err := r.ApplyServices(context.Background(), []kube.Service{s}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	all, err := newServiceRunner(t, root, "10.0.0.0/26").Services("")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, s := range all {
		if prev, dup := seen[s.Spec.ClusterIP]; dup {
			t.Errorf("%s given to %s and %s", s.Spec.ClusterIP, prev, s.Name)
		}
		seen[s.Spec.ClusterIP] = s.Name
	}
	if len(all) != workers*each {
		t.Errorf("%d Services stored, want %d", len(all), workers*each)
	}
}

// TestPreviewServices: render's allocation stores nothing and records no
// range; its Services replace stored ones of their name in the pod's
// namespace.
func TestPreviewServices(t *testing.T) {
	r := newServiceRunner(t, t.TempDir(), "")
	if _, err := applyServices(t, r, svcYAML("db", "  ports: [{port: 5432}]\n")+"---\n"+svcYAML("web", "  ports: [{port: 80}]\n")); err != nil {
		t.Fatal(err)
	}
	stored, err := r.Services("default")
	if err != nil {
		t.Fatal(err)
	}
	preview, err := r.previewServices(context.Background(), loadServices(t, "", svcYAML("web", "  ports: [{port: 8080}]\n")+"---\n"+svcYAML("api", "  ports: [{port: 81}]\n")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Objects().Services.Get("default", "api"); !errors.Is(err, objects.ErrNotFound) {
		t.Errorf("preview stored api: %v", err)
	}
	got := withServices(stored, preview, "default")
	var names []string
	for _, s := range got {
		names = append(names, fmt.Sprintf("%s:%d", s.Name, s.Spec.Ports[0].Port))
	}
	if strings.Join(names, ",") != "api:81,db:5432,web:8080" {
		t.Errorf("services %v", names)
	}
	if got[2].Spec.ClusterIP != stored[1].Spec.ClusterIP {
		t.Errorf("preview of web has %s, stored %s", got[2].Spec.ClusterIP, stored[1].Spec.ClusterIP)
	}
	if len(withServices(stored, preview, "shop")) != 2 {
		t.Errorf("another namespace's preview added")
	}
}

// TestServiceQuota: a ResourceQuota of the namespace counts Services and
// their nodePorts, as the API server's admission does.
func TestServiceQuota(t *testing.T) {
	r := newServiceRunner(t, t.TempDir(), "")
	q := &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
		corev1.ResourceServices: resource.MustParse("2"), corev1.ResourceServicesNodePorts: resource.MustParse("0")}}}
	q.Namespace, q.Name = "default", "q"
	if _, err := r.Objects().ResourceQuotas.Put(q); err != nil {
		t.Fatal(err)
	}
	if _, err := applyServices(t, r, svcYAML("a", "  ports: [{port: 80}]\n")); err != nil {
		t.Fatal(err)
	}
	_, err := applyServices(t, r, svcYAML("np", "  type: NodePort\n  ports: [{port: 80}]\n"))
	if err == nil || !strings.Contains(err.Error(), "exceeded quota: q") || !strings.Contains(err.Error(), "services.nodeports") {
		t.Errorf("NodePort over quota: %v", err)
	}
	if _, err := applyServices(t, r, svcYAML("b", "  ports: [{port: 80}]\n")); err != nil {
		t.Fatal(err)
	}
	_, err = applyServices(t, r, svcYAML("c", "  ports: [{port: 80}]\n"))
	if err == nil || !strings.Contains(err.Error(), "exceeded quota: q") {
		t.Errorf("third Service: %v", err)
	}
	if _, err := r.Objects().Services.Get("default", "c"); !errors.Is(err, objects.ErrNotFound) {
		t.Errorf("refused Service stored: %v", err)
	}
}
