package kube

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	intstrpkg "k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// portNameWarnings warn, at its line, of each probe or lifecycle handler
// of pod that names a port its container does not declare. The API
// server accepts such a pod; the kubelet then fails the probe or hook
// every time it runs ("couldn't find port"), which is found late, in
// events, without a line.
func portNameWarnings(o Object, pod *corev1.Pod) []string {
	var out []string
	check := func(c *corev1.Container, port intstrpkg.IntOrString, p *field.Path) {
		if port.Type != intstrpkg.String {
			return
		}
		for _, cp := range c.Ports {
			if cp.Name == port.StrVal {
				return
			}
		}
		src := o.Source
		if n := o.Lines.Find(p.String()); n > 0 {
			src.Line = n
		}
		out = append(out, fmt.Sprintf("%s: %s: container %q declares no port named %q, so this will fail every time it runs",
			src, p, c.Name, port.StrVal))
	}
	handler := func(c *corev1.Container, h *corev1.ProbeHandler, p *field.Path) {
		if h.HTTPGet != nil {
			check(c, h.HTTPGet.Port, p.Child("httpGet", "port"))
		}
		if h.TCPSocket != nil {
			check(c, h.TCPSocket.Port, p.Child("tcpSocket", "port"))
		}
	}
	for _, list := range []struct {
		cs   []corev1.Container
		path *field.Path
	}{{pod.Spec.InitContainers, field.NewPath("spec", "initContainers")}, {pod.Spec.Containers, field.NewPath("spec", "containers")}} {
		for i := range list.cs {
			c, p := &list.cs[i], list.path.Index(i)
			for _, probe := range []struct {
				name string
				p    *corev1.Probe
			}{{"livenessProbe", c.LivenessProbe}, {"readinessProbe", c.ReadinessProbe}, {"startupProbe", c.StartupProbe}} {
				if probe.p != nil {
					handler(c, &probe.p.ProbeHandler, p.Child(probe.name))
				}
			}
			if l := c.Lifecycle; l != nil {
				for _, hook := range []struct {
					name string
					h    *corev1.LifecycleHandler
				}{{"postStart", l.PostStart}, {"preStop", l.PreStop}} {
					if hook.h != nil {
						handler(c, &corev1.ProbeHandler{HTTPGet: hook.h.HTTPGet, TCPSocket: hook.h.TCPSocket}, p.Child("lifecycle", hook.name))
					}
				}
			}
		}
	}
	return out
}
