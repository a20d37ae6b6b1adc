package kube

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"

	yaml "go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	sigsjson "sigs.k8s.io/json"
)

// scheme knows the typed kinds decoded strictly. Other kinds decode as
// unstructured objects, so that Pods can name them. It is made on first
// use: registering the kinds walks every type of ten API groups, which
// a pod's monitor (the same binary) should not pay for.
var scheme = sync.OnceValue(newScheme)

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(corev1.AddToScheme(s))
	utilruntime.Must(appsv1.AddToScheme(s))
	utilruntime.Must(batchv1.AddToScheme(s))
	// The kinds podrun keeps without running them (kinds.go).
	for _, add := range []func(*runtime.Scheme) error{
		rbacv1.AddToScheme, policyv1.AddToScheme, autoscalingv1.AddToScheme, autoscalingv2.AddToScheme,
		networkingv1.AddToScheme, schedulingv1.AddToScheme, apiextv1.AddToScheme,
	} {
		utilruntime.Must(add(s))
	}
	return s
}

// decodeStream splits data into YAML documents and decodes each. After
// a syntax error, which ends what the parser can read, decoding resumes
// at the next "---" line, so that one broken document hides neither the
// documents nor the problems after it.
func decodeStream(file string, data []byte) ([]Object, ErrorList) {
	var objs []Object
	var errs ErrorList
	nodes := nodeBudget(len(data))
	for offset := 0; ; {
		o, e, resume := decodeDocuments(file, data, offset, nodes)
		objs = append(objs, o...)
		errs = append(errs, e...)
		if resume < 0 {
			return objs, errs
		}
		offset += bytes.Count(data[:resume], []byte("\n"))
		data = data[resume:]
	}
}

// decodeDocuments decodes the documents of data, whose first line is
// line offset+1 of the file, up to the end or a syntax error. It returns
// where decoding may resume after the error (the start of the next "---"
// line), or -1.
func decodeDocuments(file string, data []byte, offset int, nodes *int) ([]Object, ErrorList, int) {
	var objs []Object
	var errs ErrorList
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return objs, errs, -1
		}
		if err != nil {
			e := syntaxError(file, data, err)
			resume := -1
			if e.Source.Line > 0 {
				resume = nextDocument(data, e.Source.Line)
				e.Source.Line += offset
			}
			return objs, append(errs, e), resume
		}
		if len(doc.Content) == 0 || isNull(doc.Content[0]) {
			continue // an empty document, as between two "---"
		}
		shiftLines(doc.Content[0], offset)
		o, e := decodeDocument(file, doc.Content[0], schema.GroupVersionKind{}, nodes)
		objs = append(objs, o...)
		errs = append(errs, e...)
	}
}

// nextDocument returns the offset in data of the first "---" line at or
// after line (1-based) other than the first line of data, or -1.
func nextDocument(data []byte, line int) int {
	start := 0
	for n := 1; start < len(data); n++ {
		end := bytes.IndexByte(data[start:], '\n')
		if end < 0 {
			end = len(data) - start
		}
		l := data[start : start+end]
		if n >= line && start > 0 && bytes.HasPrefix(l, []byte("---")) &&
			(len(l) == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r') {
			return start
		}
		start += end + 1
	}
	return -1
}

// shiftLines adds offset to the line of n and of every node under it.
// Aliases are not followed: the node they name is in the tree already.
func shiftLines(n *yaml.Node, offset int) {
	if offset == 0 {
		return
	}
	n.Line += offset
	for _, c := range n.Content {
		shiftLines(c, offset)
	}
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError locates a YAML parser error by its line.
func syntaxError(file string, data []byte, err error) *Error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if strings.HasPrefix(m[2], "did not find expected") {
			// The parser's own errors count lines from 0, its scanner's from 1.
			line = min(line+1, lineCount(data))
		}
		return &Error{Source: Source{File: file, Line: line}, Detail: "invalid YAML: " + m[2]}
	}
	return &Error{Source: Source{File: file}, Detail: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// decodeDocument decodes one object, or the items of a List. def gives
// the apiVersion and kind of list items that omit them.
func decodeDocument(file string, n *yaml.Node, def schema.GroupVersionKind, nodes *int) ([]Object, ErrorList) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	src := Source{File: file, Line: n.Line}
	if n.Kind != yaml.MappingNode {
		_, got := resolve(n)
		return nil, ErrorList{{Source: src, Detail: "expected a Kubernetes object (a mapping with apiVersion and kind), got " + got}}
	}
	gvk, errs := header(file, n, def)
	if len(errs) > 0 {
		return nil, errs
	}
	if isList(gvk) {
		return decodeList(file, n, gvk, nodes)
	}
	obj, lines, errs := decodeObject(file, n, gvk, nodes)
	if len(errs) > 0 {
		return nil, errs
	}
	return []Object{{Source: src, Kind: gvk.Kind, Object: obj, Lines: lines}}, nil
}

// header reads apiVersion and kind, both required unless def supplies them.
func header(file string, n *yaml.Node, def schema.GroupVersionKind) (schema.GroupVersionKind, ErrorList) {
	var errs ErrorList
	values := map[string]string{"apiVersion": def.GroupVersion().String(), "kind": def.Kind}
	if def.Empty() {
		values["apiVersion"] = ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if _, ok := values[k.Value]; ok && v.Kind == yaml.ScalarNode && !isNull(v) {
			values[k.Value] = v.Value
		}
	}
	for _, name := range []string{"apiVersion", "kind"} {
		if values[name] == "" {
			errs = append(errs, &Error{Source: Source{File: file, Line: n.Line}, Field: name, Detail: field.Required(field.NewPath(name), "").ErrorBody()})
		}
	}
	gv, err := schema.ParseGroupVersion(values["apiVersion"])
	if err != nil {
		errs = append(errs, &Error{Source: Source{File: file, Line: keyLine(n, "apiVersion")}, Field: "apiVersion",
			Detail: field.Invalid(field.NewPath("apiVersion"), values["apiVersion"], "must be a group/version such as v1 or apps/v1").ErrorBody()})
	}
	return gv.WithKind(values["kind"]), errs
}

// keyLine returns the line of key in mapping n, or n's own line.
func keyLine(n *yaml.Node, key string) int {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i].Line
		}
	}
	return n.Line
}

// isList says whether gvk is a list whose items are objects: v1 List,
// or a typed list such as PodList.
func isList(gvk schema.GroupVersionKind) bool {
	if gvk.Kind == "List" {
		return true
	}
	return strings.HasSuffix(gvk.Kind, "List") && scheme().Recognizes(gvk)
}

// listShape is what a List document may hold besides its items.
type listShape struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Metadata   json.RawMessage `json:"metadata"`
	Items      json.RawMessage `json:"items"`
}

// decodeList decodes every item of a list, each with its own lines.
func decodeList(file string, n *yaml.Node, gvk schema.GroupVersionKind, nodes *int) ([]Object, ErrorList) {
	w := newWalker(file, nodes)
	w.value(n, reflect.TypeFor[listShape](), nil) // unknown or duplicate fields
	errs := w.errs
	var def schema.GroupVersionKind
	if gvk.Kind != "List" {
		def = gvk.GroupVersion().WithKind(strings.TrimSuffix(gvk.Kind, "List"))
	}
	var objs []Object
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != "items" {
			continue
		}
		items := n.Content[i+1]
		if items.Kind != yaml.SequenceNode {
			continue // reported by the walk above, unless null
		}
		for _, item := range items.Content {
			o, e := decodeDocument(file, item, def, nodes)
			objs = append(objs, o...)
			errs = append(errs, e...)
		}
	}
	return objs, errs
}

// decodeObject decodes n strictly into the typed object for gvk, or into
// an unstructured object for kinds podrun does not know.
func decodeObject(file string, n *yaml.Node, gvk schema.GroupVersionKind, nodes *int) (runtime.Object, Lines, ErrorList) {
	w := newWalker(file, nodes)
	w.lines[""] = n.Line
	obj, err := scheme().New(gvk)
	if err != nil {
		m, _ := w.value(n, nil, nil).(map[string]any)
		u := &unstructured.Unstructured{Object: m}
		u.SetGroupVersionKind(gvk)
		return u, w.lines, w.errs
	}
	v := w.value(n, reflect.TypeOf(obj).Elem(), nil)
	if len(w.errs) > 0 {
		return nil, nil, w.errs
	}
	if err := convert(v, obj); err != nil {
		return nil, nil, ErrorList{{Source: Source{File: file, Line: n.Line}, Detail: err.Error()}}
	}
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	return obj, w.lines, nil
}

// convert stores the checked JSON value v in obj.
func convert(v any, obj runtime.Object) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding object: %w", err)
	}
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(data, obj); err != nil {
		return fmt.Errorf("decoding object: %w", err)
	}
	return nil
}

func lineCount(data []byte) int {
	n := bytes.Count(data, []byte("\n"))
	if !bytes.HasSuffix(data, []byte("\n")) {
		n++
	}
	return n
}
