package kube

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// runnable lists the kinds Pods turns into pods, for error messages.
var runnable = []string{"Pod"}

// defaultNamespace is used when neither the object nor Options name one.
const defaultNamespace = "default"

// pod checks, defaults and validates one object as the pod it must be.
func pod(o Object, opts Options) (*corev1.Pod, ErrorList) {
	gvk := kindOf(o)
	if gvk.Kind != "Pod" {
		return nil, ErrorList{{Source: o.Source, Detail: fmt.Sprintf("kind %s (%s) is not supported yet; podrun runs: %s",
			gvk.Kind, gvk.GroupVersion(), strings.Join(runnable, ", "))}}
	}
	in, ok := o.Object.(*corev1.Pod)
	if gvk.GroupVersion() != corev1.SchemeGroupVersion || !ok {
		fe := field.NotSupported(field.NewPath("apiVersion"), gvk.GroupVersion().String(), []string{"v1"})
		return nil, ErrorList{located(o, fe)}
	}
	p := in.DeepCopy()
	var errs ErrorList
	if e := setNamespace(o, p, opts.Namespace); e != nil {
		errs = append(errs, e)
	}
	setPodDefaults(p)
	for _, fe := range validatePod(p) {
		errs = append(errs, located(o, fe))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
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
func setNamespace(o Object, p *corev1.Pod, ns string) *Error {
	switch {
	case p.Namespace == "" && ns == "":
		p.Namespace = defaultNamespace
	case p.Namespace == "":
		p.Namespace = ns
	case ns != "" && p.Namespace != ns:
		line := o.Lines.Find("metadata.namespace")
		if line == 0 {
			line = o.Source.Line
		}
		return &Error{Source: Source{File: o.Source.File, Line: line}, Detail: fmt.Sprintf(
			"the namespace from the provided object %q does not match the namespace %q. You must pass '--namespace=%s' to perform this operation.",
			p.Namespace, ns, p.Namespace)}
	}
	return nil
}

// duplicatePod reports a second pod with the namespace and name of one
// defined at first.
func duplicatePod(o Object, p *corev1.Pod, first Source) *Error {
	fe := field.Duplicate(field.NewPath("metadata", "name"), p.Name)
	e := located(o, fe)
	e.Detail += fmt.Sprintf(": pod %q in namespace %q is already defined at %s", p.Name, p.Namespace, first)
	return e
}
