package kube

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

const (
	kindsBegin  = "<!-- BEGIN kinds table: generated from kube's keptKinds by go test ./kube -update-doc -->\n"
	kindsFinish = "<!-- END kinds table -->\n"
)

// kindsTable renders keptKinds as rows of the doc's table of kinds.
func kindsTable() string {
	var b strings.Builder
	for _, k := range keptKinds {
		var versions []string
		for _, v := range k.Versions {
			versions = append(versions, schema.GroupVersion{Group: k.Group, Version: v}.String())
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", k.Kind, strings.Join(versions, ", "), k.effect, k.note)
	}
	return b.String()
}

// TestKindsDoc keeps the table of kinds in docs/supported-fields.md and
// keptKinds the same.
func TestKindsDoc(t *testing.T) {
	data, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	i, j := strings.Index(doc, kindsBegin), strings.Index(doc, kindsFinish)
	if i < 0 || j < i {
		t.Fatalf("%s has no generated table between %q and %q", docPath, kindsBegin, kindsFinish)
	}
	want := kindsTable()
	if doc[i+len(kindsBegin):j] == want {
		return
	}
	if *updateDoc {
		if err := os.WriteFile(docPath, []byte(doc[:i+len(kindsBegin)]+want+doc[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is out of date with keptKinds: run go test ./kube -run TestKindsDoc -update-doc", docPath)
}
