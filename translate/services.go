package translate

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// serviceEnv lists the variables the kubelet gives every container for
// the Services of its pod's namespace (Input.Services) when the pod's
// enableServiceLinks is true, its default: for each Service with a
// ClusterIP (not headless, not ExternalName), NAME_SERVICE_HOST,
// NAME_SERVICE_PORT (the first port) and NAME_SERVICE_PORT_<PORT NAME>
// for each named port, then Docker's link variables, NAME_PORT (the
// first port's URL) and NAME_PORT_<port>_<PROTOCOL> with its _PROTO,
// _PORT and _ADDR. NAME is the Service's name in upper case, '-' made
// '_'. Services come in the order given (by name), their variables in
// the kubelet's order.
func serviceEnv(pod *corev1.Pod, services []*corev1.Service) []string {
	if pod.Spec.EnableServiceLinks != nil && !*pod.Spec.EnableServiceLinks {
		return nil
	}
	var env []string
	for _, s := range services {
		ip := s.Spec.ClusterIP
		if s.Namespace != pod.Namespace || ip == "" || ip == corev1.ClusterIPNone || len(s.Spec.Ports) == 0 {
			continue
		}
		prefix := envName(s.Name)
		env = append(env, prefix+"_SERVICE_HOST="+ip, prefix+"_SERVICE_PORT="+strconv.Itoa(int(s.Spec.Ports[0].Port)))
		for _, p := range s.Spec.Ports {
			if p.Name != "" {
				env = append(env, prefix+"_SERVICE_PORT_"+envName(p.Name)+"="+strconv.Itoa(int(p.Port)))
			}
		}
		env = append(env, linkEnv(prefix, ip, s.Spec.Ports)...)
	}
	return env
}

// linkEnv are Docker's link variables for the ports of a Service at ip.
func linkEnv(prefix, ip string, ports []corev1.ServicePort) []string {
	var env []string
	for i, p := range ports {
		proto := string(p.Protocol)
		if proto == "" {
			proto = string(corev1.ProtocolTCP)
		}
		port := strconv.Itoa(int(p.Port))
		url := strings.ToLower(proto) + "://" + hostPort(ip, port)
		if i == 0 {
			env = append(env, prefix+"_PORT="+url)
		}
		pp := fmt.Sprintf("%s_PORT_%s_%s", prefix, port, strings.ToUpper(proto))
		env = append(env, pp+"="+url, pp+"_PROTO="+strings.ToLower(proto), pp+"_PORT="+port, pp+"_ADDR="+ip)
	}
	return env
}

// envName is a Service or port name as a variable name: upper case, '-'
// made '_'.
func envName(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// hostPort joins an address and a port, an IPv6 address in brackets.
func hostPort(ip, port string) string {
	if strings.Contains(ip, ":") {
		return "[" + ip + "]:" + port
	}
	return ip + ":" + port
}
