package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/podrun/podrun/runner"
)

// deleteWorkloads deletes workloads of res by name, with what they own
// as cascade says, as kubectl delete deployment NAME... does.
func deleteWorkloads(cmd *cobra.Command, g *globals, res *workloadResource, names []string, opts runner.DeleteWorkloadOptions, ignoreNotFound bool) error {
	r, err := g.runner()
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range names {
		switch err := r.DeleteWorkload(contextOf(cmd), res.kind, g.ns(), name, opts); {
		case err == nil:
			printOutcomes(cmd, []runner.Outcome{{Kind: res.kind + "." + res.apiGroup, Namespace: g.ns(), Name: name, Action: "deleted"}})
		case errors.Is(err, runner.ErrWorkloadNotFound):
			if !ignoreNotFound {
				errs = append(errs, fmt.Errorf("%s.%s %q not found", res.plural, res.apiGroup, name))
			}
		default:
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkCascade checks --cascade as kubectl does, taking its deprecated
// boolean spellings (true is background, false orphan) with its warning
// on warn.
func checkCascade(c string, warn io.Writer) (runner.Cascade, error) {
	switch v := runner.Cascade(c); v {
	case runner.CascadeBackground, runner.CascadeForeground, runner.CascadeOrphan:
		return v, nil
	}
	replaced := map[string]runner.Cascade{"true": runner.CascadeBackground, "false": runner.CascadeOrphan}
	if v, ok := replaced[c]; ok {
		fmt.Fprintf(warn, "warning: --cascade=%s is deprecated (boolean value) and can be replaced with --cascade=%s.\n", c, v)
		return v, nil
	}
	return "", fmt.Errorf(`invalid cascade value (%s): must be "background", "foreground", or "orphan"`, c)
}
