package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestCreateFile: create -f names a pod from its generateName, which
// apply refuses, and refuses an object that exists, creating nothing.
func TestCreateFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.loadDemo()
	gen := e.manifest("gen.yaml", `apiVersion: v1
kind: Pod
metadata: {generateName: gen-}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: main, image: localhost/podrun/busybox:demo, command: [sleep, "600"]}
`)
	if _, errOut, err := e.run("apply", "-f", gen); err == nil || !strings.Contains(errOut, "cannot use generate name with apply") {
		t.Errorf("apply of a generateName: %v %s", err, errOut)
	}
	out := e.must("create", "-f", gen)
	m := regexp.MustCompile(`^pod/(gen-[bcdfghjklmnpqrstvwxz2456789]{5}) created\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("create -f: %q", out)
	}
	out2 := e.must("create", "-f", gen)
	if out2 == out {
		t.Errorf("two creates gave the same name: %q", out)
	}

	fixed := e.manifest("fixed.yaml", `apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {a: b}
---
apiVersion: v1
kind: Pod
metadata: {name: `+m[1]+`}
spec:
  containers:
  - {name: main, image: localhost/podrun/busybox:demo, command: [sleep, "600"]}
`)
	_, errOut, err := e.run("create", "-f", fixed)
	if err == nil || !strings.Contains(errOut, `pods "`+m[1]+`" already exists in namespace default`) {
		t.Errorf("create of an existing pod: %v %s", err, errOut)
	}
	if _, _, err := e.run("get", "configmap", "settings"); err == nil {
		t.Errorf("a refused create created the ConfigMap")
	}
	e.must("delete", "pod", strings.TrimSuffix(strings.TrimPrefix(out, "pod/"), " created\n"), strings.TrimSuffix(strings.TrimPrefix(out2, "pod/"), " created\n"))
}
