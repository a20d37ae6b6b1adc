package kube

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// defaultNamespace is used when neither the object nor Options name one.
const defaultNamespace = "default"

// pod checks, defaults and validates one object as the pod it must be.
// It returns the warnings for fields it accepts and ignores.
func pod(o Object, opts Options) (*corev1.Pod, []string, ErrorList) {
	gvk := kindOf(o)
	if gvk.Kind != "Pod" {
		return nil, nil, ErrorList{{Source: o.Source, Detail: fmt.Sprintf("kind %s (%s) is not supported yet; podrun accepts: %s",
			gvk.Kind, gvk.GroupVersion(), strings.Join(accepted, ", "))}}
	}
	in, ok := o.Object.(*corev1.Pod)
	if e := checkVersion(o, ok); e != nil {
		return nil, nil, ErrorList{e}
	}
	p := in.DeepCopy()
	var errs ErrorList
	if e := setNamespace(o, p, opts.Namespace); e != nil {
		errs = append(errs, e)
	}
	ignored, unsupported := checkFields(in)
	setPodDefaults(p)
	fes := validatePod(p)
	for _, fe := range append(fes, unsupported...) {
		errs = append(errs, located(o, fe))
	}
	if len(errs) > 0 {
		return nil, nil, errs
	}
	applyAppArmorAnnotations(p)
	return p, append(ignoredWarnings(o, ignored), portNameWarnings(o, p)...), nil
}

// kindOf returns the apiVersion and kind of o.
func kindOf(o Object) schema.GroupVersionKind {
	var gvk schema.GroupVersionKind
	if o.Object != nil {
		gvk = o.Object.GetObjectKind().GroupVersionKind()
	}
	if gvk.Kind == "" {
		gvk.Kind = o.Kind
	}
	return gvk
}

// located places a field error of o on the line of its field, or of the
// nearest parent present in the input.
func located(o Object, fe *field.Error) *Error {
	e := fieldError(o.Source.File, o.Lines, fe)
	if e.Source.Line == 0 {
		e.Source.Line = o.Source.Line
	}
	return e
}

// setNamespace applies kubectl's rule: an object without a namespace
// gets ns (or "default"); one naming another namespace than a non-empty
// ns is an error.
func setNamespace(o Object, m metav1.Object, ns string) *Error {
	switch {
	case m.GetNamespace() == "" && ns == "":
		m.SetNamespace(defaultNamespace)
	case m.GetNamespace() == "":
		m.SetNamespace(ns)
	case ns != "" && m.GetNamespace() != ns:
		line := o.Lines.Find("metadata.namespace")
		if line == 0 {
			line = o.Source.Line
		}
		return &Error{Source: Source{File: o.Source.File, Line: line}, Detail: fmt.Sprintf(
			"the namespace from the provided object %q does not match the namespace %q. You must pass '--namespace=%s' to perform this operation.",
			m.GetNamespace(), ns, m.GetNamespace())}
	}
	return nil
}
