package main

import "testing"

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
