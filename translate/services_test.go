package translate

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func service(name, ip string, ports ...corev1.ServicePort) *corev1.Service {
	s := &corev1.Service{Spec: corev1.ServiceSpec{ClusterIP: ip, Ports: ports}}
	s.Namespace, s.Name = "default", name
	return s
}

// TestServiceEnv: a Service named redis-primary with TCP port 6379 at
// 10.0.0.11 gives what the Kubernetes documentation lists (Service,
// "Environment variables"); a named port adds its _SERVICE_PORT_NAME.
func TestServiceEnv(t *testing.T) {
	pod := basePod()
	pod.Namespace = "default"
	redis := service("redis-primary", "10.0.0.11", corev1.ServicePort{Port: 6379, Protocol: corev1.ProtocolTCP})
	web := service("web", "10.96.0.20", corev1.ServicePort{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP},
		corev1.ServicePort{Name: "dns-udp", Port: 53, Protocol: corev1.ProtocolUDP})
	headless := service("db", corev1.ClusterIPNone, corev1.ServicePort{Port: 5432})
	external := service("ext", "")
	elsewhere := service("other", "10.96.0.30", corev1.ServicePort{Port: 80})
	elsewhere.Namespace = "shop"
	got := serviceEnv(pod, []*corev1.Service{redis, headless, external, elsewhere, web})
	want := []string{
		"REDIS_PRIMARY_SERVICE_HOST=10.0.0.11",
		"REDIS_PRIMARY_SERVICE_PORT=6379",
		"REDIS_PRIMARY_PORT=tcp://10.0.0.11:6379",
		"REDIS_PRIMARY_PORT_6379_TCP=tcp://10.0.0.11:6379",
		"REDIS_PRIMARY_PORT_6379_TCP_PROTO=tcp",
		"REDIS_PRIMARY_PORT_6379_TCP_PORT=6379",
		"REDIS_PRIMARY_PORT_6379_TCP_ADDR=10.0.0.11",
		"WEB_SERVICE_HOST=10.96.0.20",
		"WEB_SERVICE_PORT=80",
		"WEB_SERVICE_PORT_HTTP=80",
		"WEB_SERVICE_PORT_DNS_UDP=53",
		"WEB_PORT=tcp://10.96.0.20:80",
		"WEB_PORT_80_TCP=tcp://10.96.0.20:80",
		"WEB_PORT_80_TCP_PROTO=tcp",
		"WEB_PORT_80_TCP_PORT=80",
		"WEB_PORT_80_TCP_ADDR=10.96.0.20",
		"WEB_PORT_53_UDP=udp://10.96.0.20:53",
		"WEB_PORT_53_UDP_PROTO=udp",
		"WEB_PORT_53_UDP_PORT=53",
		"WEB_PORT_53_UDP_ADDR=10.96.0.20",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	off := false
	pod.Spec.EnableServiceLinks = &off
	if got := serviceEnv(pod, []*corev1.Service{redis}); len(got) != 0 {
		t.Errorf("enableServiceLinks false: %v", got)
	}
}

// TestServiceEnvInContainers: the Services' variables come after env,
// give way to a variable of env or envFrom of the same name, and serve
// $(VAR) in env and in the command.
func TestServiceEnvInContainers(t *testing.T) {
	in := envInput([]corev1.EnvVar{
		{Name: "URL", Value: "http://$(WEB_SERVICE_HOST):$(WEB_SERVICE_PORT)/"},
		{Name: "WEB_PORT", Value: "mine"},
	}, nil)
	in.Pod.Namespace = "default"
	in.Services = []*corev1.Service{service("web", "10.96.0.20", corev1.ServicePort{Port: 80, Protocol: corev1.ProtocolTCP})}
	in.Pod.Spec.Containers[0].Command = []string{"wget", "$(WEB_PORT_80_TCP_ADDR)"}
	plan, err := Pod(in)
	if err != nil {
		t.Fatal(err)
	}
	c := plan.Containers[0].Spec.Process
	want := []string{"PATH=/bin", "HOSTNAME=web",
		"URL=http://10.96.0.20:80/", "WEB_PORT=mine",
		"WEB_SERVICE_HOST=10.96.0.20", "WEB_SERVICE_PORT=80",
		"WEB_PORT_80_TCP=tcp://10.96.0.20:80", "WEB_PORT_80_TCP_PROTO=tcp", "WEB_PORT_80_TCP_PORT=80", "WEB_PORT_80_TCP_ADDR=10.96.0.20",
	}
	if diff := cmp.Diff(want, c.Env); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"wget", "10.96.0.20"}, c.Args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
}
