package kube

import (
	"errors"
	"fmt"
	"io"

	utilrand "k8s.io/apimachinery/pkg/util/rand"

	corev1 "k8s.io/api/core/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Source locates a document, or a field inside one, in the input.
type Source struct {
	File string // as the user named it; "<stdin>" for "-"
	Line int    // 1-based; 0 when unknown
}

func (s Source) String() string {
	if s.Line > 0 {
		return fmt.Sprintf("%s:%d", s.File, s.Line)
	}
	return s.File
}

// Object is one decoded manifest object, typed (for example *corev1.Pod).
// Kinds podrun has no Go type for are *unstructured.Unstructured.
type Object struct {
	Source Source
	Kind   string
	Object runtime.Object
	// Lines locates the object's fields in Source.File, so that later
	// checks can name the line of the field they reject.
	Lines Lines
}

// Pod is a pod to run: validated, defaulted, with its namespace set.
type Pod struct {
	Source Source
	Pod    *corev1.Pod
	// Lines locates the pod's fields in Source.File, as Object.Lines;
	// nil for a pod that was not read from a manifest.
	Lines Lines
}

// At locates the field at path (spec.containers[0].image) in the pod's
// manifest: the line of the field or of its nearest parent present in
// the input, else the pod's own line.
func (p Pod) At(path string) Source {
	if n := p.Lines.Find(path); n > 0 {
		return Source{File: p.Source.File, Line: n}
	}
	return p.Source
}

// Options tune how objects become pods.
type Options struct {
	// Namespace is used for objects that name none (kubectl's -n).
	// An object naming another namespace is an error, as with kubectl.
	// Empty means "default".
	Namespace string
	// Definitions are the CustomResourceDefinitions stored by earlier
	// applies: custom resources of their kinds are accepted, besides
	// those of definitions in the same objects.
	Definitions []*apiextv1.CustomResourceDefinition
	// GenerateName, when set, names the objects that give
	// metadata.generateName and no name, as the API server does on
	// create: GeneratedName is what kubectl create gets. Nil refuses
	// generateName, as kubectl apply does.
	GenerateName func(base string) string
	// ServiceCIDR is the range Services' ClusterIPs are in (runner's
	// Config.ServiceCIDR); "" is DefaultServiceCIDR.
	ServiceCIDR string

	// definitions are Definitions and those of the objects expanded.
	definitions []*apiextv1.CustomResourceDefinition
}

// Load reads manifests from paths: files, directories (every *.yaml, *.yml
// and *.json in them, sorted, not recursing) and "-" for stdin. A path
// that cannot be read fails at once; problems in the manifests are
// collected from every file and returned together as an ErrorList.
func Load(paths []string, stdin io.Reader) ([]Object, error) {
	inputs, err := readInputs(paths, stdin)
	if err != nil {
		return nil, err
	}
	objs, errs := decodeInputs(inputs)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return objs, nil
}

// decodeInputs decodes every input, collecting the objects that decode
// and the problems of those that do not.
func decodeInputs(inputs []input) ([]Object, ErrorList) {
	var objs []Object
	var errs ErrorList
	for _, in := range inputs {
		o, e := decodeStream(in.name, in.data)
		objs = append(objs, o...)
		errs = append(errs, e...)
	}
	return objs, errs
}

// LoadSet reads manifests as Load does and expands them as Expand does,
// reporting every problem of every file together: a file that does not
// decode (bad YAML, a document without kind) does not hide the problems
// of the others, which are still validated. Any problem means no Set.
func LoadSet(paths []string, stdin io.Reader, opts Options) (*Set, error) {
	inputs, err := readInputs(paths, stdin)
	if err != nil {
		return nil, err
	}
	objs, errs := decodeInputs(inputs)
	set, err := Expand(objs, opts)
	var expandErrs ErrorList
	if errors.As(err, &expandErrs) {
		errs = append(errs, expandErrs...)
	} else if err != nil {
		return nil, errors.Join(errs.err(), err)
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return set, nil
}

// Decode decodes one multi-document stream of YAML or JSON; file names it
// in errors. Every problem in every document is returned together as an
// ErrorList, and then no objects are returned.
func Decode(file string, data []byte) ([]Object, error) {
	objs, errs := decodeStream(file, data)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return objs, nil
}

// Pods validates and defaults objs and returns the pods they describe,
// in input order. ConfigMaps and Secrets are validated and left out;
// use Expand to have them too. Every problem is returned together as an
// ErrorList.
func Pods(objs []Object, opts Options) ([]Pod, error) {
	set, err := Expand(objs, opts)
	if err != nil {
		return nil, err
	}
	return set.Pods, nil
}

// GeneratedName is base followed by five random characters of
// apimachinery's alphabet, base cut to 58 characters first, as the API
// server names an object from its generateName.
func GeneratedName(base string) string {
	const maxBase = 63 - 5 // the API server's limit
	if len(base) > maxBase {
		base = base[:maxBase]
	}
	return base + utilrand.String(5)
}
