package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/podrun/podrun/runner/image"
	"github.com/podrun/podrun/runner/state"
)

// Names given on the command line are checked here, as the API server
// checks them, before any verb makes a path of them. The runner checks
// them again; these checks give the error before anything is opened.

// checkNamespace is every verb's first step: -n must name a namespace
// (a DNS-1123 label).
func (g *globals) checkNamespace(*cobra.Command, []string) error {
	if g.namespace == "" {
		return nil
	}
	return state.CheckNamespace(g.namespace)
}

// podRef checks a pod's name and returns it in the -n namespace.
func (g *globals) podRef(name string) (podRef, error) {
	k, err := state.PodKey(g.ns(), name)
	if err != nil {
		return podRef{}, err
	}
	return podRef{k.Namespace(), k.Name()}, nil
}

// podArg reads one pod argument, NAME or kubectl's pod/NAME, and checks it.
func (g *globals) podArg(arg string) (podRef, error) {
	if kind, name, ok := strings.Cut(arg, "/"); ok && isPodKind(kind) {
		arg = name
	}
	return g.podRef(arg)
}

// checkContainer checks a -c flag, if given: a DNS-1123 label.
func checkContainer(name string) error {
	if name == "" {
		return nil
	}
	return state.CheckContainerName(name)
}

// checkClaims checks the names of PersistentVolumeClaims, whose named
// volumes `volume rm` removes.
func (g *globals) checkClaims(names []string) error {
	for _, n := range names {
		if _, err := state.NewKey("persistentvolumeclaim", g.ns(), n); err != nil {
			return err
		}
	}
	return nil
}

// checkImageRefs checks that every ref is an image reference.
func checkImageRefs(refs []string) error {
	for _, r := range refs {
		if _, err := image.Normalize(r); err != nil {
			return err
		}
	}
	return nil
}
