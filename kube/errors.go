package kube

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ErrNoManifests is returned by Load for a directory holding no
// *.yaml, *.yml or *.json file.
var ErrNoManifests = errors.New("no manifests found")

// Error is one problem in the input, located by file and line.
// Its text is "file:line: field: detail", for example
// "pod.yaml:9: spec.containers[0].imagee: unknown field".
type Error struct {
	Source Source
	Field  string // field path, e.g. spec.containers[0].image; empty for a whole document
	Detail string // e.g. "unknown field", "Required value"
}

func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %s", e.Source, e.Detail)
	}
	return fmt.Sprintf("%s: %s: %s", e.Source, e.Field, e.Detail)
}

// ErrorList is every problem found in one call, one per line of its
// text, sorted by file (in the order files were first named) then line.
type ErrorList []*Error

func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// err returns l sorted as nil when it is empty, so that callers can
// return it directly.
func (l ErrorList) err() error {
	if len(l) == 0 {
		return nil
	}
	l.sort()
	return l
}

// sort orders l by file, in the order files first appear, then by line;
// problems on one line keep the order they were found in.
func (l ErrorList) sort() {
	rank := map[string]int{}
	for _, e := range l {
		if _, ok := rank[e.Source.File]; !ok {
			rank[e.Source.File] = len(rank)
		}
	}
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Source, l[j].Source
		if a.File != b.File {
			return rank[a.File] < rank[b.File]
		}
		return a.Line < b.Line
	})
}

// fieldError turns an apimachinery field error into an Error located by
// lines, at the field or its nearest parent present in the input.
func fieldError(file string, lines Lines, fe *field.Error) *Error {
	return &Error{
		Source: Source{File: file, Line: lines.Find(fe.Field)},
		Field:  fe.Field,
		Detail: fe.ErrorBody(),
	}
}
