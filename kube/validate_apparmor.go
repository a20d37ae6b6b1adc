package kube

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// AppArmor comes two ways: the appArmorProfile field of the pod's and a
// container's securityContext, and the older beta annotation
// container.apparmor.security.beta.kubernetes.io/<container>. As the API
// server does, kube checks both, requires them to agree, and then copies
// an annotation into the field of its container, so that translate reads
// the field only. Whether a profile can be applied depends on the
// machine: translate decides that from translate.Host.

const maxLocalhostProfile = 4095

var appArmorTypes = []corev1.AppArmorProfileType{
	corev1.AppArmorProfileTypeLocalhost, corev1.AppArmorProfileTypeRuntimeDefault, corev1.AppArmorProfileTypeUnconfined,
}

// validateAppArmor checks an appArmorProfile field as the API server does.
func validateAppArmor(ap *corev1.AppArmorProfile, p *field.Path) field.ErrorList {
	if ap == nil {
		return nil
	}
	errs := oneOf(ap.Type, p.Child("type"), appArmorTypes...)
	lp := p.Child("localhostProfile")
	switch {
	case ap.Type == corev1.AppArmorProfileTypeLocalhost && (ap.LocalhostProfile == nil || *ap.LocalhostProfile == ""):
		errs = append(errs, field.Required(lp, "must be set when AppArmor type is Localhost"))
	case ap.Type == corev1.AppArmorProfileTypeLocalhost && strings.TrimSpace(*ap.LocalhostProfile) != *ap.LocalhostProfile:
		errs = append(errs, field.Invalid(lp, *ap.LocalhostProfile, "must not be padded with whitespace"))
	case ap.Type == corev1.AppArmorProfileTypeLocalhost && len(*ap.LocalhostProfile) > maxLocalhostProfile:
		errs = append(errs, field.TooLong(lp, "", maxLocalhostProfile))
	case ap.Type != corev1.AppArmorProfileTypeLocalhost && ap.LocalhostProfile != nil:
		errs = append(errs, field.Invalid(lp, ap, "can only be set when AppArmor type is Localhost"))
	}
	return errs
}

// appArmorFromAnnotation reads an annotation's value as a profile: nil
// and true for an empty value (unset), false for one that is not
// runtime/default, unconfined or localhost/<name>.
func appArmorFromAnnotation(v string) (*corev1.AppArmorProfile, bool) {
	switch v {
	case "":
		return nil, true
	case corev1.DeprecatedAppArmorBetaProfileRuntimeDefault:
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeRuntimeDefault}, true
	case corev1.DeprecatedAppArmorBetaProfileNameUnconfined:
		return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined}, true
	}
	name, ok := strings.CutPrefix(v, corev1.DeprecatedAppArmorBetaProfileNamePrefix)
	if !ok || strings.TrimSpace(name) == "" {
		return nil, false
	}
	return &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeLocalhost, LocalhostProfile: &name}, true
}

// appArmorAnnotations lists the pod's AppArmor annotations by key, sorted.
func appArmorAnnotations(p *corev1.Pod) []string {
	var keys []string
	for k := range p.Annotations {
		if strings.HasPrefix(k, corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// validateAppArmorAnnotations checks each annotation names a container of
// the pod and a profile, and agrees with the field that applies to that
// container (its own, or the pod's), as the API server does on create.
func validateAppArmorAnnotations(p *corev1.Pod) field.ErrorList {
	var errs field.ErrorList
	ap := field.NewPath("metadata", "annotations")
	for _, k := range appArmorAnnotations(p) {
		name := strings.TrimPrefix(k, corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix)
		kp := ap.Key(k)
		cp, c := findContainer(&p.Spec, name)
		if c == nil {
			errs = append(errs, field.Invalid(kp, name, "container not found"))
			continue
		}
		v := p.Annotations[k]
		prof, ok := appArmorFromAnnotation(v)
		if !ok {
			errs = append(errs, field.Invalid(kp, v, fmt.Sprintf("invalid AppArmor profile name: %q", v)))
			continue
		}
		fp := cp.Child("securityContext", "appArmorProfile")
		set := (*corev1.AppArmorProfile)(nil)
		if c.SecurityContext != nil {
			set = c.SecurityContext.AppArmorProfile
		}
		if set == nil && p.Spec.SecurityContext != nil {
			set, fp = p.Spec.SecurityContext.AppArmorProfile, field.NewPath("spec", "securityContext", "appArmorProfile")
		}
		switch {
		case prof == nil || set == nil:
		case prof.Type != set.Type:
			errs = append(errs, field.Forbidden(fp.Child("type"), "apparmor type in annotation and field must match"))
		case prof.Type == corev1.AppArmorProfileTypeLocalhost && (set.LocalhostProfile == nil || *set.LocalhostProfile != *prof.LocalhostProfile):
			errs = append(errs, field.Forbidden(fp.Child("localhostProfile"), "apparmor profile in annotation and field must match"))
		}
	}
	return errs
}

// findContainer is the container (init or app) named name, with its path.
func findContainer(s *corev1.PodSpec, name string) (*field.Path, *corev1.Container) {
	for _, list := range []struct {
		name string
		ctrs []corev1.Container
	}{{"initContainers", s.InitContainers}, {"containers", s.Containers}} {
		for i := range list.ctrs {
			if list.ctrs[i].Name == name {
				return field.NewPath("spec", list.name).Index(i), &list.ctrs[i]
			}
		}
	}
	return nil, nil
}

// applyAppArmorAnnotations copies each annotation into the field of its
// container where that is unset, as the API server does on create. It
// runs on a validated pod.
func applyAppArmorAnnotations(p *corev1.Pod) {
	for _, k := range appArmorAnnotations(p) {
		_, c := findContainer(&p.Spec, strings.TrimPrefix(k, corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix))
		prof, ok := appArmorFromAnnotation(p.Annotations[k])
		if c == nil || !ok || prof == nil {
			continue
		}
		if c.SecurityContext == nil {
			c.SecurityContext = &corev1.SecurityContext{}
		}
		if c.SecurityContext.AppArmorProfile == nil {
			c.SecurityContext.AppArmorProfile = prof
		}
	}
}
