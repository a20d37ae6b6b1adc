package kube

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var updateDoc = flag.Bool("update-doc", false, "rewrite the table in docs/supported-fields.md from kube.Fields")

const (
	docPath   = "../docs/supported-fields.md"
	docBegin  = "<!-- BEGIN fields table: generated from kube.Fields by go test ./kube -update-doc -->\n"
	docFinish = "<!-- END fields table -->\n"
)

// fieldsTable renders Fields as the markdown tables of the doc.
func fieldsTable() string {
	var b strings.Builder
	var last Struct
	for _, f := range Fields {
		if f.Struct != last {
			if last != "" {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "### %s\n\n| field | podrun | note |\n|---|---|---|\n", f.Struct)
			last = f.Struct
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", f.Path(), f.Status, f.Note)
	}
	return b.String()
}

// TestSupportedFieldsDoc keeps docs/supported-fields.md and kube.Fields
// the same.
func TestSupportedFieldsDoc(t *testing.T) {
	data, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	i, j := strings.Index(doc, docBegin), strings.Index(doc, docFinish)
	if i < 0 || j < i {
		t.Fatalf("%s has no generated table between %q and %q", docPath, docBegin, docFinish)
	}
	want := fieldsTable()
	got := doc[i+len(docBegin) : j]
	if got == want {
		return
	}
	if *updateDoc {
		if err := os.WriteFile(docPath, []byte(doc[:i+len(docBegin)]+want+doc[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is out of date with kube.Fields: run go test ./kube -run TestSupportedFieldsDoc -update-doc", docPath)
}
