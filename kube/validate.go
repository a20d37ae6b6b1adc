package kube

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The checks below follow the API server's (k8s.io/kubernetes
// pkg/apis/core/validation), with its wording, for the fields podrun
// reads. They run on a defaulted pod, as the API server's do.

// validatePod validates a defaulted pod.
func validatePod(p *corev1.Pod) field.ErrorList {
	errs := validateMeta(&p.ObjectMeta, field.NewPath("metadata"))
	errs = append(errs, validateAppArmorAnnotations(p)...)
	return append(errs, validateSpec(&p.Spec, field.NewPath("spec"))...)
}

// validateMeta validates metadata as for a namespaced object named by a
// DNS subdomain. generateName is refused, as kubectl apply refuses it.
func validateMeta(m *metav1.ObjectMeta, p *field.Path) field.ErrorList {
	errs := apivalidation.ValidateObjectMeta(m, true, apivalidation.NameIsDNSSubdomain, p)
	if m.Name != "" || m.GenerateName == "" {
		return errs
	}
	out := field.ErrorList{field.Forbidden(p.Child("generateName"), "cannot use generate name with apply; set metadata.name, or use podrun create -f")}
	for _, e := range errs {
		if e.Field != p.Child("name").String() {
			out = append(out, e)
		}
	}
	return out
}

func validateSpec(s *corev1.PodSpec, p *field.Path) field.ErrorList {
	vols, errs := validateVolumes(s.Volumes, p.Child("volumes"))
	errs = append(errs, validateContainers(s, vols, p)...)
	errs = append(errs, validateRestartPolicy(s.RestartPolicy, p.Child("restartPolicy"))...)
	errs = append(errs, validateDNS(s, p)...)
	errs = append(errs, validateHostnames(s, p)...)
	errs = append(errs, validateProcess(s, p)...)
	if s.TerminationGracePeriodSeconds != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(*s.TerminationGracePeriodSeconds, p.Child("terminationGracePeriodSeconds"))...)
	}
	if v := s.ActiveDeadlineSeconds; v != nil && (*v < 1 || *v > math.MaxInt32) {
		errs = append(errs, field.Invalid(p.Child("activeDeadlineSeconds"), *v, validation.InclusiveRangeError(1, math.MaxInt32)))
	}
	return errs
}

// validateContainers validates app then init containers, whose names
// are unique across both, and the pod's host ports.
func validateContainers(s *corev1.PodSpec, vols map[string]corev1.VolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(s.Containers) == 0 {
		errs = append(errs, field.Required(p.Child("containers"), ""))
	}
	names := map[string]bool{}
	for i := range s.Containers {
		errs = append(errs, validateContainer(&s.Containers[i], false, names, vols, p.Child("containers").Index(i))...)
	}
	for i := range s.InitContainers {
		errs = append(errs, validateContainer(&s.InitContainers[i], true, names, vols, p.Child("initContainers").Index(i))...)
	}
	for _, list := range []struct {
		ctrs []corev1.Container
		path *field.Path
	}{{s.Containers, p.Child("containers")}, {s.InitContainers, p.Child("initContainers")}} {
		errs = append(errs, validateHostPorts(list.ctrs, list.path)...)
		if s.HostNetwork {
			errs = append(errs, validateHostNetwork(list.ctrs, list.path)...)
		}
	}
	return errs
}

// validateContainer validates one container; names holds the names of
// the containers validated before it.
func validateContainer(c *corev1.Container, init bool, names map[string]bool, vols map[string]corev1.VolumeSource, p *field.Path) field.ErrorList {
	errs := validateContainerName(c.Name, names, p.Child("name"))
	if c.Image == "" {
		errs = append(errs, field.Required(p.Child("image"), ""))
	} else if strings.TrimSpace(c.Image) != c.Image {
		errs = append(errs, field.Invalid(p.Child("image"), c.Image, "must not have leading or trailing whitespace"))
	}
	errs = append(errs, validatePullPolicy(c.ImagePullPolicy, p.Child("imagePullPolicy"))...)
	errs = append(errs, validateTerminationMessagePolicy(c.TerminationMessagePolicy, p.Child("terminationMessagePolicy"))...)
	errs = append(errs, validateContainerRestartPolicy(c.RestartPolicy, init, p.Child("restartPolicy"))...)
	errs = append(errs, validatePorts(c.Ports, p.Child("ports"))...)
	errs = append(errs, validateEnv(c.Env, p.Child("env"))...)
	errs = append(errs, validateMounts(c, vols, p.Child("volumeMounts"))...)
	errs = append(errs, validateResources(&c.Resources, p.Child("resources"))...)
	return errs
}

func validateContainerName(name string, names map[string]bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		return append(errs, field.Required(p, ""))
	}
	for _, msg := range validation.IsDNS1123Label(name) {
		errs = append(errs, field.Invalid(p, name, msg))
	}
	if names[name] {
		errs = append(errs, field.Duplicate(p, name))
	}
	names[name] = true
	return errs
}

func validatePullPolicy(v corev1.PullPolicy, p *field.Path) field.ErrorList {
	return oneOf(v, p, corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever)
}

func validateTerminationMessagePolicy(v corev1.TerminationMessagePolicy, p *field.Path) field.ErrorList {
	return oneOf(v, p, corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError)
}

func validateRestartPolicy(v corev1.RestartPolicy, p *field.Path) field.ErrorList {
	return oneOf(v, p, corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever)
}

// oneOf checks that a required enumeration has one of its values.
func oneOf[T ~string](v T, p *field.Path, valid ...T) field.ErrorList {
	switch {
	case v == "":
		return field.ErrorList{field.Required(p, "")}
	case !contains(valid, v):
		return field.ErrorList{field.NotSupported(p, v, valid)}
	}
	return nil
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// validateContainerRestartPolicy allows only init containers to set a
// restart policy, and only Always (a sidecar).
func validateContainerRestartPolicy(v *corev1.ContainerRestartPolicy, init bool, p *field.Path) field.ErrorList {
	switch {
	case v == nil:
		return nil
	case !init:
		return field.ErrorList{field.Forbidden(p, "may not be set for non-init containers")}
	case *v != corev1.ContainerRestartPolicyAlways:
		return field.ErrorList{field.NotSupported(p, *v, []corev1.ContainerRestartPolicy{corev1.ContainerRestartPolicyAlways})}
	}
	return nil
}

var portProtocols = []corev1.Protocol{corev1.ProtocolSCTP, corev1.ProtocolTCP, corev1.ProtocolUDP}

func validatePorts(ports []corev1.ContainerPort, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	for i, port := range ports {
		ip := p.Index(i)
		if port.Name != "" {
			msgs := validation.IsValidPortName(port.Name)
			for _, msg := range msgs {
				errs = append(errs, field.Invalid(ip.Child("name"), port.Name, msg))
			}
			if len(msgs) == 0 && names[port.Name] {
				errs = append(errs, field.Duplicate(ip.Child("name"), port.Name))
			}
			names[port.Name] = true
		}
		if port.ContainerPort == 0 {
			errs = append(errs, field.Required(ip.Child("containerPort"), ""))
		}
		for _, msg := range validation.IsValidPortNum(int(port.ContainerPort)) {
			if port.ContainerPort != 0 {
				errs = append(errs, field.Invalid(ip.Child("containerPort"), port.ContainerPort, msg))
			}
		}
		for _, msg := range validation.IsValidPortNum(int(port.HostPort)) {
			if port.HostPort != 0 {
				errs = append(errs, field.Invalid(ip.Child("hostPort"), port.HostPort, msg))
			}
		}
		errs = append(errs, oneOf(port.Protocol, ip.Child("protocol"), portProtocols...)...)
	}
	return errs
}

// validateHostPorts refuses two ports with the same host port, protocol
// and host IP.
func validateHostPorts(ctrs []corev1.Container, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, c := range ctrs {
		for j, port := range c.Ports {
			if port.HostPort == 0 {
				continue
			}
			key := fmt.Sprintf("%s/%s/%d", port.Protocol, port.HostIP, port.HostPort)
			if seen[key] {
				errs = append(errs, field.Duplicate(p.Index(i).Child("ports").Index(j).Child("hostPort"), key))
			}
			seen[key] = true
		}
	}
	return errs
}

func validateHostNetwork(ctrs []corev1.Container, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, c := range ctrs {
		for j, port := range c.Ports {
			if port.HostPort != port.ContainerPort {
				errs = append(errs, field.Invalid(p.Index(i).Child("ports").Index(j).Child("containerPort"),
					port.ContainerPort, "must match `hostPort` when `hostNetwork` is true"))
			}
		}
	}
	return errs
}

func validateEnv(env []corev1.EnvVar, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ev := range env {
		ip := p.Index(i)
		if ev.Name == "" {
			errs = append(errs, field.Required(ip.Child("name"), ""))
		}
		for _, msg := range validation.IsRelaxedEnvVarName(ev.Name) {
			if ev.Name != "" {
				errs = append(errs, field.Invalid(ip.Child("name"), ev.Name, msg))
			}
		}
		errs = append(errs, validateEnvSource(ev, ip.Child("valueFrom"))...)
	}
	return errs
}

// validateEnvSource checks that valueFrom names exactly one source, and
// not alongside value.
func validateEnvSource(ev corev1.EnvVar, p *field.Path) field.ErrorList {
	from := ev.ValueFrom
	if from == nil {
		return nil
	}
	n := setFields(*from)
	switch {
	case n == 0:
		return field.ErrorList{field.Invalid(p, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`")}
	case ev.Value != "":
		return field.ErrorList{field.Invalid(p, "", "may not be specified when `value` is not empty")}
	case n > 1:
		return field.ErrorList{field.Invalid(p, "", "may not have more than one field specified at a time")}
	}
	var errs field.ErrorList
	if r := from.ConfigMapKeyRef; r != nil {
		errs = append(errs, validateKeyRef(r.Name, r.Key, p.Child("configMapKeyRef"))...)
	}
	if r := from.SecretKeyRef; r != nil {
		errs = append(errs, validateKeyRef(r.Name, r.Key, p.Child("secretKeyRef"))...)
	}
	if r := from.FieldRef; r != nil && r.FieldPath == "" {
		errs = append(errs, field.Required(p.Child("fieldRef", "fieldPath"), ""))
	}
	if r := from.ResourceFieldRef; r != nil && r.Resource == "" {
		errs = append(errs, field.Required(p.Child("resourceFieldRef", "resource"), ""))
	}
	return errs
}

func validateKeyRef(name, key string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	}
	if key == "" {
		return append(errs, field.Required(p.Child("key"), ""))
	}
	for _, msg := range validation.IsConfigMapKey(key) {
		errs = append(errs, field.Invalid(p.Child("key"), key, msg))
	}
	return errs
}

// setFields counts the non-nil pointer fields of a struct, such as the
// sources of a volume or of an environment variable.
func setFields(v any) int {
	n := 0
	rv := reflect.ValueOf(v)
	for i := range rv.NumField() {
		if f := rv.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			n++
		}
	}
	return n
}

// sortedByField orders errors found by walking a map, so that messages
// come out the same on every run.
func sortedByField(errs field.ErrorList) field.ErrorList {
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
	return errs
}
