package kube

import (
	"fmt"
	"slices"
	"strings"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Custom resources are accepted when a CustomResourceDefinition of the
// same set, or one stored before (Options.Definitions), serves their
// group, version and kind. Their schema is not checked: podrun checks
// their metadata and scope only.

// customNote is what a custom resource does here.
const customNote = "no effect here: no controller for it runs here"

// CustomResource is the resource a CustomResourceDefinition defines.
func CustomResource(crd *apiextv1.CustomResourceDefinition) Resource {
	n := crd.Spec.Names
	r := Resource{
		Group: crd.Spec.Group, Kind: n.Kind,
		Plural: n.Plural, Singular: n.Singular, Short: n.ShortNames,
		Namespaced: crd.Spec.Scope == apiextv1.NamespaceScoped,
	}
	if r.Singular == "" {
		r.Singular = strings.ToLower(n.Kind)
	}
	for _, v := range crd.Spec.Versions {
		if v.Served && v.Storage {
			r.Versions = append([]string{v.Name}, r.Versions...)
		} else if v.Served {
			r.Versions = append(r.Versions, v.Name)
		}
	}
	return r
}

// definitions are the CustomResourceDefinitions custom resources of objs
// may use: those stored, replaced by those of objs with the same name, as
// apply will replace them.
func definitions(objs []Object, stored []*apiextv1.CustomResourceDefinition) []*apiextv1.CustomResourceDefinition {
	byName := map[string]int{}
	var defs []*apiextv1.CustomResourceDefinition
	add := func(d *apiextv1.CustomResourceDefinition) {
		if i, ok := byName[d.Name]; ok {
			defs[i] = d
			return
		}
		byName[d.Name] = len(defs)
		defs = append(defs, d)
	}
	for _, d := range stored {
		add(d)
	}
	for _, o := range objs {
		if d, ok := o.Object.(*apiextv1.CustomResourceDefinition); ok {
			add(d)
		}
	}
	return defs
}

// findDefinition returns the definition of gk's kind, or nil.
func findDefinition(defs []*apiextv1.CustomResourceDefinition, gk schema.GroupKind) *apiextv1.CustomResourceDefinition {
	for _, d := range slices.Backward(defs) {
		if d.Spec.Group == gk.Group && d.Spec.Names.Kind == gk.Kind {
			return d
		}
	}
	return nil
}

// custom checks one object of a kind that neither podrun nor the API
// server knows: a custom resource, accepted when a definition serves it.
func custom(o Object, opts Options) (*Kept, ErrorList) {
	gvk := kindOf(o)
	d := findDefinition(opts.definitions, gvk.GroupKind())
	noMatch := fmt.Sprintf("no matches for kind %q in version %q", gvk.Kind, gvk.GroupVersion())
	if d == nil {
		return nil, ErrorList{{Source: o.Source, Detail: noMatch + "; apply its CustomResourceDefinition with it"}}
	}
	r := CustomResource(d)
	if !slices.Contains(r.Versions, gvk.Version) {
		return nil, ErrorList{{Source: o.Source, Detail: fmt.Sprintf("%s: CustomResourceDefinition %s serves %s",
			noMatch, d.Name, orNothing(r.Versions))}}
	}
	u, ok := o.Object.(*unstructured.Unstructured)
	if !ok { // a definition of a kind podrun has a type for
		return nil, ErrorList{{Source: o.Source, Detail: noMatch + fmt.Sprintf(": podrun does not take custom resources of the built-in group %q", gvk.Group)}}
	}
	u = u.DeepCopy()
	var errs ErrorList
	if e := setScope(o, u, r.Namespaced, opts.Namespace); e != nil {
		errs = append(errs, e)
	}
	for _, fe := range validateObjectMeta(u, r.Namespaced, apivalidation.NameIsDNSSubdomain) {
		errs = append(errs, located(o, fe))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	r.Versions = []string{gvk.Version}
	return &Kept{Source: o.Source, Resource: r, Object: u, Effect: NoEffect, Note: customNote}, nil
}

func orNothing(list []string) string {
	if len(list) == 0 {
		return "no version"
	}
	return "version " + strings.Join(list, ", ")
}

// builtinGroups are the API groups of Kubernetes itself: a kind of these
// that podrun does not take is not supported yet, rather than a custom
// resource without its definition.
var builtinGroups = []string{
	"", "apps", "batch", "autoscaling", "policy", "extensions",
	"admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io",
	"authentication.k8s.io", "authorization.k8s.io", "certificates.k8s.io",
	"coordination.k8s.io", "discovery.k8s.io", "events.k8s.io", "flowcontrol.apiserver.k8s.io",
	"internal.apiserver.k8s.io", "networking.k8s.io", "node.k8s.io", "rbac.authorization.k8s.io",
	"resource.k8s.io", "scheduling.k8s.io", "storage.k8s.io", "storagemigration.k8s.io",
}

// isBuiltin says whether o is of a Kubernetes API group, not a custom one.
func isBuiltin(o Object) bool {
	return slices.Contains(builtinGroups, kindOf(o).Group)
}

var scopes = []apiextv1.ResourceScope{apiextv1.ClusterScoped, apiextv1.NamespaceScoped}

// validateDefinition checks what podrun reads of a CustomResourceDefinition:
// its group, names, scope and versions, with the API server's rules and
// words (apiextensions-apiserver's validation).
func validateDefinition(d *apiextv1.CustomResourceDefinition) field.ErrorList {
	p := field.NewPath("spec")
	s := d.Spec
	var errs field.ErrorList
	switch {
	case s.Group == "":
		errs = append(errs, field.Required(p.Child("group"), ""))
	case len(strings.Split(s.Group, ".")) < 2:
		errs = append(errs, field.Invalid(p.Child("group"), s.Group, "should be a domain with at least one dot"))
	default:
		for _, msg := range validation.IsDNS1123Subdomain(s.Group) {
			errs = append(errs, field.Invalid(p.Child("group"), s.Group, msg))
		}
	}
	if want := s.Names.Plural + "." + s.Group; d.Name != want {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), d.Name, fmt.Sprintf("must be spec.names.plural+\".\"+spec.group (%s)", want)))
	}
	errs = append(errs, validateDefinitionNames(s.Names, p.Child("names"))...)
	if s.Scope == "" {
		errs = append(errs, field.Required(p.Child("scope"), ""))
	} else {
		errs = append(errs, oneOf(s.Scope, p.Child("scope"), scopes...)...)
	}
	return append(errs, validateDefinitionVersions(s.Versions, p.Child("versions"))...)
}

func validateDefinitionNames(n apiextv1.CustomResourceDefinitionNames, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	label := func(v string, fp *field.Path, required bool) {
		if v == "" {
			if required {
				errs = append(errs, field.Required(fp, ""))
			}
			return
		}
		if msgs := validation.IsDNS1035Label(v); len(msgs) > 0 {
			errs = append(errs, field.Invalid(fp, v, strings.Join(msgs, ",")))
		}
	}
	label(n.Plural, p.Child("plural"), true)
	label(n.Singular, p.Child("singular"), false)
	for i, s := range n.ShortNames {
		label(s, p.Child("shortNames").Index(i), false)
	}
	if n.Kind == "" {
		errs = append(errs, field.Required(p.Child("kind"), ""))
	} else if msgs := validation.IsDNS1035Label(strings.ToLower(n.Kind)); len(msgs) > 0 {
		errs = append(errs, field.Invalid(p.Child("kind"), n.Kind, "may have mixed case, but should otherwise match: "+strings.Join(msgs, ",")))
	}
	return errs
}

func validateDefinitionVersions(versions []apiextv1.CustomResourceDefinitionVersion, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(versions) == 0 {
		return field.ErrorList{field.Required(p, "must have exactly one version marked as storage version")}
	}
	storage := 0
	seen := map[string]bool{}
	for i, v := range versions {
		vp := p.Index(i)
		if v.Storage {
			storage++
		}
		if seen[v.Name] {
			errs = append(errs, field.Invalid(vp.Child("name"), v.Name, "must contain unique version names"))
		}
		seen[v.Name] = true
		if v.Name == "" {
			errs = append(errs, field.Required(vp.Child("name"), ""))
		} else if msgs := validation.IsDNS1035Label(v.Name); len(msgs) > 0 {
			errs = append(errs, field.Invalid(vp.Child("name"), v.Name, strings.Join(msgs, ",")))
		}
		if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
			errs = append(errs, field.Required(vp.Child("schema", "openAPIV3Schema"), "schemas are required"))
		}
	}
	if storage != 1 {
		errs = append(errs, field.Invalid(p, field.OmitValueType{}, "must have exactly one version marked as storage version"))
	}
	return errs
}
