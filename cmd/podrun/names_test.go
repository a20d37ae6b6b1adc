package main

import (
	"strings"
	"testing"
)

func TestNameChecks(t *testing.T) {
	long := strings.Repeat("a", 254)
	tests := []struct {
		name  string
		check func() error
		err   string // part of the error; "" for none
	}{
		{"pod", func() error { _, err := (&globals{}).podArg("web"); return err }, ""},
		{"pod/NAME", func() error { _, err := (&globals{}).podArg("pod/web"); return err }, ""},
		{"pods/NAME in -n", func() error { _, err := (&globals{namespace: "ns1"}).podArg("pods/web.1"); return err }, ""},
		{"pod ..", func() error { _, err := (&globals{}).podArg(".."); return err }, `invalid pod name ".."`},
		{"pod ../../x", func() error { _, err := (&globals{}).podArg("../../x"); return err }, `invalid pod name "../../x": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`},
		{"pod/../../x", func() error { _, err := (&globals{}).podArg("pod/../../x"); return err }, `invalid pod name "../../x"`},
		{"another kind", func() error { _, err := (&globals{}).podArg("svc/web"); return err }, `invalid pod name "svc/web"`},
		{"absolute", func() error { _, err := (&globals{}).podArg("/etc"); return err }, `invalid pod name "/etc"`},
		{"empty", func() error { _, err := (&globals{}).podArg(""); return err }, `invalid pod name ""`},
		{"uppercase", func() error { _, err := (&globals{}).podArg("Web"); return err }, `invalid pod name "Web"`},
		{"NUL", func() error { _, err := (&globals{}).podArg("web\x00"); return err }, `invalid pod name "web\x00"`},
		{"254 characters", func() error { _, err := (&globals{}).podArg(long); return err }, "must be no more than 253 characters"},
		{"-n ../..", func() error { _, err := (&globals{namespace: "../.."}).podArg("web"); return err }, `invalid namespace "../.."`},
		{"-n flag", func() error { return (&globals{namespace: "../.."}).checkNamespace(nil, nil) }, `invalid namespace "../..": a lowercase RFC 1123 label`},
		{"no -n flag", func() error { return (&globals{}).checkNamespace(nil, nil) }, ""},
		{"-n kube-system", func() error { return (&globals{namespace: "kube-system"}).checkNamespace(nil, nil) }, ""},
		{"-c web", func() error { return checkContainer("web") }, ""},
		{"no -c", func() error { return checkContainer("") }, ""},
		{"-c ../..", func() error { return checkContainer("../..") }, `invalid container name "../..": a lowercase RFC 1123 label`},
		{"-c a.b", func() error { return checkContainer("a.b") }, `invalid container name "a.b"`},
		{"claim", func() error { return (&globals{}).checkClaims([]string{"data", "db.0"}) }, ""},
		{"claim ../x", func() error { return (&globals{}).checkClaims([]string{"data", "../x"}) }, `invalid persistentvolumeclaim name "../x"`},
		{"image", func() error { return checkImageRefs([]string{"busybox", "localhost:5000/a/b:c"}) }, ""},
		{"image ../../x", func() error { return checkImageRefs([]string{"busybox", "../../x"}) }, `invalid image reference "../../x"`},
		{"image a//b", func() error { return checkImageRefs([]string{"a//b"}) }, `invalid image reference "a//b"`},
	}
	for _, tt := range tests {
		err := tt.check()
		if tt.err == "" && err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
		if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: got %v, want an error with %q", tt.name, err, tt.err)
		}
	}
}
