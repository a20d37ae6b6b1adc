package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/podrun/podrun/runner/network"
	"github.com/podrun/podrun/runner/rootless"
)

// newInfoCommand says how podrun would run here: as root or rootless,
// its directories and, rootless, every check of the machine with its fix,
// which resource limits apply and the namespace holder's state.
func newInfoCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:               "info",
		Short:             "Show how podrun runs on this machine: directories, rootless checks and fixes, limits that apply",
		Args:              cobra.NoArgs,
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.info(cmd.OutOrStdout())
		},
	}
}

func (g *globals) info(out io.Writer) error {
	fmt.Fprintf(out, "rootless: %t\n", rootless.Enabled())
	fmt.Fprintf(out, "root: %s\nrun root: %s\ncni config dir: %s\n", g.root, g.runRoot, g.cniConfDir)
	if !rootless.Enabled() {
		fmt.Fprintf(out, "network: %s\nresource limits: those of the pods' cgroups, as root\n", g.network)
		return nil
	}
	u, err := rootless.CurrentUser()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "user: %s (uid %d, gid %d)\n", u.Name, u.UID, u.GID)
	if g.network == network.DefaultName {
		fmt.Fprintf(out, "network: %s, subnet %s, in the user's own network namespace\n", g.network, rootless.Subnet(u.UID))
	} else {
		fmt.Fprintf(out, "network: %s\n", g.network)
	}
	h, err := g.holder(u)
	if err != nil {
		return err
	}
	if rec, ok := h.Find(); ok {
		fmt.Fprintf(out, "namespace holder: running, pid %d, slirp4netns pid %d\n", rec.Holder.Pid, rec.Slirp.Pid)
	} else {
		fmt.Fprintln(out, "namespace holder: not running (the first command that needs it starts it)")
	}
	fmt.Fprintln(out, "checks:")
	failed := 0
	for _, c := range (rootless.Machine{}).Checks(u) {
		mark := "ok  "
		switch {
		case c.Info:
			mark = "info"
		case !c.OK:
			mark = "FAIL"
			failed++
		}
		fmt.Fprintf(out, "  %s %s: %s\n", mark, c.Name, c.Detail)
		if !c.OK {
			fmt.Fprintf(out, "       fix: %s\n", c.Fix)
		}
	}
	if failed > 0 {
		fmt.Fprintf(out, "%d check(s) failed: rootless commands refuse to run until they are fixed\n", failed)
	}
	if os.Getenv("XDG_RUNTIME_DIR") == "" {
		fmt.Fprintln(out, "note: XDG_RUNTIME_DIR is not set; the run root falls back under /tmp")
	}
	return nil
}
