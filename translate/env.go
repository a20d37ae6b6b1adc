package translate

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// configError is a problem with a container's configuration that the
// kubelet reports as the container's waiting reason
// CreateContainerConfigError, with the pod's other containers running.
// Its text is the kubelet's message.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

func configErrorf(format string, args ...any) error {
	return &configError{msg: fmt.Sprintf(format, args...)}
}

// kubeEnv is the environment the kubelet makes for container c, in order:
// every envFrom source in turn (its keys sorted, with its prefix), then
// env, then the Services' variables (serviceEnv) that neither set. Each
// env value has its $(VAR) references expanded against what comes before
// it and the Services' variables; valueFrom values are not expanded. A later name
// replaces an earlier one (mergeEnv), so env wins over envFrom. Keys of
// an envFrom source that are not valid variable names are skipped, with
// a warning. A missing required ConfigMap, Secret or key is a
// configError. Errors are FieldErrors about the envFrom or env entry of
// c (whose path is fp) that fails.
func (p *podContext) kubeEnv(c *corev1.Container, fp *field.Path) (env []string, warnings []Warning, err error) {
	vars := map[string]string{}
	services := serviceEnv(p.in.Pod, p.in.Services)
	for _, e := range services {
		k, v, _ := strings.Cut(e, "=")
		vars[k] = v
	}
	set := map[string]bool{} // by envFrom and env: the Services' variables give way
	for i, from := range c.EnvFrom {
		data, name, err := p.envFromData(from)
		if err != nil {
			return nil, nil, &FieldError{Field: fp.Child("envFrom").Index(i).String(), Err: err}
		}
		var skipped []string
		for _, k := range sortedKeys(data) {
			key := from.Prefix + k
			if len(validation.IsRelaxedEnvVarName(key)) > 0 {
				skipped = append(skipped, key)
				continue
			}
			env = append(env, key+"="+data[k])
			vars[key] = data[k]
			set[key] = true
		}
		if len(skipped) > 0 {
			warnings = append(warnings, Warning{Field: fp.Child("envFrom").Index(i).String(), Message: fmt.Sprintf(
				"keys [%s] from the EnvFrom %s were skipped since they are considered invalid environment variable names",
				strings.Join(skipped, ", "), name)})
		}
	}
	for i, e := range c.Env {
		value := e.Value
		switch {
		case value != "":
			value = expand(value, vars)
		case e.ValueFrom != nil:
			v, ok, err := p.envValueFrom(c, e.ValueFrom)
			if err != nil {
				return nil, nil, &FieldError{Field: fp.Child("env").Index(i).Child("valueFrom").String(), Err: err}
			}
			if !ok {
				continue // an optional source that is absent
			}
			value = v
		}
		env = append(env, e.Name+"="+value)
		vars[e.Name] = value
		set[e.Name] = true
	}
	for _, e := range services {
		if k, _, _ := strings.Cut(e, "="); !set[k] {
			env = append(env, e)
		}
	}
	return env, warnings, nil
}

// envFromData reads one envFrom source: its data, and how the kubelet
// names it in messages. An absent optional source is empty data.
func (p *podContext) envFromData(from corev1.EnvFromSource) (map[string]string, string, error) {
	ns := p.in.Pod.Namespace
	if r := from.ConfigMapRef; r != nil {
		cm, ok := p.in.ConfigMaps[r.Name]
		switch {
		case !ok && isTrue(r.Optional):
			return nil, "", nil
		case !ok:
			return nil, "", configErrorf("configmap %q not found", r.Name)
		}
		return cm.Data, fmt.Sprintf("configMap %s/%s", ns, r.Name), nil
	}
	r := from.SecretRef
	s, ok := p.in.Secrets[r.Name]
	switch {
	case !ok && isTrue(r.Optional):
		return nil, "", nil
	case !ok:
		return nil, "", configErrorf("secret %q not found", r.Name)
	}
	data := make(map[string]string, len(s.Data))
	for k, v := range s.Data {
		data[k] = string(v)
	}
	return data, fmt.Sprintf("secret %s/%s", ns, r.Name), nil
}

// envValueFrom resolves one valueFrom source; ok is false for an absent
// optional key or object.
func (p *podContext) envValueFrom(c *corev1.Container, from *corev1.EnvVarSource) (value string, ok bool, err error) {
	ns := p.in.Pod.Namespace
	switch {
	case from.FieldRef != nil:
		v, err := p.fieldRef(from.FieldRef.FieldPath)
		return v, err == nil, err
	case from.ResourceFieldRef != nil:
		v, err := p.resourceFieldRef(c, from.ResourceFieldRef)
		return v, err == nil, err
	case from.ConfigMapKeyRef != nil:
		r := from.ConfigMapKeyRef
		cm, found := p.in.ConfigMaps[r.Name]
		if !found {
			return "", false, optionalMissing(r.Optional, "configmap %q not found", r.Name)
		}
		v, found := cm.Data[r.Key]
		if !found {
			return "", false, optionalMissing(r.Optional, "couldn't find key %s in ConfigMap %s/%s", r.Key, ns, r.Name)
		}
		return v, true, nil
	case from.SecretKeyRef != nil:
		r := from.SecretKeyRef
		s, found := p.in.Secrets[r.Name]
		if !found {
			return "", false, optionalMissing(r.Optional, "secret %q not found", r.Name)
		}
		v, found := s.Data[r.Key]
		if !found {
			return "", false, optionalMissing(r.Optional, "couldn't find key %s in Secret %s/%s", r.Key, ns, r.Name)
		}
		return string(v), true, nil
	}
	return "", false, fmt.Errorf("%w: podrun reads configMapKeyRef, secretKeyRef, fieldRef and resourceFieldRef", ErrNotSupported)
}

// optionalMissing is nil for an optional reference, else a configError.
func optionalMissing(optional *bool, format string, args ...any) error {
	if isTrue(optional) {
		return nil
	}
	return configErrorf(format, args...)
}

// fieldRef reads a field of the pod as the kubelet's downward API does.
func (p *podContext) fieldRef(path string) (string, error) {
	return FieldRef(p.in.Pod, p.in.Host.HostIP, p.podIPs(), path)
}

// podIPs are the pod's addresses; a hostNetwork pod has the host's.
func (p *podContext) podIPs() []string {
	switch {
	case p.in.PodIP != "":
		return []string{p.in.PodIP}
	case p.in.Pod.Spec.HostNetwork && p.in.Host.HostIP != "":
		return []string{p.in.Host.HostIP}
	}
	return nil
}

// resourceFieldRef reads a resource of c, or of the container the
// selector names.
func (p *podContext) resourceFieldRef(c *corev1.Container, r *corev1.ResourceFieldSelector) (string, error) {
	target := c
	if r.ContainerName != "" {
		target = findContainer(&p.in.Pod.Spec, r.ContainerName)
		if target == nil {
			return "", fmt.Errorf("resourceFieldRef: no container %q in the pod", r.ContainerName)
		}
	}
	return ResourceFieldRef(target, r, p.in.Host.Allocatable)
}

func findContainer(s *corev1.PodSpec, name string) *corev1.Container {
	for _, list := range [][]corev1.Container{s.InitContainers, s.Containers} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

// envMap turns an environment list into the map $(VAR) sees: a later
// entry wins.
func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		m[k] = v
	}
	return m
}

// expandAll expands every string of list against vars.
func expandAll(list []string, vars map[string]string) []string {
	if list == nil {
		return nil
	}
	out := slices.Clone(list)
	for i := range out {
		out[i] = expand(out[i], vars)
	}
	return out
}

// expand replaces $(VAR) references as Kubernetes does: "$$" is a
// literal "$", a reference to a name vars lacks stays as written, and
// a "$" that starts no reference (or an unclosed "$(") is kept.
func expand(s string, vars map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch next := s[i+1]; {
		case next == '$':
			b.WriteByte('$')
			i++
		case next == '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString("$(")
				i++
				continue
			}
			name := s[i+2 : i+2+end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + name + ")")
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func isTrue(b *bool) bool { return b != nil && *b }
