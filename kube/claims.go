package kube

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Claim is a validated PersistentVolumeClaim with its namespace set and
// the API server's defaults applied. podrun binds it to a named local
// volume of the same namespace and name.
type Claim struct {
	Source Source
	Claim  *corev1.PersistentVolumeClaim
}

var accessModes = []corev1.PersistentVolumeAccessMode{
	corev1.ReadWriteOnce, corev1.ReadOnlyMany, corev1.ReadWriteMany, corev1.ReadWriteOncePod,
}

// claim checks, defaults and validates one PersistentVolumeClaim.
func claim(o Object, opts Options) (*corev1.PersistentVolumeClaim, ErrorList) {
	in, ok := o.Object.(*corev1.PersistentVolumeClaim)
	if e := checkVersion(o, ok); e != nil {
		return nil, ErrorList{e}
	}
	c := in.DeepCopy()
	var errs ErrorList
	if e := setNamespace(o, c, opts.Namespace); e != nil {
		errs = append(errs, e)
	}
	if c.Spec.VolumeMode == nil {
		c.Spec.VolumeMode = ptr(corev1.PersistentVolumeFilesystem)
	}
	fes := validateMeta(&c.ObjectMeta, field.NewPath("metadata"))
	fes = append(fes, validateClaimSpec(&c.Spec, field.NewPath("spec"))...)
	for _, fe := range fes {
		errs = append(errs, located(o, fe))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// validateClaimSpec checks what the API server checks of a claim that
// podrun can satisfy: access modes, a storage request, a filesystem
// volume (block volumes are not provided).
func validateClaimSpec(s *corev1.PersistentVolumeClaimSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(s.AccessModes) == 0 {
		errs = append(errs, field.Required(p.Child("accessModes"), "at least 1 access mode is required"))
	}
	for i, m := range s.AccessModes {
		if !contains(accessModes, m) {
			errs = append(errs, field.NotSupported(p.Child("accessModes").Index(i), m, accessModes))
		}
	}
	req, ok := s.Resources.Requests[corev1.ResourceStorage]
	switch {
	case !ok:
		errs = append(errs, field.Required(p.Child("resources").Key(string(corev1.ResourceStorage)), ""))
	default:
		errs = append(errs, nonNegative(req, p.Child("resources", "requests").Key(string(corev1.ResourceStorage)))...)
	}
	if m := s.VolumeMode; m != nil && *m != corev1.PersistentVolumeFilesystem {
		errs = append(errs, field.NotSupported(p.Child("volumeMode"), *m, []corev1.PersistentVolumeMode{corev1.PersistentVolumeFilesystem}))
	}
	if s.DataSource != nil || s.DataSourceRef != nil {
		errs = append(errs, field.Forbidden(p.Child("dataSource"), "podrun makes empty volumes only"))
	}
	return errs
}
