package main

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestParseForwardPort(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.PodSpec{Containers: []corev1.Container{
		{Name: "main", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8000}}}}}}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
		{Name: "web", Port: 80, TargetPort: intstr.FromString("http")},
		{Name: "admin", Port: 81, TargetPort: intstr.FromInt32(9000)},
		{Name: "same", Port: 82},
		{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP},
	}}}
	for _, tc := range []struct {
		spec          string
		svc           *corev1.Service
		local, remote int
		err           bool
	}{
		{"8080:80", nil, 8080, 80, false},
		{"80", nil, 80, 80, false},
		{":80", nil, 0, 80, false},
		{"9090:http", nil, 9090, 8000, false},
		{"http", nil, 8000, 8000, false},
		{"8080:80", svc, 8080, 8000, false},
		{"80", svc, 80, 8000, false},
		{":admin", svc, 0, 9000, false},
		{"82", svc, 82, 82, false},
		{"8080:99", svc, 0, 0, true},
		{"53", svc, 0, 0, true},
		{"8080:nope", nil, 0, 0, true},
		{"x:80", nil, 0, 0, true},
		{"8080:70000", nil, 0, 0, true},
	} {
		got, err := parseForwardPort(tc.spec, pod, tc.svc)
		if tc.err {
			if err == nil {
				t.Errorf("%s (service %v): accepted as %+v", tc.spec, tc.svc != nil, got)
			}
			continue
		}
		if err != nil || got.local != tc.local || int(got.remote) != tc.remote {
			t.Errorf("%s (service %v): %+v %v, want %d:%d", tc.spec, tc.svc != nil, got, err, tc.local, tc.remote)
		}
	}
}
