package main

// Endpoints integration test: the endpoints of a Service follow its
// pods' readiness and existence, with no daemon running.

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/podrun/podrun/runner/objects"
	"github.com/podrun/podrun/runner/services"
)

// endpointsPod is a pod labelled app=web declaring port http, ready
// while /tmp/ready exists (probed every second).
func endpointsPod(name string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
  labels: {app: web}
spec:
  terminationGracePeriodSeconds: 4
  containers:
  - name: web
    image: %s
    command: ["sh", "-c", "touch /tmp/ready; exec sleep 3600"]
    ports: [{name: http, containerPort: 8080}]
    readinessProbe:
      exec: {command: ["cat", "/tmp/ready"]}
      periodSeconds: 1
      failureThreshold: 1
`, name, lifeImage)
}

// storeService stores svc and syncs its endpoints as apply of a Service
// does (runner.ServicesChanged), before the test has any pod.
func storeService(t *testing.T, e *env, svc *corev1.Service) {
	t.Helper()
	store := objects.Open(filepath.Join(e.runRoot, "objects"))
	if _, err := store.Services.Put(svc); err != nil {
		t.Fatal(err)
	}
	noPods := func(context.Context, string) ([]corev1.Pod, error) { return nil, nil }
	if err := services.ServicesChanged(context.Background(), services.Config{RunRoot: e.runRoot, Objects: store, Pods: noPods}, svc.Namespace); err != nil {
		t.Fatal(err)
	}
}

// readyEndpoints are the ready addresses of Endpoints web, "ip:port".
func readyEndpoints(e *env) []string {
	e.t.Helper()
	var ep corev1.Endpoints
	if err := json.Unmarshal([]byte(e.must("get", "endpoints", "web", "-o", "json")), &ep); err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, s := range ep.Subsets {
		for _, a := range s.Addresses {
			for _, p := range s.Ports {
				out = append(out, fmt.Sprintf("%s:%d", a.IP, p.Port))
			}
		}
	}
	slices.Sort(out)
	return out
}

// waitEndpoints polls until Endpoints web's ready addresses are want, and
// returns how long that took.
func waitEndpoints(t *testing.T, e *env, within time.Duration, want ...string) time.Duration {
	t.Helper()
	slices.Sort(want)
	start := time.Now()
	var got []string
	for time.Since(start) < within {
		if got = readyEndpoints(e); slices.Equal(got, want) {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("after %s the ready endpoints are %v, want %v\n%s", within, got, want, e.must("get", "endpointslices", "-o", "yaml"))
	return 0
}

// TestEndpointsFollowPods: a Service's endpoints list its Ready pods, a
// pod turning unready leaves them within one probe period and comes back
// when ready again, and a deleted pod is terminating (out of the ready
// endpoints) during its grace period and gone once delete returns.
func TestEndpointsFollowPods(t *testing.T) {
	e := lifeEnv(t)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "web-uid"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("http")}},
		},
	}
	storeService(t, e, svc)
	e.must("apply", "-f", e.manifest("pods.yaml", endpointsPod("web-1")+"---\n"+endpointsPod("web-2")))
	ip1, ip2 := e.pod("web-1").Status.PodIP, e.pod("web-2").Status.PodIP
	if ip1 == "" || ip2 == "" {
		t.Fatalf("pod IPs %q %q", ip1, ip2)
	}
	both := []string{ip1 + ":8080", ip2 + ":8080"}
	waitEndpoints(t, e, 20*time.Second, both...)
	if out := e.must("get", "ep"); !strings.Contains(out, "ENDPOINTS") || !strings.Contains(out, ip1+":8080") {
		t.Errorf("get ep:\n%s", out)
	}

	// One probe period (1 s) and a margin: the probe's verdict syncs.
	const bound = 3 * time.Second
	e.must("exec", "web-1", "--", "rm", "/tmp/ready")
	took := waitEndpoints(t, e, bound, ip2+":8080")
	t.Logf("web-1 left the endpoints %s after turning unready", took)
	var slice discoveryv1.EndpointSlice
	var list struct{ Items []discoveryv1.EndpointSlice }
	if err := json.Unmarshal([]byte(e.must("get", "endpointslices", "-o", "json")), &list); err != nil || len(list.Items) != 1 {
		t.Fatalf("endpointslices: %v, %d", err, len(list.Items))
	}
	slice = list.Items[0]
	if slice.Labels[discoveryv1.LabelServiceName] != "web" || len(slice.Ports) != 1 || *slice.Ports[0].Port != 8080 || len(slice.Endpoints) != 2 {
		t.Fatalf("slice: %+v", slice)
	}
	for _, ep := range slice.Endpoints {
		c := ep.Conditions
		wantReady := ep.Addresses[0] == ip2
		if *c.Ready != wantReady || *c.Serving != wantReady || *c.Terminating {
			t.Errorf("endpoint %s: ready %t serving %t terminating %t; want ready and serving %t", ep.Addresses[0], *c.Ready, *c.Serving, *c.Terminating, wantReady)
		}
	}
	if out := e.must("get", "endpointslices"); !strings.Contains(out, "ADDRESSTYPE") || !strings.Contains(out, "IPv4") {
		t.Errorf("get endpointslices:\n%s", out)
	}

	e.must("exec", "web-1", "--", "touch", "/tmp/ready")
	waitEndpoints(t, e, bound, both...)

	// sleep ignores SIGTERM: web-2 terminates for its grace period, out
	// of the ready endpoints but listed as terminating, still serving.
	deleted := make(chan error, 1)
	go func() { _, _, err := e.run("delete", "pod", "web-2"); deleted <- err }()
	eventually(t, 3*time.Second, func() error {
		var list struct{ Items []discoveryv1.EndpointSlice }
		if err := json.Unmarshal([]byte(e.must("get", "endpointslices", "-o", "json")), &list); err != nil {
			return err
		}
		for _, ep := range list.Items[0].Endpoints {
			if c := ep.Conditions; ep.Addresses[0] == ip2 && *c.Terminating && *c.Serving && !*c.Ready {
				return nil
			}
		}
		return fmt.Errorf("web-2 is not terminating and serving in %+v", list.Items[0].Endpoints)
	})
	if got := readyEndpoints(e); !slices.Equal(got, []string{ip1 + ":8080"}) {
		t.Errorf("while web-2 terminates the endpoints are %v", got)
	}
	if err := <-deleted; err != nil {
		t.Fatalf("delete pod web-2: %v", err)
	}
	if got := readyEndpoints(e); !slices.Equal(got, []string{ip1 + ":8080"}) {
		t.Errorf("once web-2 is deleted the endpoints are %v", got)
	}
	e.must("delete", "pod", "web-1")
	if out := e.must("get", "endpoints", "web"); !strings.Contains(out, "<none>") {
		t.Errorf("endpoints with no pod left:\n%s", out)
	}
}

// TestEndpointsFollowDeployment: the pods a Deployment's supervisor
// creates and deletes enter and leave its Service's endpoints: the
// controller's path through apply and delete syncs too.
func TestEndpointsFollowDeployment(t *testing.T) {
	e := lifeEnv(t)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "web-uid"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(8080)}},
		},
	}
	storeService(t, e, svc)
	path := e.manifest("web.yaml", deploymentYAML("web", 2, "v1"))
	t.Cleanup(func() { e.run("delete", "-f", path) })
	e.must("apply", "-f", path)
	count := func(want int) {
		t.Helper()
		eventually(t, 30*time.Second, func() error {
			if got := readyEndpoints(e); len(got) != want {
				return fmt.Errorf("ready endpoints %v, want %d", got, want)
			}
			return nil
		})
	}
	count(2)
	e.must("scale", "deployment/web", "--replicas", "1")
	count(1)
	e.must("delete", "-f", path)
	count(0)
}
