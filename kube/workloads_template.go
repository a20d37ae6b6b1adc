package kube

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// podTemplate defaults the template at tp and validates it as the pods
// of the workload m will be: it hands a Pod made of the template, named
// after the workload and in its namespace, to pod, the code that checks
// every Pod, with the workload's lines seen from tp. Problems and
// warnings come back located in the workload's file and named under tp.
//
// claims are volumes a controller adds to each pod (a StatefulSet's
// claims), replacing the template's volume of the same name; the pod is
// validated with them, the template keeps its own.
func (c *workloadCheck) podTemplate(m *metav1.ObjectMeta, tmpl *corev1.PodTemplateSpec, tp *field.Path, claims []corev1.Volume) {
	prefix := tp.String()
	p := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        templatePodName(m.Name),
			Namespace:   m.Namespace,
			Labels:      tmpl.Labels,
			Annotations: tmpl.Annotations,
		},
		Spec: *tmpl.Spec.DeepCopy(),
	}
	own := len(p.Spec.Volumes)
	replaced := addClaims(&p.Spec, claims)
	sub := Object{
		Source: Source{File: c.o.Source.File, Line: c.o.Lines.Find(prefix)},
		Kind:   "Pod",
		Object: p,
		Lines:  subLines(c.o.Lines, prefix),
	}
	if sub.Source.Line == 0 {
		sub.Source.Line = c.o.Source.Line
	}
	opts := c.opts // whatever else Options says applies to the pods too
	opts.Namespace = m.Namespace
	out, warnings, errs := pod(sub, opts)
	for _, e := range errs {
		e.Field = underPath(prefix, e.Field)
		c.errs = append(c.errs, e)
	}
	if out == nil {
		return
	}
	c.warnings = append(c.warnings, warningsUnder(warnings, prefix)...)
	spec := out.Spec
	spec.Volumes = spec.Volumes[:own:own]
	if own == 0 {
		spec.Volumes = nil
	}
	for i, v := range replaced {
		setVolumeDefaults(&v.VolumeSource)
		spec.Volumes[i] = v
	}
	tmpl.Spec = spec
}

// templatePodName names the pod that stands for a template: the
// workload's name when it is valid, so that nothing is reported twice.
func templatePodName(name string) string {
	if len(validation.IsDNS1123Subdomain(name)) == 0 {
		return name
	}
	return "template"
}

// addClaims adds claims to s, each in place of the volume of its name or
// after the others, and returns the volumes replaced by index.
func addClaims(s *corev1.PodSpec, claims []corev1.Volume) map[int]corev1.Volume {
	replaced := map[int]corev1.Volume{}
	for _, cl := range claims {
		i := volumeIndex(s.Volumes, cl.Name)
		if i < 0 {
			s.Volumes = append(s.Volumes, cl)
			continue
		}
		if _, done := replaced[i]; !done {
			replaced[i] = *s.Volumes[i].DeepCopy()
		}
		s.Volumes[i] = cl
	}
	return replaced
}

func volumeIndex(vols []corev1.Volume, name string) int {
	for i := range vols {
		if vols[i].Name == name {
			return i
		}
	}
	return -1
}

// subLines is the part of l under prefix, seen from prefix: the line of
// "spec.template.spec.containers[0]" becomes that of "spec.containers[0]"
// for the prefix "spec.template".
func subLines(l Lines, prefix string) Lines {
	out := Lines{"": l.Find(prefix)}
	for k, v := range l {
		if k == prefix {
			out[""] = v
		} else if rest, ok := strings.CutPrefix(k, prefix+"."); ok {
			out[rest] = v
		}
	}
	return out
}

// underPath names a field of a template by its path in the workload.
func underPath(prefix, path string) string {
	if path == "" {
		return prefix
	}
	return prefix + "." + path
}

// warningsUnder renames the fields of warnings from pod, lines of the
// form "file:line: field, field: text", under prefix.
func warningsUnder(warnings []string, prefix string) []string {
	out := make([]string, 0, len(warnings))
	for _, w := range warnings {
		src, rest, ok := strings.Cut(w, ": ")
		fields, text, ok2 := strings.Cut(rest, ": ")
		if !ok || !ok2 {
			out = append(out, w)
			continue
		}
		list := strings.Split(fields, ", ")
		for i := range list {
			list[i] = underPath(prefix, list[i])
		}
		out = append(out, src+": "+strings.Join(list, ", ")+": "+text)
	}
	return out
}
