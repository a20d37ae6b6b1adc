package kube

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"

	yaml "go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// nodeBudget bounds the nodes visited in a stream of len n bytes, so that
// aliases cannot expand a small input into an enormous one: without
// aliases a stream has fewer nodes than bytes.
func nodeBudget(n int) *int {
	b := 2*n + 10000
	return &b
}

// maxDepth bounds nesting, which a self-referring alias makes endless.
const maxDepth = 100

// walker converts a YAML node tree into JSON-ready values, checking it
// against a Go type the way the API server's strict decoding would
// (unknown and duplicate fields, wrong types, malformed quantities), but
// collecting every problem with its line instead of stopping at the first.
// It records the line of every field it meets.
type walker struct {
	file  string
	lines Lines
	errs  ErrorList
	nodes *int // left to visit in the whole stream
	depth int
}

func newWalker(file string, nodes *int) *walker {
	return &walker{file: file, lines: Lines{}, nodes: nodes}
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// value converts n, checked against t (nil for "anything"), at path p.
func (w *walker) value(n *yaml.Node, t reflect.Type, p *field.Path) any {
	n = w.visit(n, p)
	if n == nil || isNull(n) {
		return nil
	}
	w.depth++
	defer func() { w.depth-- }()
	if w.depth > maxDepth {
		w.fail(n, p, fmt.Sprintf("nested more than %d levels deep", maxDepth))
		*w.nodes = -1 // stop here: the same would be said of every sibling
		return nil
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == nil || t.Kind() == reflect.Interface:
		return w.generic(n, p)
	case reflect.PointerTo(t).Implements(unmarshalerType):
		return w.custom(n, t, p)
	}
	switch t.Kind() {
	case reflect.Struct:
		return w.object(n, t, p)
	case reflect.Map:
		return w.mapping(n, t.Elem(), p)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return w.bytes(n, p)
		}
		return w.sequence(n, t.Elem(), p)
	default:
		return w.scalar(n, t, p)
	}
}

// visit resolves aliases and counts n against the document's budget; it
// returns nil once the budget is spent.
func (w *walker) visit(n *yaml.Node, p *field.Path) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil {
		return nil
	}
	*w.nodes--
	if *w.nodes == 0 {
		w.fail(n, p, "aliases expand the input to too many nodes")
	}
	if *w.nodes <= 0 {
		return nil
	}
	return n
}

func (w *walker) fail(n *yaml.Node, p *field.Path, detail string) {
	w.errs = append(w.errs, &Error{
		Source: Source{File: w.file, Line: n.Line},
		Field:  pathString(p),
		Detail: detail,
	})
}

func (w *walker) failField(n *yaml.Node, fe *field.Error) {
	w.errs = append(w.errs, &Error{
		Source: Source{File: w.file, Line: n.Line},
		Field:  fe.Field,
		Detail: fe.ErrorBody(),
	})
}

// wrongType reports n where a value of kind want was expected.
func (w *walker) wrongType(n *yaml.Node, p *field.Path, want string) {
	v, got := resolve(n)
	if n.Kind != yaml.ScalarNode {
		v = field.OmitValueType{}
	}
	w.failField(n, field.TypeInvalid(p, v, fmt.Sprintf("expected %s, got %s", want, got)))
}

// object converts a mapping into a struct's JSON object.
func (w *walker) object(n *yaml.Node, t reflect.Type, p *field.Path) any {
	if n.Kind != yaml.MappingNode {
		w.wrongType(n, p, "object")
		return nil
	}
	fields := jsonFields(t)
	out := map[string]any{}
	for _, kv := range w.pairs(n, func(k string) *field.Path { return child(p, k) }) {
		cp := child(p, kv.key.Value)
		ft, ok := fields[kv.key.Value]
		if !ok {
			w.fail(kv.key, cp, "unknown field")
			continue
		}
		w.lines[cp.String()] = kv.key.Line
		out[kv.key.Value] = w.value(kv.value, ft, cp)
	}
	return out
}

// mapping converts a mapping into a Go map's JSON object.
func (w *walker) mapping(n *yaml.Node, elem reflect.Type, p *field.Path) any {
	if n.Kind != yaml.MappingNode {
		w.wrongType(n, p, "object")
		return nil
	}
	out := map[string]any{}
	for _, kv := range w.pairs(n, func(k string) *field.Path { return keyPath(p, k) }) {
		kp := keyPath(p, kv.key.Value)
		w.lines[kp.String()] = kv.key.Line
		out[kv.key.Value] = w.value(kv.value, elem, kp)
	}
	return out
}

func (w *walker) sequence(n *yaml.Node, elem reflect.Type, p *field.Path) any {
	if n.Kind != yaml.SequenceNode {
		w.wrongType(n, p, "array")
		return nil
	}
	out := make([]any, 0, len(n.Content))
	for i, item := range n.Content {
		ip := index(p, i)
		w.lines[ip.String()] = item.Line
		out = append(out, w.value(item, elem, ip))
	}
	return out
}

// generic converts n without a type to check it against (the fields of
// kinds podrun does not know, and interface{} fields).
func (w *walker) generic(n *yaml.Node, p *field.Path) any {
	switch n.Kind {
	case yaml.MappingNode:
		return w.mapping(n, nil, p)
	case yaml.SequenceNode:
		return w.sequence(n, nil, p)
	}
	v, got := resolve(n)
	if got == "number" && !finite(v) {
		w.wrongType(n, p, "a finite number")
		return nil
	}
	return v
}

// custom converts n for a type with its own JSON decoding (quantities,
// int-or-strings, times) and reports what that decoding rejects.
func (w *walker) custom(n *yaml.Node, t reflect.Type, p *field.Path) any {
	v := w.generic(n, p)
	data, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	target := reflect.New(t).Interface().(json.Unmarshaler)
	if err := target.UnmarshalJSON(data); err != nil {
		bad := any(field.OmitValueType{})
		if n.Kind == yaml.ScalarNode {
			bad = v
		}
		w.failField(n, field.Invalid(p, bad, strings.TrimPrefix(err.Error(), "json: ")))
		return nil
	}
	return v
}

func (w *walker) bytes(n *yaml.Node, p *field.Path) any {
	v, got := resolve(n)
	s, ok := v.(string)
	if !ok || n.Kind != yaml.ScalarNode {
		w.wrongType(n, p, "base64-encoded string")
		return nil
	}
	if _, err := base64.StdEncoding.DecodeString(s); err != nil {
		w.failField(n, field.Invalid(p, field.OmitValueType{}, fmt.Sprintf("%s is not valid base64: %v", got, err)))
		return nil
	}
	return s
}

// scalar converts n for a string, bool or number field.
func (w *walker) scalar(n *yaml.Node, t reflect.Type, p *field.Path) any {
	want := scalarKind(t)
	if n.Kind != yaml.ScalarNode {
		w.wrongType(n, p, want)
		return nil
	}
	v, got := resolve(n)
	switch {
	case want == got && want != "integer" && want != "number":
		return v
	case want == "number" && (got == "integer" || got == "number") && finite(v):
		return v
	case want == "integer" && got == "integer":
		if msg := fits(v, t); msg != "" {
			w.failField(n, field.Invalid(p, v, msg))
			return nil
		}
		return v
	}
	w.wrongType(n, p, want)
	return nil
}

// kv is one key of a mapping with its value.
type kv struct{ key, value *yaml.Node }

// pairs lists the entries of a mapping, reporting duplicate keys and
// applying merge keys ("<<: *anchor") as YAML 1.1 does: explicit keys win.
func (w *walker) pairs(n *yaml.Node, pathOf func(string) *field.Path) []kv {
	var out, merged []kv
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode && k.Alias != nil {
			k = k.Alias
		}
		if k.ShortTag() == "!!merge" {
			merged = append(merged, w.mergeSources(v, pathOf)...)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			w.fail(k, pathOf(k.Value), fmt.Sprintf("duplicate field (first at line %d)", first))
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, kv{k, v})
	}
	for _, m := range merged {
		if _, ok := seen[m.key.Value]; !ok {
			seen[m.key.Value] = m.key.Line
			out = append(out, m)
		}
	}
	return out
}

// mergeSources returns the entries a merge key brings in: one mapping or
// a sequence of them, earlier ones first.
func (w *walker) mergeSources(v *yaml.Node, pathOf func(string) *field.Path) []kv {
	p := pathOf("<<")
	v = w.visit(v, p)
	if v == nil {
		return nil
	}
	w.depth++
	defer func() { w.depth-- }()
	if w.depth > maxDepth {
		w.fail(v, p, fmt.Sprintf("nested more than %d levels deep", maxDepth))
		*w.nodes = -1
		return nil
	}
	switch v.Kind {
	case yaml.MappingNode:
		return w.pairs(v, pathOf)
	case yaml.SequenceNode:
		var out []kv
		for _, item := range v.Content {
			out = append(out, w.mergeSources(item, pathOf)...)
		}
		return out
	}
	w.wrongType(v, p, "a mapping to merge")
	return nil
}

// resolve returns the value of a scalar and its JSON kind: "string",
// "boolean", "integer", "number" or "null" ("object" or "array" for
// collections). Like the API server's YAML reader (YAML 1.1), it reads
// unquoted yes/no/on/off as booleans.
func resolve(n *yaml.Node) (any, string) {
	switch n.Kind {
	case yaml.MappingNode:
		return nil, "object"
	case yaml.SequenceNode:
		return nil, "array"
	}
	switch n.ShortTag() {
	case "!!null":
		return nil, "null"
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			return b, "boolean"
		}
	case "!!int":
		var i int64
		if n.Decode(&i) == nil {
			return i, "integer"
		}
		var u uint64
		if n.Decode(&u) == nil {
			return u, "integer"
		}
	case "!!float":
		var f float64
		if n.Decode(&f) == nil {
			return f, "number"
		}
	case "!!str":
		if b, ok := yaml11Bools[n.Value]; ok && n.Style == 0 {
			return b, "boolean"
		}
	}
	return n.Value, "string"
}

var yaml11Bools = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true,
	"on": true, "On": true, "ON": true,
	"n": false, "N": false, "no": false, "No": false, "NO": false,
	"off": false, "Off": false, "OFF": false,
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func finite(v any) bool {
	f, ok := v.(float64)
	return !ok || !(math.IsNaN(f) || math.IsInf(f, 0))
}

func scalarKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	}
	return t.Kind().String()
}

// fits says why the integer v does not fit the Go type t, or "".
func fits(v any, t reflect.Type) string {
	i, signed := v.(int64)
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if !signed || reflect.Zero(t).OverflowInt(i) {
			return fmt.Sprintf("must fit in %s", t.Kind())
		}
	default:
		if signed && i < 0 {
			return "must not be negative"
		}
		if signed && reflect.Zero(t).OverflowUint(uint64(i)) {
			return fmt.Sprintf("must fit in %s", t.Kind())
		}
		if u, ok := v.(uint64); ok && reflect.Zero(t).OverflowUint(u) {
			return fmt.Sprintf("must fit in %s", t.Kind())
		}
	}
	return ""
}

var fieldCache sync.Map // reflect.Type -> map[string]reflect.Type

// jsonFields maps the JSON names of a struct's fields, inlined embedded
// structs included, to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	fields := map[string]reflect.Type{}
	addFields(fields, t)
	fieldCache.Store(t, fields)
	return fields
}

func addFields(fields map[string]reflect.Type, t reflect.Type) {
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		switch {
		case tag == "-" || (!f.IsExported() && !f.Anonymous):
			continue
		case name == "" && f.Anonymous && derefType(f.Type).Kind() == reflect.Struct:
			addFields(fields, derefType(f.Type))
			continue
		case name == "":
			name = f.Name
		}
		fields[name] = f.Type
	}
}

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// child, keyPath and index extend a path that may be nil (the root).
func child(p *field.Path, name string) *field.Path {
	if p == nil {
		return field.NewPath(name)
	}
	return p.Child(name)
}

func keyPath(p *field.Path, key string) *field.Path {
	if p == nil {
		return field.NewPath(key)
	}
	return p.Key(key)
}

func index(p *field.Path, i int) *field.Path {
	if p == nil {
		return field.NewPath(fmt.Sprintf("[%d]", i))
	}
	return p.Index(i)
}

func pathString(p *field.Path) string {
	if p == nil {
		return ""
	}
	return p.String()
}
