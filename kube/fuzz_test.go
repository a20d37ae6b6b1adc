package kube

import (
	"os"
	"testing"
)

// FuzzDecode checks that no input makes Decode panic, and that Pods
// copes with whatever Decode accepts.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"testdata/multi-problem.yaml", "testdata/list.yaml", "testdata/pod.json"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(keptYAML)) // every kind podrun keeps, a definition and a custom resource
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("apiVersion: v1\nkind: Pod\nspec: {containers: [{<<: {name: x}, image: y}]}\n"))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: [{kind: List, apiVersion: v1, items: [1]}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, err := Decode("fuzz.yaml", data)
		if err == nil {
			_, _ = Pods(objs, Options{})
		}
	})
}
