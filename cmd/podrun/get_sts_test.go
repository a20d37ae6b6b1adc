package main

import (
	"bytes"
	"io"
	"regexp"
	"testing"
)

func TestStatefulSetAndDaemonSetColumns(t *testing.T) {
	for _, tc := range []struct {
		kind string
		obj  map[string]any
		want string
	}{
		{"statefulset", map[string]any{"metadata": map[string]any{"name": "db"}, "spec": map[string]any{"replicas": float64(3)},
			"status": map[string]any{"readyReplicas": float64(2)}}, `(?m)^NAME\s+READY\s+AGE\ndb\s+2/3\s`},
		{"statefulset", map[string]any{"metadata": map[string]any{"name": "db"}, "spec": map[string]any{"replicas": float64(1)}},
			`(?m)^db\s+0/1\s`},
		{"daemonset", map[string]any{"metadata": map[string]any{"name": "agent"},
			"spec":   map[string]any{"template": map[string]any{"spec": map[string]any{"nodeSelector": map[string]any{"disktype": "ssd", "a": "b"}}}},
			"status": map[string]any{"desiredNumberScheduled": float64(1), "currentNumberScheduled": float64(1), "numberReady": float64(1)}},
			`(?m)^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE\nagent\s+1\s+1\s+1\s+0\s+0\s+a=b,disktype=ssd\s`},
		{"daemonset", map[string]any{"metadata": map[string]any{"name": "agent"}}, `(?m)^agent\s+0\s+0\s+0\s+0\s+0\s+<none>\s`},
	} {
		var b bytes.Buffer
		if err := printWorkloadTable(&b, findWorkloadResource(tc.kind), []map[string]any{tc.obj}, false, false); err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(tc.want).MatchString(b.String()) {
			t.Errorf("%s table:\n%s\nwant %s", tc.kind, b.String(), tc.want)
		}
	}
}

func TestCheckCascade(t *testing.T) {
	for _, c := range []string{"background", "foreground", "orphan"} {
		var warn bytes.Buffer
		if got, err := checkCascade(c, &warn); err != nil || string(got) != c || warn.Len() > 0 {
			t.Errorf("%s: %v %v %q", c, got, err, warn.String())
		}
	}
	for c, want := range map[string]string{"true": "background", "false": "orphan"} {
		var warn bytes.Buffer
		got, err := checkCascade(c, &warn)
		if err != nil || string(got) != want ||
			warn.String() != "warning: --cascade="+c+" is deprecated (boolean value) and can be replaced with --cascade="+want+".\n" {
			t.Errorf("%s: %v %v %q", c, got, err, warn.String())
		}
	}
	for _, c := range []string{"", "yes", "Orphan"} {
		if _, err := checkCascade(c, io.Discard); err == nil {
			t.Errorf("%q accepted", c)
		}
	}
}
