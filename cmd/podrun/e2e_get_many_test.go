package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestGetManyKinds: get of several kinds at once, as kubectl's: one table
// per kind with prefixed names, -o name, -o json as one List, get all,
// TYPE/NAME arguments of different kinds, -l, -A and -o wide.
func TestGetManyKinds(t *testing.T) {
	e := newEnv(t)
	e.loadDemo()
	if _, errOut, _ := e.run("get", "all"); !strings.Contains(errOut, "No resources found in default namespace.") {
		t.Errorf("get all with nothing: %q", errOut)
	}
	path := e.manifest("web.yaml", deploymentYAML("web", 1, "v1")+`---
apiVersion: v1
kind: Pod
metadata: {name: solo, labels: {app: solo}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: main, image: localhost/podrun/busybox:demo, command: [sleep, "600"]}
`)
	e.must("apply", "--wait", "--timeout", "90s", "-f", path)
	t.Cleanup(func() { e.run("delete", "-f", path) })

	var rsName string
	eventually(t, 30*time.Second, func() error {
		out := e.must("get", "deploy,rs")
		tables := strings.Split(out, "\n\n")
		if len(tables) != 2 {
			return errorf("want two tables:\n%s", out)
		}
		if !regexp.MustCompile(`(?m)^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\ndeployment.apps/web\s+1/1\s+1\s+1\s`).MatchString(tables[0]) {
			return errorf("deployments table:\n%s", tables[0])
		}
		m := regexp.MustCompile(`(?m)^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\n(replicaset.apps/web-\w+)\s+1\s+1\s+1\s`).FindStringSubmatch(tables[1])
		if m == nil {
			return errorf("replicasets table:\n%s", tables[1])
		}
		rsName = m[1]
		return nil
	})

	all := e.must("get", "all")
	for _, want := range []string{`(?m)^NAME\s+READY\s+STATUS`, `(?m)^pod/solo\s+1/1\s+Running`, `(?m)^pod/web-\w+-\w+\s`,
		`(?m)^deployment.apps/web\s`, `(?m)^` + rsName + `\s`} {
		if !regexp.MustCompile(want).MatchString(all) {
			t.Errorf("get all: no %s in\n%s", want, all)
		}
	}
	if strings.Contains(all, "job.batch") || strings.Count(all, "\n\n") != 2 {
		t.Errorf("get all: want pods, deployments and replicasets only:\n%s", all)
	}

	if out := e.must("get", "pods,deploy", "-l", "app=web", "-o", "name"); !regexp.MustCompile(`^pod/web-\w+-\w+\ndeployment.apps/web\n$`).MatchString(out) {
		t.Errorf("get pods,deploy -l app=web -o name:\n%s", out)
	}
	if out := e.must("get", "deploy/web", "pod/solo", "-A"); !regexp.MustCompile(`(?m)^NAMESPACE\s+NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\ndefault\s+deployment.apps/web\s[^\n]*\n\nNAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\ndefault\s+pod/solo\s`).MatchString(out) {
		t.Errorf("get deploy/web pod/solo -A:\n%s", out)
	}
	var list unstructured.UnstructuredList
	out := e.must("get", "deploy,pods", "-o", "json")
	if err := json.Unmarshal([]byte(out), &list.Object); err != nil {
		t.Fatal(err)
	}
	kinds := []string{}
	for _, it := range list.Object["items"].([]any) {
		kinds = append(kinds, it.(map[string]any)["kind"].(string))
	}
	if list.Object["kind"] != "List" || strings.Join(kinds, ",") != "Deployment,Pod,Pod" {
		t.Errorf("get deploy,pods -o json: kind %v, items %v", list.Object["kind"], kinds)
	}
	if out := e.must("get", "deploy", "-o", "wide"); !regexp.MustCompile(`(?m)^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\nweb\s.*\smain\s+localhost/podrun/busybox:demo\s+app=web$`).MatchString(out) {
		t.Errorf("get deploy -o wide:\n%s", out)
	}
	if _, errOut, err := e.run("get", "deploy,pods", "nope"); err == nil || !strings.Contains(errOut, `"nope" not found`) {
		t.Errorf("get deploy,pods nope: %v %s", err, errOut)
	}
}
