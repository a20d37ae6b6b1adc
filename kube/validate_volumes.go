package kube

import (
	"fmt"
	"maps"
	"path"
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateVolumes validates the pod's volumes and returns the valid
// ones by name: a mount of an invalid volume is "Not found", as on the
// API server.
func validateVolumes(vols []corev1.Volume, p *field.Path) (map[string]corev1.VolumeSource, field.ErrorList) {
	var errs field.ErrorList
	valid := map[string]corev1.VolumeSource{}
	seen := map[string]bool{}
	for i, v := range vols {
		ip := p.Index(i)
		e := validateVolumeSource(&v.VolumeSource, ip)
		if v.Name == "" {
			e = append(e, field.Required(ip.Child("name"), ""))
		}
		for _, msg := range validation.IsDNS1123Label(v.Name) {
			if v.Name != "" {
				e = append(e, field.Invalid(ip.Child("name"), v.Name, msg))
			}
		}
		if seen[v.Name] {
			e = append(e, field.Duplicate(ip.Child("name"), v.Name))
		}
		seen[v.Name] = true
		if len(e) == 0 {
			valid[v.Name] = v.VolumeSource
		}
		errs = append(errs, e...)
	}
	return valid, errs
}

// validateVolumeSource requires exactly one source and checks the
// sources podrun can provide.
func validateVolumeSource(s *corev1.VolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	set := setSourceNames(s)
	if len(set) == 0 {
		return field.ErrorList{field.Required(p, "must specify a volume type")}
	}
	for _, name := range set[1:] {
		errs = append(errs, field.Forbidden(p.Child(name), "may not specify more than 1 volume type"))
	}
	if s.HostPath != nil {
		errs = append(errs, validateHostPath(s.HostPath, p.Child("hostPath"))...)
	}
	if s.EmptyDir != nil && s.EmptyDir.SizeLimit != nil {
		errs = append(errs, nonNegative(*s.EmptyDir.SizeLimit, p.Child("emptyDir", "sizeLimit"))...)
	}
	if s.ConfigMap != nil {
		errs = append(errs, requiredName(s.ConfigMap.Name, p.Child("configMap", "name"))...)
		errs = append(errs, validateMode(s.ConfigMap.DefaultMode, p.Child("configMap", "defaultMode"))...)
	}
	if s.Secret != nil {
		errs = append(errs, requiredName(s.Secret.SecretName, p.Child("secret", "secretName"))...)
		errs = append(errs, validateMode(s.Secret.DefaultMode, p.Child("secret", "defaultMode"))...)
	}
	if s.PersistentVolumeClaim != nil {
		errs = append(errs, requiredName(s.PersistentVolumeClaim.ClaimName, p.Child("persistentVolumeClaim", "claimName"))...)
	}
	if s.Projected != nil {
		for i, src := range s.Projected.Sources {
			if src.ServiceAccountToken != nil {
				errs = append(errs, validateTokenProjection(src.ServiceAccountToken, p.Child("projected", "sources").Index(i).Child("serviceAccountToken"))...)
			}
		}
	}
	return errs
}

// validateTokenProjection checks a serviceAccountToken source as the API
// server does: a relative path, and a lifetime from 10 minutes to 2^32 s.
func validateTokenProjection(t *corev1.ServiceAccountTokenProjection, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if t.ExpirationSeconds != nil {
		switch exp := *t.ExpirationSeconds; {
		case exp < 10*60:
			errs = append(errs, field.Invalid(p.Child("expirationSeconds"), exp, "may not specify a duration less than 10 minutes"))
		case exp > 1<<32:
			errs = append(errs, field.Invalid(p.Child("expirationSeconds"), exp, "may not specify a duration larger than 2^32 seconds"))
		}
	}
	switch {
	case t.Path == "":
		errs = append(errs, field.Required(p.Child("path"), ""))
	case path.IsAbs(t.Path):
		errs = append(errs, field.Invalid(p.Child("path"), t.Path, "must be a relative path"))
	default:
		errs = append(errs, noBacksteps(t.Path, p.Child("path"))...)
	}
	return errs
}

// setSourceNames lists the JSON names of the sources set in s.
func setSourceNames(s *corev1.VolumeSource) []string {
	var names []string
	rv := reflect.ValueOf(*s)
	for i := range rv.NumField() {
		if f := rv.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			name, _, _ := strings.Cut(rv.Type().Field(i).Tag.Get("json"), ",")
			names = append(names, name)
		}
	}
	return names
}

var hostPathTypes = []corev1.HostPathType{
	corev1.HostPathUnset, corev1.HostPathDirectoryOrCreate, corev1.HostPathDirectory,
	corev1.HostPathFileOrCreate, corev1.HostPathFile, corev1.HostPathSocket,
	corev1.HostPathCharDev, corev1.HostPathBlockDev,
}

func validateHostPath(h *corev1.HostPathVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if h.Path == "" {
		errs = append(errs, field.Required(p.Child("path"), ""))
	} else {
		errs = append(errs, noBacksteps(h.Path, p.Child("path"))...)
	}
	if h.Type != nil && !contains(hostPathTypes, *h.Type) {
		errs = append(errs, field.NotSupported(p.Child("type"), *h.Type, hostPathTypes))
	}
	return errs
}

func requiredName(name string, p *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	return nil
}

func validateMode(mode *int32, p *field.Path) field.ErrorList {
	if mode != nil && (*mode < 0 || *mode > 0777) {
		return field.ErrorList{field.Invalid(p, *mode, "must be a number between 0 and 0777 (octal), both inclusive")}
	}
	return nil
}

// noBacksteps refuses a path with a ".." element.
func noBacksteps(p string, fp *field.Path) field.ErrorList {
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return field.ErrorList{field.Invalid(fp, p, "must not contain '..'")}
		}
	}
	return nil
}

var propagations = []corev1.MountPropagationMode{
	corev1.MountPropagationBidirectional, corev1.MountPropagationHostToContainer, corev1.MountPropagationNone,
}

// validateMounts checks that each mount names a valid volume, at a
// unique, non-empty path.
func validateMounts(c *corev1.Container, vols map[string]corev1.VolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	paths := map[string]bool{}
	for i, m := range c.VolumeMounts {
		ip := p.Index(i)
		if m.Name == "" {
			errs = append(errs, field.Required(ip.Child("name"), ""))
		}
		if _, ok := vols[m.Name]; !ok {
			errs = append(errs, field.NotFound(ip.Child("name"), m.Name))
		}
		if m.MountPath == "" {
			errs = append(errs, field.Required(ip.Child("mountPath"), ""))
		}
		if paths[m.MountPath] {
			errs = append(errs, field.Invalid(ip.Child("mountPath"), m.MountPath, "must be unique"))
		}
		paths[m.MountPath] = true
		errs = append(errs, validateSubPath(m, ip)...)
		errs = append(errs, validatePropagation(c, m.MountPropagation, ip.Child("mountPropagation"))...)
	}
	return errs
}

func validateSubPath(m corev1.VolumeMount, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if m.SubPath != "" && m.SubPathExpr != "" {
		errs = append(errs, field.Invalid(p.Child("subPathExpr"), m.SubPathExpr, "subPathExpr and subPath are mutually exclusive"))
	}
	for _, f := range []struct{ name, v string }{{"subPath", m.SubPath}, {"subPathExpr", m.SubPathExpr}} {
		name, v := f.name, f.v
		if path.IsAbs(v) {
			errs = append(errs, field.Invalid(p.Child(name), v, "must be a relative path"))
		}
		errs = append(errs, noBacksteps(v, p.Child(name))...)
	}
	return errs
}

func validatePropagation(c *corev1.Container, mode *corev1.MountPropagationMode, p *field.Path) field.ErrorList {
	switch {
	case mode == nil:
		return nil
	case !contains(propagations, *mode):
		return field.ErrorList{field.NotSupported(p, *mode, propagations)}
	case *mode == corev1.MountPropagationBidirectional && !privileged(c):
		return field.ErrorList{field.Forbidden(p, "Bidirectional mount propagation is available only to privileged containers")}
	}
	return nil
}

func privileged(c *corev1.Container) bool {
	sc := c.SecurityContext
	return sc != nil && sc.Privileged != nil && *sc.Privileged
}

// validateResources checks resource names and quantities, and that no
// request exceeds its limit (or differs from it, for extended resources).
func validateResources(r *corev1.ResourceRequirements, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	limPath, reqPath := p.Child("limits"), p.Child("requests")
	// In name order, so that the errors come out the same every time.
	for _, name := range slices.Sorted(maps.Keys(r.Limits)) {
		q := r.Limits[name]
		errs = append(errs, validateResourceName(name, limPath.Key(string(name)))...)
		errs = append(errs, nonNegative(q, limPath.Key(string(name)))...)
	}
	for _, name := range slices.Sorted(maps.Keys(r.Requests)) {
		q := r.Requests[name]
		errs = append(errs, validateResourceName(name, reqPath.Key(string(name)))...)
		errs = append(errs, nonNegative(q, reqPath.Key(string(name)))...)
		limit, ok := r.Limits[name]
		switch {
		case ok && !overcommitAllowed(name) && q.Cmp(limit) != 0:
			errs = append(errs, field.Invalid(reqPath, q.String(), fmt.Sprintf("must be equal to %s limit of %s", name, limit.String())))
		case ok && q.Cmp(limit) > 0:
			errs = append(errs, field.Invalid(reqPath, q.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String())))
		case !ok && !overcommitAllowed(name):
			errs = append(errs, field.Required(limPath, "Limit must be set for non overcommitable resources"))
		}
	}
	return sortedByField(errs)
}

var standardResources = []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage}

func validateResourceName(name corev1.ResourceName, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(string(name)) {
		errs = append(errs, field.Invalid(p, string(name), msg))
	}
	if len(errs) > 0 || strings.Contains(string(name), "/") {
		return errs
	}
	if !contains(standardResources, name) && !strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix) {
		errs = append(errs, field.Invalid(p, string(name), "must be a standard resource for containers"))
	}
	return errs
}

// overcommitAllowed is true for the resources the kernel can share
// (native resources other than huge pages).
func overcommitAllowed(name corev1.ResourceName) bool {
	s := string(name)
	native := !strings.Contains(s, "/") || strings.Contains(s, corev1.ResourceDefaultNamespacePrefix)
	return native && !strings.HasPrefix(s, corev1.ResourceHugePagesPrefix)
}

func nonNegative(q resource.Quantity, p *field.Path) field.ErrorList {
	if q.Sign() < 0 {
		return field.ErrorList{field.Invalid(p, q.String(), apivalidation.IsNegativeErrorMsg)}
	}
	return nil
}
