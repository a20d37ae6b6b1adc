package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

func TestWideColumns(t *testing.T) {
	podSpec := map[string]any{"spec": map[string]any{"containers": []any{
		map[string]any{"name": "a", "image": "img:1"}, map[string]any{"name": "b", "image": "img:2"}}}}
	sel := map[string]any{"matchLabels": map[string]any{"app": "web"},
		"matchExpressions": []any{map[string]any{"key": "tier", "operator": "In", "values": []any{"x", "y"}}}}
	for _, tc := range []struct {
		kind string
		obj  map[string]any
		want string
	}{
		{"deployment", map[string]any{"metadata": map[string]any{"name": "web"}, "spec": map[string]any{"selector": sel, "template": podSpec}},
			`(?m)^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\nweb\s.*\sa,b\s+img:1,img:2\s+app=web,tier in \(x,y\)$`},
		{"replicaset", map[string]any{"metadata": map[string]any{"name": "web-1"}, "spec": map[string]any{"selector": sel, "template": podSpec}},
			`(?m)^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\n`},
		{"statefulset", map[string]any{"metadata": map[string]any{"name": "db"}, "spec": map[string]any{"selector": sel, "template": podSpec}},
			`(?m)^NAME\s+READY\s+AGE\s+CONTAINERS\s+IMAGES\ndb\s.*\sa,b\s+img:1,img:2$`},
		{"daemonset", map[string]any{"metadata": map[string]any{"name": "agent"}, "spec": map[string]any{"selector": sel, "template": podSpec}},
			`(?m)NODE SELECTOR\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\nagent\s.*\sa,b\s+img:1,img:2\s+app=web,tier in \(x,y\)$`},
		{"job", map[string]any{"metadata": map[string]any{"name": "pi"}, "spec": map[string]any{
			"selector": map[string]any{"matchLabels": map[string]any{"batch.kubernetes.io/controller-uid": "u1"}}, "template": podSpec}},
			`(?m)^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\npi\s.*\sa,b\s+img:1,img:2\s+batch.kubernetes.io/controller-uid=u1$`},
		{"cronjob", map[string]any{"metadata": map[string]any{"name": "tick"}, "spec": map[string]any{"schedule": "* * * * *",
			"jobTemplate": map[string]any{"spec": map[string]any{"template": podSpec}}}},
			`(?m)^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\ntick\s.*\sa,b\s+img:1,img:2\s+<none>$`},
	} {
		var b bytes.Buffer
		if err := printWorkloadTable(&b, findWorkloadResource(tc.kind), []map[string]any{tc.obj}, true, false); err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(tc.want).MatchString(b.String()) {
			t.Errorf("%s -o wide:\n%s\nwant %s", tc.kind, b.String(), tc.want)
		}
	}
}

func TestParseKinds(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		output   string
		want     string
		prefixed bool
	}{
		{[]string{"pods"}, "", "", false},
		{[]string{"sa/a", "sa/b"}, "", "", false},
		{[]string{"pods"}, "name", "pods[]", false},
		{[]string{"deploy,rs", "web"}, "", "deploy[web] rs[web]", true},
		{[]string{"deploy/web", "pod/x", "pod/y"}, "", "deploy[web] pod[x y]", true},
		{[]string{"all"}, "", "pods[] replicationcontrollers[] services[] daemonsets[] deployments[] replicasets[] statefulsets[] horizontalpodautoscalers[] cronjobs[] jobs[]", true},
		{[]string{"cm,all", "x"}, "", "cm[x] pods[x] replicationcontrollers[x] services[x] daemonsets[x] deployments[x] replicasets[x] statefulsets[x] horizontalpodautoscalers[x] cronjobs[x] jobs[x]", true},
	} {
		groups, prefixed, err := parseKinds(tc.args, tc.output)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for i, g := range groups {
			if i > 0 {
				got += " "
			}
			got += g.kind + "[" + strings.Join(g.names, " ") + "]"
		}
		if got != tc.want || prefixed != tc.prefixed {
			t.Errorf("%v: %q %v, want %q %v", tc.args, got, prefixed, tc.want, tc.prefixed)
		}
	}
	for _, bad := range [][]string{{"deploy/web", "x"}, {"deploy,", "x"}} {
		if _, _, err := parseKinds(bad, ""); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
