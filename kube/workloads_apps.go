package kube

import (
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	intstrpkg "k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Defaults of pkg/apis/apps/v1/defaults.go.
const (
	defaultRevisionHistoryLimit    = 10
	defaultProgressDeadlineSeconds = 600
)

var (
	specPath     = field.NewPath("spec")
	templatePath = specPath.Child("template")
)

func (c *workloadCheck) deployment(d *appsv1.Deployment) {
	setDeploymentDefaults(d)
	c.meta(&d.ObjectMeta, false)
	s := &d.Spec
	c.nonNegative(int64(*s.Replicas), specPath.Child("replicas"))
	c.selector(s.Selector, &s.Template, specPath.Child("selector"), templatePath, "Deployment")
	c.podTemplate(&d.ObjectMeta, &s.Template, templatePath, nil)
	// A Deployment's template is checked as its ReplicaSets', with their words.
	c.alwaysRestarts(&s.Template, templatePath, "ReplicaSet")
	c.deploymentStrategy(&s.Strategy, specPath.Child("strategy"))
	c.nonNegative(int64(s.MinReadySeconds), specPath.Child("minReadySeconds"))
	c.nonNegativePtr(s.RevisionHistoryLimit, specPath.Child("revisionHistoryLimit"))
	if v := s.ProgressDeadlineSeconds; v != nil {
		p := specPath.Child("progressDeadlineSeconds")
		c.nonNegative(int64(*v), p)
		if *v <= s.MinReadySeconds {
			c.add(field.Invalid(p, *v, "must be greater than minReadySeconds"))
		}
	}
}

func setDeploymentDefaults(d *appsv1.Deployment) {
	s := &d.Spec
	if s.Replicas == nil {
		s.Replicas = ptr(int32(1))
	}
	if s.Strategy.Type == "" {
		s.Strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if s.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if s.Strategy.RollingUpdate == nil {
			s.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		ru := s.Strategy.RollingUpdate
		if ru.MaxUnavailable == nil {
			ru.MaxUnavailable = ptr(intstrpkg.FromString("25%"))
		}
		if ru.MaxSurge == nil {
			ru.MaxSurge = ptr(intstrpkg.FromString("25%"))
		}
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = ptr(int32(defaultRevisionHistoryLimit))
	}
	if s.ProgressDeadlineSeconds == nil {
		s.ProgressDeadlineSeconds = ptr(int32(defaultProgressDeadlineSeconds))
	}
}

func (c *workloadCheck) deploymentStrategy(s *appsv1.DeploymentStrategy, p *field.Path) {
	switch s.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if s.RollingUpdate != nil {
			c.add(field.Forbidden(p.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"))
		}
	case appsv1.RollingUpdateDeploymentStrategyType:
		ru, rp := s.RollingUpdate, p.Child("rollingUpdate")
		c.intOrPercent(*ru.MaxUnavailable, rp.Child("maxUnavailable"))
		c.intOrPercent(*ru.MaxSurge, rp.Child("maxSurge"))
		if intOrPercentValue(*ru.MaxUnavailable) == 0 && intOrPercentValue(*ru.MaxSurge) == 0 {
			c.add(field.Invalid(rp.Child("maxUnavailable"), ru.MaxUnavailable.String(), "may not be 0 when `maxSurge` is 0"))
		}
		c.notOver100(*ru.MaxUnavailable, rp.Child("maxUnavailable"))
	default:
		c.add(field.NotSupported(p.Child("type"), s.Type, []appsv1.DeploymentStrategyType{
			appsv1.RecreateDeploymentStrategyType, appsv1.RollingUpdateDeploymentStrategyType}))
	}
}

func (c *workloadCheck) replicaSet(rs *appsv1.ReplicaSet) {
	if rs.Spec.Replicas == nil {
		rs.Spec.Replicas = ptr(int32(1))
	}
	c.meta(&rs.ObjectMeta, false)
	s := &rs.Spec
	c.nonNegative(int64(*s.Replicas), specPath.Child("replicas"))
	c.nonNegative(int64(s.MinReadySeconds), specPath.Child("minReadySeconds"))
	c.selector(s.Selector, &s.Template, specPath.Child("selector"), templatePath, "ReplicaSet")
	c.podTemplate(&rs.ObjectMeta, &s.Template, templatePath, nil)
	c.alwaysRestarts(&s.Template, templatePath, "ReplicaSet")
}

func (c *workloadCheck) daemonSet(ds *appsv1.DaemonSet) {
	setDaemonSetDefaults(ds)
	c.meta(&ds.ObjectMeta, false)
	s := &ds.Spec
	c.selector(s.Selector, &s.Template, specPath.Child("selector"), templatePath, "DaemonSet")
	c.podTemplate(&ds.ObjectMeta, &s.Template, templatePath, nil)
	c.alwaysRestarts(&s.Template, templatePath, "DaemonSet")
	c.nonNegative(int64(s.MinReadySeconds), specPath.Child("minReadySeconds"))
	c.daemonSetStrategy(&s.UpdateStrategy, specPath.Child("updateStrategy"))
	c.nonNegativePtr(s.RevisionHistoryLimit, specPath.Child("revisionHistoryLimit"))
}

func setDaemonSetDefaults(ds *appsv1.DaemonSet) {
	u := &ds.Spec.UpdateStrategy
	if u.Type == "" {
		u.Type = appsv1.RollingUpdateDaemonSetStrategyType
	}
	if u.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if u.RollingUpdate == nil {
			u.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		}
		if u.RollingUpdate.MaxUnavailable == nil {
			u.RollingUpdate.MaxUnavailable = ptr(intstrpkg.FromInt32(1))
		}
		if u.RollingUpdate.MaxSurge == nil {
			u.RollingUpdate.MaxSurge = ptr(intstrpkg.FromInt32(0))
		}
	}
	if ds.Spec.RevisionHistoryLimit == nil {
		ds.Spec.RevisionHistoryLimit = ptr(int32(defaultRevisionHistoryLimit))
	}
}

func (c *workloadCheck) daemonSetStrategy(u *appsv1.DaemonSetUpdateStrategy, p *field.Path) {
	switch u.Type {
	case appsv1.OnDeleteDaemonSetStrategyType:
	case appsv1.RollingUpdateDaemonSetStrategyType:
		ru, rp := u.RollingUpdate, p.Child("rollingUpdate")
		c.intOrPercent(*ru.MaxUnavailable, rp.Child("maxUnavailable"))
		c.intOrPercent(*ru.MaxSurge, rp.Child("maxSurge"))
		c.notOver100(*ru.MaxUnavailable, rp.Child("maxUnavailable"))
		c.notOver100(*ru.MaxSurge, rp.Child("maxSurge"))
		unavailable, surge := intOrPercentValue(*ru.MaxUnavailable) != 0, intOrPercentValue(*ru.MaxSurge) != 0
		switch {
		case unavailable && surge:
			c.add(field.Invalid(rp.Child("maxSurge"), ru.MaxSurge.String(), "may not be set when maxUnavailable is non-zero"))
		case !unavailable && !surge:
			c.add(field.Required(rp.Child("maxUnavailable"), "cannot be 0 when maxSurge is 0"))
		}
	default:
		c.add(field.NotSupported(p.Child("type"), u.Type, []appsv1.DaemonSetUpdateStrategyType{
			appsv1.RollingUpdateDaemonSetStrategyType, appsv1.OnDeleteDaemonSetStrategyType}))
	}
}

func (c *workloadCheck) statefulSet(sts *appsv1.StatefulSet) {
	setStatefulSetDefaults(sts)
	c.meta(&sts.ObjectMeta, true)
	s := &sts.Spec
	c.add(oneOf(s.PodManagementPolicy, specPath.Child("podManagementPolicy"), appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement)...)
	c.statefulSetStrategy(&s.UpdateStrategy, specPath.Child("updateStrategy"))
	if r := s.PersistentVolumeClaimRetentionPolicy; r != nil {
		rp := specPath.Child("persistentVolumeClaimRetentionPolicy")
		c.add(oneOf(r.WhenDeleted, rp.Child("whenDeleted"), appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType)...)
		c.add(oneOf(r.WhenScaled, rp.Child("whenScaled"), appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType)...)
	}
	c.nonNegative(int64(*s.Replicas), specPath.Child("replicas"))
	c.nonNegative(int64(s.MinReadySeconds), specPath.Child("minReadySeconds"))
	c.nonNegativePtr(s.RevisionHistoryLimit, specPath.Child("revisionHistoryLimit"))
	start := int32(0)
	if s.Ordinals != nil {
		start = s.Ordinals.Start
		c.nonNegative(int64(start), specPath.Child("ordinals", "start"))
	}
	if s.ServiceName != "" {
		for _, msg := range validation.IsDNS1123Label(s.ServiceName) {
			c.add(field.Invalid(specPath.Child("serviceName"), s.ServiceName, msg))
		}
	}
	c.hostNames(sts, start)
	c.selector(s.Selector, &s.Template, specPath.Child("selector"), templatePath, "StatefulSet")
	claims := c.claimTemplates(sts, max(start, 0))
	c.podTemplate(&sts.ObjectMeta, &s.Template, templatePath, claims)
	c.alwaysRestarts(&s.Template, templatePath, "StatefulSet")
}

// hostNames refuses a StatefulSet whose last pod's name, its host name,
// is no DNS label. A cluster takes the StatefulSet and fails to make the
// pod; podrun says so at apply.
func (c *workloadCheck) hostNames(sts *appsv1.StatefulSet, start int32) {
	if sts.Name == "" || len(validation.IsDNS1123Label(sts.Name)) > 0 || *sts.Spec.Replicas <= 0 || start < 0 {
		return
	}
	last := fmt.Sprintf("%s-%d", sts.Name, int64(start)+int64(*sts.Spec.Replicas)-1)
	if len(validation.IsDNS1123Label(last)) > 0 {
		c.add(field.Invalid(field.NewPath("metadata", "name"), sts.Name, "will not be able to create pod with invalid DNS label: "+last))
	}
}

func setStatefulSetDefaults(sts *appsv1.StatefulSet) {
	s := &sts.Spec
	if s.PodManagementPolicy == "" {
		s.PodManagementPolicy = appsv1.OrderedReadyPodManagement
	}
	if s.UpdateStrategy.Type == "" {
		s.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
		if s.UpdateStrategy.RollingUpdate == nil {
			s.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
		}
	}
	if ru := s.UpdateStrategy.RollingUpdate; s.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType && ru != nil && ru.Partition == nil {
		ru.Partition = ptr(int32(0))
	}
	if s.PersistentVolumeClaimRetentionPolicy == nil {
		s.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{}
	}
	r := s.PersistentVolumeClaimRetentionPolicy
	if r.WhenDeleted == "" {
		r.WhenDeleted = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if r.WhenScaled == "" {
		r.WhenScaled = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if s.Replicas == nil {
		s.Replicas = ptr(int32(1))
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = ptr(int32(defaultRevisionHistoryLimit))
	}
	for i := range s.VolumeClaimTemplates {
		if cs := &s.VolumeClaimTemplates[i].Spec; cs.VolumeMode == nil {
			cs.VolumeMode = ptr(corev1.PersistentVolumeFilesystem)
		}
	}
}

func (c *workloadCheck) statefulSetStrategy(u *appsv1.StatefulSetUpdateStrategy, p *field.Path) {
	rp := p.Child("rollingUpdate")
	switch u.Type {
	case appsv1.OnDeleteStatefulSetStrategyType:
		if u.RollingUpdate != nil {
			c.add(field.Invalid(rp, field.OmitValueType{}, "only allowed for updateStrategy 'RollingUpdate'"))
		}
	case appsv1.RollingUpdateStatefulSetStrategyType:
		ru := u.RollingUpdate
		if ru == nil {
			return
		}
		c.nonNegativePtr(ru.Partition, rp.Child("partition"))
		if ru.MaxUnavailable != nil {
			mp := rp.Child("maxUnavailable")
			c.intOrPercent(*ru.MaxUnavailable, mp)
			if intOrPercentValue(*ru.MaxUnavailable) == 0 {
				c.add(field.Invalid(mp, ru.MaxUnavailable.String(), "cannot be 0"))
			}
			c.notOver100(*ru.MaxUnavailable, mp)
		}
	default:
		c.add(field.NotSupported(p.Child("type"), u.Type, []appsv1.StatefulSetUpdateStrategyType{
			appsv1.RollingUpdateStatefulSetStrategyType, appsv1.OnDeleteStatefulSetStrategyType}))
	}
}

// claimTemplates validates the volumeClaimTemplates of sts as the claims
// its controller makes of them, and returns the volumes it adds to the
// pod of ordinal start, one per valid template.
func (c *workloadCheck) claimTemplates(sts *appsv1.StatefulSet, start int32) []corev1.Volume {
	var vols []corev1.Volume
	seen := map[string]bool{}
	for i := range sts.Spec.VolumeClaimTemplates {
		t := &sts.Spec.VolumeClaimTemplates[i]
		p := specPath.Child("volumeClaimTemplates").Index(i)
		np := p.Child("metadata", "name")
		var fes field.ErrorList
		switch {
		case t.Name == "":
			fes = append(fes, field.Required(np, ""))
		case seen[t.Name]:
			fes = append(fes, field.Duplicate(np, t.Name))
		}
		for _, msg := range validation.IsDNS1123Label(t.Name) {
			if t.Name != "" {
				fes = append(fes, field.Invalid(np, t.Name, msg))
			}
		}
		seen[t.Name] = true
		claim := fmt.Sprintf("%s-%s-%d", t.Name, sts.Name, start)
		if len(fes) == 0 {
			for _, msg := range validation.IsDNS1123Subdomain(claim) {
				fes = append(fes, field.Invalid(np, t.Name, "makes the invalid claim name "+strconv.Quote(claim)+": "+msg))
			}
		}
		fes = append(fes, validateClaimSpec(&t.Spec, p.Child("spec"))...)
		c.add(fes...)
		if len(fes) == 0 {
			vols = append(vols, corev1.Volume{Name: t.Name, VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}})
		}
	}
	return vols
}

// intOrPercent checks a count or percentage of pods, as
// ValidatePositiveIntOrPercent does.
func (c *workloadCheck) intOrPercent(v intstrpkg.IntOrString, p *field.Path) {
	switch v.Type {
	case intstrpkg.String:
		for _, msg := range validation.IsValidPercent(v.StrVal) {
			c.add(field.Invalid(p, v.StrVal, msg))
		}
	case intstrpkg.Int:
		c.nonNegative(int64(v.IntVal), p)
	default:
		c.add(field.Invalid(p, v.String(), "must be an integer or percentage (e.g '5%')"))
	}
}

// percent is the value of a valid percentage.
func percent(v intstrpkg.IntOrString) (int, bool) {
	if v.Type != intstrpkg.String || len(validation.IsValidPercent(v.StrVal)) != 0 {
		return 0, false
	}
	n, err := strconv.Atoi(v.StrVal[:len(v.StrVal)-1])
	return n, err == nil
}

// intOrPercentValue is the number in v, a percentage or not.
func intOrPercentValue(v intstrpkg.IntOrString) int {
	if n, ok := percent(v); ok {
		return n
	}
	if v.Type == intstrpkg.Int {
		return int(v.IntVal)
	}
	return 0
}

func (c *workloadCheck) notOver100(v intstrpkg.IntOrString, p *field.Path) {
	if n, ok := percent(v); ok && n > 100 {
		c.add(field.Invalid(p, v.StrVal, "must not be greater than 100%"))
	}
}
