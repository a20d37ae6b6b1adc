package main

import (
	"errors"
	"fmt"

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

// checkCascade checks --cascade as kubectl does.
func checkCascade(c string) (runner.Cascade, error) {
	switch v := runner.Cascade(c); v {
	case runner.CascadeBackground, runner.CascadeForeground, runner.CascadeOrphan:
		return v, nil
	}
	return "", fmt.Errorf(`invalid cascade %q: want "background", "foreground" or "orphan"`, c)
}
