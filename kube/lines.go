package kube

import "strings"

// Lines maps the field paths of one object, as field.Path prints them
// (spec.containers[0].image, metadata.labels[app]), to the 1-based line
// where each appears in its input. The empty path is the object itself.
type Lines map[string]int

// Find returns the line of path or, when path is absent from the input,
// of its nearest parent that is present; 0 when none is known.
func (l Lines) Find(path string) int {
	for {
		if n, ok := l[path]; ok {
			return n
		}
		if path == "" {
			return 0
		}
		path = parentPath(path)
	}
}

// parentPath drops the last step of a field path: a child (".name"),
// an index ("[0]") or a key ("[app.kubernetes.io/name]").
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndex(path, "["); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return ""
}
