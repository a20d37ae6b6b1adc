package kube

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The checks below are those of the API server for apps/v1 and batch/v1
// (k8s.io/kubernetes pkg/apis/apps/validation, pkg/apis/batch/validation,
// the defaults of pkg/apis/apps/v1 and pkg/apis/batch/v1, and the Job
// strategy's selector generation), with its wording. The pod template is
// defaulted and validated by the code that defaults and validates a Pod,
// so that a template is refused for what its pods would be refused for.

// Workload is a validated workload (a Deployment, ReplicaSet,
// StatefulSet, DaemonSet, Job or CronJob) with its namespace set and the
// API server's defaults applied, its pod template included.
type Workload struct {
	Source Source
	Kind   string // Deployment, ReplicaSet, StatefulSet, DaemonSet, Job or CronJob
	// Object is the defaulted copy: *appsv1.Deployment, *appsv1.ReplicaSet,
	// *appsv1.StatefulSet, *appsv1.DaemonSet, *batchv1.Job or *batchv1.CronJob.
	Object runtime.Object
	// Template points into Object: spec.template, or a CronJob's
	// spec.jobTemplate.spec.template. Its spec has the defaults a Pod made
	// from it gets.
	Template *corev1.PodTemplateSpec
	// Lines locates the fields of Object in Source.File, for the checks
	// that come later (a changed selector on re-apply).
	Lines Lines
}

// Meta returns the workload's metadata.
func (w *Workload) Meta() metav1.Object {
	m, _ := w.Object.(metav1.Object)
	return m
}

// workloadKinds are the kinds workload accepts, by API group.
var workloadKinds = map[string]schema.GroupVersion{
	"Deployment":  appsv1.SchemeGroupVersion,
	"ReplicaSet":  appsv1.SchemeGroupVersion,
	"StatefulSet": appsv1.SchemeGroupVersion,
	"DaemonSet":   appsv1.SchemeGroupVersion,
	"Job":         batchv1.SchemeGroupVersion,
	"CronJob":     batchv1.SchemeGroupVersion,
}

// WorkloadKinds are the workload kinds, each run by its controller.
func WorkloadKinds() []string {
	return []string{"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob"}
}

// isWorkload says whether kind is one that workload accepts.
func isWorkload(kind string) bool {
	_, ok := workloadKinds[kind]
	return ok
}

// workload checks, defaults and validates one workload. It returns the
// warnings for the fields of its pod template that podrun ignores.
func workload(o Object, opts Options) (*Workload, []string, ErrorList) {
	c := &workloadCheck{o: o, opts: opts}
	w := c.run()
	if len(c.errs) > 0 {
		return nil, nil, c.errs
	}
	return w, c.warnings, nil
}

// workloadCheck collects the problems and warnings of one workload.
type workloadCheck struct {
	o        Object
	opts     Options
	errs     ErrorList
	warnings []string
}

// add locates field errors of the workload by its lines.
func (c *workloadCheck) add(fes ...*field.Error) {
	for _, fe := range fes {
		c.errs = append(c.errs, located(c.o, fe))
	}
}

func (c *workloadCheck) run() *Workload {
	gvk := kindOf(c.o)
	want, ok := workloadKinds[gvk.Kind]
	if !ok {
		c.errs = append(c.errs, &Error{Source: c.o.Source, Detail: fmt.Sprintf("kind %s (%s) is not a workload", gvk.Kind, gvk.GroupVersion())})
		return nil
	}
	if gvk.GroupVersion() != want {
		c.add(field.NotSupported(field.NewPath("apiVersion"), gvk.GroupVersion().String(), []string{want.String()}))
		return nil
	}
	w := &Workload{Source: c.o.Source, Kind: gvk.Kind, Lines: c.o.Lines}
	switch in := c.o.Object.(type) {
	case *appsv1.Deployment:
		d := in.DeepCopy()
		w.Object, w.Template = d, &d.Spec.Template
		c.deployment(d)
	case *appsv1.ReplicaSet:
		rs := in.DeepCopy()
		w.Object, w.Template = rs, &rs.Spec.Template
		c.replicaSet(rs)
	case *appsv1.StatefulSet:
		s := in.DeepCopy()
		w.Object, w.Template = s, &s.Spec.Template
		c.statefulSet(s)
	case *appsv1.DaemonSet:
		ds := in.DeepCopy()
		w.Object, w.Template = ds, &ds.Spec.Template
		c.daemonSet(ds)
	case *batchv1.Job:
		j := in.DeepCopy()
		w.Object, w.Template = j, &j.Spec.Template
		c.job(j)
	case *batchv1.CronJob:
		cj := in.DeepCopy()
		w.Object, w.Template = cj, &cj.Spec.JobTemplate.Spec.Template
		c.cronJob(cj)
	default:
		c.add(field.NotSupported(field.NewPath("apiVersion"), gvk.GroupVersion().String(), []string{want.String()}))
		return nil
	}
	return w
}

// meta sets the namespace of a workload and validates its metadata. Its
// name is a DNS subdomain, or a DNS label when label is true (a
// StatefulSet's, which its pods' host names begin with).
func (c *workloadCheck) meta(m *metav1.ObjectMeta, label bool) {
	if e := setNamespace(c.o, m, c.opts.Namespace); e != nil {
		c.errs = append(c.errs, e)
	}
	p := field.NewPath("metadata")
	fes := validateMeta(m, p)
	if label && m.Name != "" && len(fes) == 0 {
		for _, msg := range validation.IsDNS1123Label(m.Name) {
			fes = append(fes, field.Invalid(p.Child("name"), m.Name, msg))
		}
	}
	c.add(fes...)
}

// selector checks an apps/v1 selector and that it selects the labels of
// the template at tp, as the API server does for kind.
func (c *workloadCheck) selector(sel *metav1.LabelSelector, tmpl *corev1.PodTemplateSpec, p, tp *field.Path, kind string) {
	if sel == nil {
		c.add(field.Required(p, ""))
		return
	}
	fes := metavalidation.ValidateLabelSelector(sel, metavalidation.LabelSelectorValidationOptions{}, p)
	c.add(fes...)
	if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
		c.add(field.Invalid(p, "{}", "empty selector is invalid for "+strings.ToLower(kind)))
	}
	if len(fes) == 0 {
		c.selects(sel, tmpl, p, tp)
	}
}

// selects checks that sel selects the labels of the template at tp.
func (c *workloadCheck) selects(sel *metav1.LabelSelector, tmpl *corev1.PodTemplateSpec, p, tp *field.Path) {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		c.add(field.Invalid(p, metav1.FormatLabelSelector(sel), "invalid label selector"))
		return
	}
	if !s.Empty() && !s.Matches(labels.Set(tmpl.Labels)) {
		c.add(field.Invalid(tp.Child("metadata", "labels"), tmpl.Labels, "`selector` does not match template `labels`"))
	}
}

// alwaysRestarts applies the rules of the apps/v1 kinds to the defaulted
// template at tp: restartPolicy Always, no activeDeadlineSeconds.
func (c *workloadCheck) alwaysRestarts(tmpl *corev1.PodTemplateSpec, tp *field.Path, kind string) {
	sp := tp.Child("spec")
	if v := restartPolicy(tmpl); v != corev1.RestartPolicyAlways {
		c.add(field.NotSupported(sp.Child("restartPolicy"), v, []corev1.RestartPolicy{corev1.RestartPolicyAlways}))
	}
	if tmpl.Spec.ActiveDeadlineSeconds != nil {
		c.add(field.Forbidden(sp.Child("activeDeadlineSeconds"), fmt.Sprintf("activeDeadlineSeconds in %s is not Supported", kind)))
	}
}

// restartPolicy is the template's restart policy once defaulted.
func restartPolicy(tmpl *corev1.PodTemplateSpec) corev1.RestartPolicy {
	if tmpl.Spec.RestartPolicy == "" {
		return corev1.RestartPolicyAlways
	}
	return tmpl.Spec.RestartPolicy
}

func (c *workloadCheck) nonNegative(v int64, p *field.Path) {
	c.add(apivalidation.ValidateNonnegativeField(v, p)...)
}

func (c *workloadCheck) nonNegativePtr(v *int32, p *field.Path) {
	if v != nil {
		c.nonNegative(int64(*v), p)
	}
}
