package kube

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"unicode"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The checks below follow the API server's for the fields that shape a
// container's process, identity and environment, with its wording.

// validateProcess validates the pod's security contexts, OS, sysctls and
// every container's environment sources and security context.
func validateProcess(s *corev1.PodSpec, p *field.Path) field.ErrorList {
	errs := validatePodSecurity(s, p)
	for _, list := range []struct {
		name string
		ctrs []corev1.Container
	}{{"containers", s.Containers}, {"initContainers", s.InitContainers}} {
		for i := range list.ctrs {
			c := &list.ctrs[i]
			cp := p.Child(list.name).Index(i)
			errs = append(errs, validateEnvFrom(c.EnvFrom, cp.Child("envFrom"))...)
			errs = append(errs, validateDownwardEnv(s, c, cp.Child("env"))...)
			errs = append(errs, validateContainerSecurity(s, c.SecurityContext, cp.Child("securityContext"))...)
		}
	}
	return errs
}

func validatePodSecurity(s *corev1.PodSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.OS != nil && s.OS.Name != corev1.Linux {
		errs = append(errs, field.NotSupported(p.Child("os", "name"), s.OS.Name, []corev1.OSName{corev1.Linux}))
	}
	if s.HostUsers != nil && !*s.HostUsers {
		errs = append(errs, field.Forbidden(p.Child("hostUsers"), "not supported by podrun yet (no user namespaces); remove it or set it to true"))
	}
	sc := s.SecurityContext
	if sc == nil {
		return errs
	}
	sp := p.Child("securityContext")
	errs = append(errs, validateIDs(sc.RunAsUser, sc.RunAsGroup, sp)...)
	for i, g := range sc.SupplementalGroups {
		errs = append(errs, validateID(g, sp.Child("supplementalGroups").Index(i))...)
	}
	if sc.FSGroup != nil {
		errs = append(errs, validateID(*sc.FSGroup, sp.Child("fsGroup"))...)
	}
	if v := sc.SupplementalGroupsPolicy; v != nil {
		errs = append(errs, oneOf(*v, sp.Child("supplementalGroupsPolicy"),
			corev1.SupplementalGroupsPolicyMerge, corev1.SupplementalGroupsPolicyStrict)...)
	}
	errs = append(errs, validateSeccomp(sc.SeccompProfile, sp.Child("seccompProfile"))...)
	errs = append(errs, validateAppArmor(sc.AppArmorProfile, sp.Child("appArmorProfile"))...)
	return append(errs, validateSysctls(s, sp.Child("sysctls"))...)
}

func validateContainerSecurity(s *corev1.PodSpec, sc *corev1.SecurityContext, p *field.Path) field.ErrorList {
	if sc == nil {
		return nil
	}
	errs := validateIDs(sc.RunAsUser, sc.RunAsGroup, p)
	errs = append(errs, validateSeccomp(sc.SeccompProfile, p.Child("seccompProfile"))...)
	errs = append(errs, validateAppArmor(sc.AppArmorProfile, p.Child("appArmorProfile"))...)
	if sc.ProcMount != nil {
		errs = append(errs, oneOf(*sc.ProcMount, p.Child("procMount"), corev1.DefaultProcMount, corev1.UnmaskedProcMount)...)
		if *sc.ProcMount == corev1.UnmaskedProcMount && (s.HostUsers == nil || *s.HostUsers) {
			errs = append(errs, field.Invalid(p.Child("procMount"), *sc.ProcMount, "`hostUsers` must be false to use `Unmasked`"))
		}
	}
	if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
		if sc.Privileged != nil && *sc.Privileged {
			errs = append(errs, field.Invalid(p, sc, "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
		}
		if sc.Capabilities != nil && contains(sc.Capabilities.Add, "CAP_SYS_ADMIN") {
			errs = append(errs, field.Invalid(p, sc, "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"))
		}
	}
	return errs
}

func validateIDs(user, group *int64, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if user != nil {
		errs = append(errs, validateID(*user, p.Child("runAsUser"))...)
	}
	if group != nil {
		errs = append(errs, validateID(*group, p.Child("runAsGroup"))...)
	}
	return errs
}

// validateID checks a user or group id as the API server does.
func validateID(id int64, p *field.Path) field.ErrorList {
	if id < 0 || id > math.MaxInt32 {
		return field.ErrorList{field.Invalid(p, id, validation.InclusiveRangeError(0, math.MaxInt32))}
	}
	return nil
}

var seccompTypes = []corev1.SeccompProfileType{
	corev1.SeccompProfileTypeLocalhost, corev1.SeccompProfileTypeRuntimeDefault, corev1.SeccompProfileTypeUnconfined,
}

func validateSeccomp(sp *corev1.SeccompProfile, p *field.Path) field.ErrorList {
	if sp == nil {
		return nil
	}
	errs := oneOf(sp.Type, p.Child("type"), seccompTypes...)
	lp := p.Child("localhostProfile")
	switch {
	case sp.Type == corev1.SeccompProfileTypeLocalhost && (sp.LocalhostProfile == nil || *sp.LocalhostProfile == ""):
		errs = append(errs, field.Required(lp, "must be set when seccomp type is Localhost"))
	case sp.Type == corev1.SeccompProfileTypeLocalhost:
		errs = append(errs, validateLocalPath(*sp.LocalhostProfile, lp)...)
	case sp.LocalhostProfile != nil:
		errs = append(errs, field.Invalid(lp, sp, "can only be set when seccomp type is Localhost"))
	}
	return errs
}

// validateLocalPath refuses an absolute path or one that climbs out with "..".
func validateLocalPath(v string, p *field.Path) field.ErrorList {
	if strings.HasPrefix(v, "/") {
		return field.ErrorList{field.Invalid(p, v, "must be a relative path")}
	}
	for _, part := range strings.Split(v, "/") {
		if part == ".." {
			return field.ErrorList{field.Invalid(p, v, "must not contain '..'")}
		}
	}
	return nil
}

// sysctlName is the API server's pattern for a sysctl name, with '/'
// allowed as a separator as well as '.'.
var sysctlName = regexp.MustCompile(`^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$`)

const maxSysctlNameLen = 253

// validateSysctls checks names as the API server does, values for what
// the kernel would refuse, and the namespaces a sysctl needs.
func validateSysctls(s *corev1.PodSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	for i, sc := range s.SecurityContext.Sysctls {
		ip := p.Index(i)
		name := strings.ReplaceAll(sc.Name, "/", ".")
		switch {
		case sc.Name == "":
			errs = append(errs, field.Required(ip.Child("name"), ""))
		case len(sc.Name) > maxSysctlNameLen || !sysctlName.MatchString(sc.Name):
			errs = append(errs, field.Invalid(ip.Child("name"), sc.Name,
				fmt.Sprintf("must have at most %d characters and match regex %s", maxSysctlNameLen, sysctlName)))
		case names[name]:
			errs = append(errs, field.Duplicate(ip.Child("name"), sc.Name))
		}
		names[name] = true
		if sc.Value == "" || strings.IndexFunc(sc.Value, unicode.IsControl) >= 0 {
			errs = append(errs, field.Invalid(ip.Child("value"), sc.Value, "must be non-empty, without control characters"))
		}
		if s.HostNetwork && strings.HasPrefix(name, "net.") {
			errs = append(errs, field.Invalid(ip.Child("name"), sc.Name, "may not be specified when 'hostNetwork' is true"))
		}
		if s.HostIPC && ipcSysctl(name) {
			errs = append(errs, field.Invalid(ip.Child("name"), sc.Name, "may not be specified when 'hostIPC' is true"))
		}
	}
	return errs
}

// ipcSysctl reports whether a sysctl belongs to the IPC namespace.
func ipcSysctl(name string) bool {
	for _, p := range []string{"kernel.shm", "kernel.msg", "fs.mqueue."} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return name == "kernel.sem"
}

// validateEnvFrom checks that each source names exactly one object.
func validateEnvFrom(from []corev1.EnvFromSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ef := range from {
		ip := p.Index(i)
		for _, msg := range validation.IsRelaxedEnvVarName(ef.Prefix) {
			if ef.Prefix != "" {
				errs = append(errs, field.Invalid(ip.Child("prefix"), ef.Prefix, msg))
			}
		}
		n := 0
		if ef.ConfigMapRef != nil {
			n++
			errs = append(errs, requiredName(ef.ConfigMapRef.Name, ip.Child("configMapRef", "name"))...)
		}
		if ef.SecretRef != nil {
			n++
			errs = append(errs, requiredName(ef.SecretRef.Name, ip.Child("secretRef", "name"))...)
		}
		switch {
		case n == 0:
			errs = append(errs, field.Invalid(ip, "", "must specify one of: `configMapRef` or `secretRef`"))
		case n > 1:
			errs = append(errs, field.Invalid(ip, "", "may not have more than one field specified at a time"))
		}
	}
	return errs
}

// envFieldPaths are the fields of the pod an environment variable may read.
var envFieldPaths = []string{
	"metadata.name", "metadata.namespace", "metadata.uid",
	"spec.nodeName", "spec.serviceAccountName",
	"status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
}

var envResources = []string{
	"limits.cpu", "limits.memory", "limits.ephemeral-storage",
	"requests.cpu", "requests.memory", "requests.ephemeral-storage",
}

// validateDownwardEnv checks fieldRef and resourceFieldRef sources.
func validateDownwardEnv(s *corev1.PodSpec, c *corev1.Container, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ev := range c.Env {
		if ev.ValueFrom == nil {
			continue
		}
		vp := p.Index(i).Child("valueFrom")
		if r := ev.ValueFrom.FieldRef; r != nil && r.FieldPath != "" {
			errs = append(errs, validateFieldRef(r, vp.Child("fieldRef"))...)
		}
		if r := ev.ValueFrom.ResourceFieldRef; r != nil && r.Resource != "" {
			errs = append(errs, validateResourceRef(s, c, r, vp.Child("resourceFieldRef"))...)
		}
	}
	return errs
}

func validateFieldRef(r *corev1.ObjectFieldSelector, p *field.Path) field.ErrorList {
	if r.APIVersion != "v1" {
		return field.ErrorList{field.Invalid(p.Child("apiVersion"), r.APIVersion, "unsupported API version")}
	}
	fp := p.Child("fieldPath")
	for _, prefix := range []string{"metadata.labels", "metadata.annotations"} {
		if key, ok := subscript(r.FieldPath, prefix); ok {
			if prefix == "metadata.labels" {
				return qualifiedName(key, fp)
			}
			return qualifiedName(strings.ToLower(key), fp)
		}
	}
	if !contains(envFieldPaths, r.FieldPath) {
		return field.ErrorList{field.NotSupported(fp, r.FieldPath, envFieldPaths)}
	}
	return nil
}

// subscript reads "prefix['key']".
func subscript(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix+"['")
	if !ok {
		return "", false
	}
	key, ok := strings.CutSuffix(rest, "']")
	return key, ok
}

func qualifiedName(key string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(key) {
		errs = append(errs, field.Invalid(p, key, msg))
	}
	return errs
}

// validDivisors are the divisors the API server accepts, by resource.
var validDivisors = map[string][]string{
	"cpu":    {"1m", "1"},
	"memory": {"1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei"},
}

func validateResourceRef(s *corev1.PodSpec, c *corev1.Container, r *corev1.ResourceFieldSelector, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if r.ContainerName != "" && r.ContainerName != c.Name && !hasContainer(s, r.ContainerName) {
		errs = append(errs, field.Invalid(p.Child("containerName"), r.ContainerName, "must be a container of the pod"))
	}
	if !contains(envResources, r.Resource) {
		return append(errs, field.NotSupported(p.Child("resource"), r.Resource, envResources))
	}
	if r.Divisor.IsZero() {
		return errs
	}
	kind := strings.TrimPrefix(strings.TrimPrefix(r.Resource, "limits."), "requests.")
	valid := validDivisors[kind]
	if kind == "ephemeral-storage" {
		valid = validDivisors["memory"]
	}
	for _, d := range valid {
		if r.Divisor.Cmp(resource.MustParse(d)) == 0 {
			return errs
		}
	}
	return append(errs, field.Invalid(p.Child("divisor"), r.Divisor.String(),
		fmt.Sprintf("only divisor's values %s are supported with the %s resource", strings.Join(valid, ", "), kind)))
}

func hasContainer(s *corev1.PodSpec, name string) bool {
	for _, c := range allContainers(s) {
		if c.Name == name {
			return true
		}
	}
	return false
}

func allContainers(s *corev1.PodSpec) []corev1.Container {
	return append(append([]corev1.Container{}, s.InitContainers...), s.Containers...)
}
