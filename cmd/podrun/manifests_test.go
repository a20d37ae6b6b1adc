package main

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestManifestFlagsOnEveryVerb: apply, delete, up and render take the
// same manifest flags, so one command line works with each.
func TestManifestFlagsOnEveryVerb(t *testing.T) {
	root := newRootCommand()
	for _, verb := range []string{"apply", "delete", "up", "render"} {
		cmd, _, err := root.Find([]string{verb})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"filename", "allowed-unsafe-sysctls", "allow-unsafe-host-paths"} {
			if cmd.Flags().Lookup(name) == nil {
				t.Errorf("podrun %s has no --%s", verb, name)
			}
		}
	}
}

// TestPullFlag: --pull takes Podman's three names for the kubelet's
// policies, on the verbs that get images, and nothing else.
func TestPullFlag(t *testing.T) {
	root := newRootCommand()
	for _, verb := range []string{"apply", "up", "render"} {
		cmd, _, err := root.Find([]string{verb})
		if err != nil {
			t.Fatal(err)
		}
		if cmd.Flags().Lookup("pull") == nil {
			t.Errorf("podrun %s has no --pull", verb)
		}
	}
	if cmd, _, _ := root.Find([]string{"delete"}); cmd.Flags().Lookup("pull") != nil {
		t.Errorf("podrun delete has --pull")
	}
	for value, want := range map[string]corev1.PullPolicy{
		"always": corev1.PullAlways, "missing": corev1.PullIfNotPresent, "never": corev1.PullNever,
	} {
		var p pullFlag
		if err := p.Set(value); err != nil || p.policy != want {
			t.Errorf("--pull=%s: policy %q, error %v; want %q", value, p.policy, err, want)
		}
	}
	for _, bad := range []string{"", "Always", "IfNotPresent", "sometimes"} {
		var p pullFlag
		if err := p.Set(bad); err == nil || !strings.Contains(err.Error(), "always, missing or never") {
			t.Errorf("--pull=%q: error %v, want one naming always, missing or never", bad, err)
		}
	}
}
