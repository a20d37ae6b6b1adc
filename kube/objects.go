package kube

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ConfigMap is a validated ConfigMap with its namespace set.
type ConfigMap struct {
	Source    Source
	ConfigMap *corev1.ConfigMap
}

// Secret is a validated Secret with its namespace set, its stringData
// merged into data (as the API server stores it) and its type defaulted.
type Secret struct {
	Source Source
	Secret *corev1.Secret
}

// Set is what a group of manifests asks for: pods to run and the
// ConfigMaps and Secrets they may read, each in input order.
type Set struct {
	Pods       []Pod
	ConfigMaps []ConfigMap
	Secrets    []Secret
	Claims     []Claim // PersistentVolumeClaims (claims.go)
	// Services (service.go), their ClusterIPs and nodePorts as asked for:
	// the runner allocates the others when it stores them.
	Services []Service
	// Workloads are Deployments, ReplicaSets, StatefulSets, DaemonSets,
	// Jobs and CronJobs (workloads.go): their controllers make the pods.
	Workloads []Workload
	// Kept are the objects podrun stores and lists without running them
	// (kinds.go), and custom resources (custom.go).
	Kept []Kept
	// Warnings name fields that podrun accepts and ignores (those that
	// only matter to a scheduler), one line each, with file and line.
	Warnings []string
}

// accepted lists the kinds Expand accepts, for error messages.
var accepted = slices.Concat([]string{"Pod", "ConfigMap", "Secret", "PersistentVolumeClaim", "Service"}, WorkloadKinds(), keptKindNames(),
	[]string{"custom resources of their CustomResourceDefinitions"})

// Expand validates and defaults objs, as the API server would, and
// returns the pods, ConfigMaps and Secrets they describe. Other kinds
// are errors naming the kinds podrun accepts. Every problem is returned
// together as an ErrorList.
func Expand(objs []Object, opts Options) (*Set, error) {
	set := &Set{}
	var errs ErrorList
	seen := map[string]Source{}
	opts.definitions = definitions(objs, opts.Definitions)
	for _, o := range objs {
		generateName(o, opts)
		meta, e := expandOne(set, o, opts)
		errs = append(errs, e...)
		if meta == nil {
			continue
		}
		key := kindOf(o).GroupKind().String() + "/" + meta.GetNamespace() + "/" + meta.GetName()
		if first, dup := seen[key]; dup {
			errs = append(errs, duplicate(o, meta, first))
			set.drop(kindOf(o).GroupKind())
			continue
		}
		seen[key] = o.Source
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return set, nil
}

// expandOne adds o to set, returning its metadata, or nil and the
// problems found.
func expandOne(set *Set, o Object, opts Options) (metav1.Object, ErrorList) {
	gk := kindOf(o).GroupKind()
	if k := findKept(gk.Group, gk.Kind); k != nil {
		return set.keep(kept(o, k, opts))
	}
	if !isBuiltin(o) || findDefinition(opts.definitions, gk) != nil {
		return set.keep(custom(o, opts))
	}
	if isWorkload(gk.Kind) {
		w, warnings, errs := workload(o, opts)
		if w == nil {
			return nil, errs
		}
		set.Workloads = append(set.Workloads, *w)
		set.Warnings = append(set.Warnings, warnings...)
		return w.Meta(), nil
	}
	switch gk.Kind {
	case "ConfigMap":
		cm, errs := configMap(o, opts)
		if cm == nil {
			return nil, errs
		}
		set.ConfigMaps = append(set.ConfigMaps, ConfigMap{Source: o.Source, ConfigMap: cm})
		return cm, nil
	case "Secret":
		s, errs := secret(o, opts)
		if s == nil {
			return nil, errs
		}
		set.Secrets = append(set.Secrets, Secret{Source: o.Source, Secret: s})
		return s, nil
	case "Service":
		s, errs := service(o, opts)
		if s == nil {
			return nil, errs
		}
		set.Services = append(set.Services, Service{Source: o.Source, Service: s, Lines: o.Lines})
		return s, nil
	case "PersistentVolumeClaim":
		c, errs := claim(o, opts)
		if c == nil {
			return nil, errs
		}
		set.Claims = append(set.Claims, Claim{Source: o.Source, Claim: c})
		return c, nil
	}
	p, warnings, errs := pod(o, opts)
	if p == nil {
		return nil, errs
	}
	set.Pods = append(set.Pods, Pod{Source: o.Source, Pod: p, Lines: o.Lines})
	set.Warnings = append(set.Warnings, warnings...)
	return p, nil
}

// keep adds a kept object to set.
func (set *Set) keep(k *Kept, errs ErrorList) (metav1.Object, ErrorList) {
	if k == nil {
		return nil, errs
	}
	set.Kept = append(set.Kept, *k)
	return k.Object, nil
}

// drop removes the last object of kind added, a duplicate.
func (s *Set) drop(gk schema.GroupKind) {
	switch gk {
	case schema.GroupKind{Kind: "ConfigMap"}:
		s.ConfigMaps = s.ConfigMaps[:len(s.ConfigMaps)-1]
	case schema.GroupKind{Kind: "Secret"}:
		s.Secrets = s.Secrets[:len(s.Secrets)-1]
	case schema.GroupKind{Kind: "PersistentVolumeClaim"}:
		s.Claims = s.Claims[:len(s.Claims)-1]
	case schema.GroupKind{Kind: "Service"}:
		s.Services = s.Services[:len(s.Services)-1]
	case schema.GroupKind{Kind: "Pod"}:
		s.Pods = s.Pods[:len(s.Pods)-1]
	case schema.GroupKind{Group: "apps", Kind: "Deployment"}, schema.GroupKind{Group: "apps", Kind: "ReplicaSet"},
		schema.GroupKind{Group: "apps", Kind: "StatefulSet"}, schema.GroupKind{Group: "apps", Kind: "DaemonSet"},
		schema.GroupKind{Group: "batch", Kind: "Job"}, schema.GroupKind{Group: "batch", Kind: "CronJob"}:
		s.Workloads = s.Workloads[:len(s.Workloads)-1]
	default:
		s.Kept = s.Kept[:len(s.Kept)-1]
	}
}

// duplicate reports a second object with the kind, namespace and name of
// one defined at first.
func duplicate(o Object, m metav1.Object, first Source) *Error {
	fe := field.Duplicate(field.NewPath("metadata", "name"), m.GetName())
	e := located(o, fe)
	e.Detail += fmt.Sprintf(": %s %q in namespace %q is already defined at %s",
		strings.ToLower(kindOf(o).Kind), m.GetName(), m.GetNamespace(), first)
	return e
}

// configMap checks, defaults and validates one ConfigMap.
func configMap(o Object, opts Options) (*corev1.ConfigMap, ErrorList) {
	in, ok := o.Object.(*corev1.ConfigMap)
	if e := checkVersion(o, ok); e != nil {
		return nil, ErrorList{e}
	}
	cm := in.DeepCopy()
	var errs ErrorList
	if e := setNamespace(o, cm, opts.Namespace); e != nil {
		errs = append(errs, e)
	}
	fes := validateMeta(&cm.ObjectMeta, field.NewPath("metadata"))
	fes = append(fes, validateConfigMap(cm)...)
	for _, fe := range fes {
		errs = append(errs, located(o, fe))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return cm, nil
}

// secret checks, defaults and validates one Secret.
func secret(o Object, opts Options) (*corev1.Secret, ErrorList) {
	in, ok := o.Object.(*corev1.Secret)
	if e := checkVersion(o, ok); e != nil {
		return nil, ErrorList{e}
	}
	s := in.DeepCopy()
	var errs ErrorList
	if e := setNamespace(o, s, opts.Namespace); e != nil {
		errs = append(errs, e)
	}
	// Keys are validated where the user wrote them, before the merge.
	fes := validateMeta(&s.ObjectMeta, field.NewPath("metadata"))
	fes = append(fes, validateKeys(s.Data, field.NewPath("data"))...)
	fes = append(fes, validateKeys(s.StringData, field.NewPath("stringData"))...)
	setSecretDefaults(s)
	fes = append(fes, validateSecret(s)...)
	for _, fe := range fes {
		errs = append(errs, located(o, fe))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return s, nil
}

// checkVersion refuses an object of a known kind but another apiVersion.
func checkVersion(o Object, typed bool) *Error {
	gvk := kindOf(o)
	if gvk.GroupVersion() == corev1.SchemeGroupVersion && typed {
		return nil
	}
	return located(o, field.NotSupported(field.NewPath("apiVersion"), gvk.GroupVersion().String(), []string{"v1"}))
}

// setSecretDefaults does what the API server does when it stores a
// Secret: stringData is merged into data, winning over it, and dropped;
// the type defaults to Opaque.
func setSecretDefaults(s *corev1.Secret) {
	if s.Type == "" {
		s.Type = corev1.SecretTypeOpaque
	}
	if len(s.StringData) > 0 && s.Data == nil {
		s.Data = map[string][]byte{}
	}
	for k, v := range s.StringData {
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
}

// maxObjectSize is the API server's limit on the data of a ConfigMap or
// Secret (core.MaxSecretSize).
const maxObjectSize = 1 << 20

// validateConfigMap checks keys and size as the API server does.
func validateConfigMap(cm *corev1.ConfigMap) field.ErrorList {
	errs := validateKeys(cm.Data, field.NewPath("data"))
	errs = append(errs, validateKeys(cm.BinaryData, field.NewPath("binaryData"))...)
	size := 0
	for k, v := range cm.Data {
		size += len(v)
		if _, dup := cm.BinaryData[k]; dup {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(k), k, "duplicate of key present in binaryData"))
		}
	}
	for _, v := range cm.BinaryData {
		size += len(v)
	}
	if size > maxObjectSize {
		errs = append(errs, field.TooLong(field.NewPath(""), "", maxObjectSize))
	}
	return sortedByField(errs)
}

// secretRequiredKeys are the keys the API server requires of a Secret of
// each built-in type.
var secretRequiredKeys = map[corev1.SecretType][]string{
	corev1.SecretTypeDockercfg:        {corev1.DockerConfigKey},
	corev1.SecretTypeDockerConfigJson: {corev1.DockerConfigJsonKey},
	corev1.SecretTypeSSHAuth:          {corev1.SSHAuthPrivateKey},
	corev1.SecretTypeTLS:              {corev1.TLSCertKey, corev1.TLSPrivateKeyKey},
}

// validateSecret checks the size of a merged Secret and the keys its
// type requires.
func validateSecret(s *corev1.Secret) field.ErrorList {
	var errs field.ErrorList
	size := 0
	for _, v := range s.Data {
		size += len(v)
	}
	if size > maxObjectSize {
		errs = append(errs, field.TooLong(field.NewPath("data"), "", maxObjectSize))
	}
	for _, k := range secretRequiredKeys[s.Type] {
		if _, ok := s.Data[k]; !ok {
			errs = append(errs, field.Required(field.NewPath("data").Key(k), ""))
		}
	}
	if s.Type == corev1.SecretTypeBasicAuth {
		_, user := s.Data[corev1.BasicAuthUsernameKey]
		_, pass := s.Data[corev1.BasicAuthPasswordKey]
		if !user && !pass {
			errs = append(errs, field.Required(field.NewPath("data").Key(corev1.BasicAuthUsernameKey), ""),
				field.Required(field.NewPath("data").Key(corev1.BasicAuthPasswordKey), ""))
		}
	}
	return sortedByField(errs)
}

// validateKeys checks every key of a data map with the API server's rule
// for ConfigMap and Secret keys.
func validateKeys[V any](data map[string]V, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for k := range data {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(p.Key(k), k, msg))
		}
	}
	return sortedByField(errs)
}

// generateName names o from its metadata.generateName when opts say so
// (create), before it is validated; under apply, validation refuses it.
func generateName(o Object, opts Options) {
	if opts.GenerateName == nil {
		return
	}
	m, err := meta.Accessor(o.Object)
	if err != nil || m.GetName() != "" || m.GetGenerateName() == "" {
		return
	}
	m.SetName(opts.GenerateName(m.GetGenerateName()))
}
