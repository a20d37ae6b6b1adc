package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/runner"
	"github.com/podrun/podrun/runner/network"
	"github.com/podrun/podrun/runner/rootless"
)

// hostVerbs run rootless without entering the user's namespaces.
var hostVerbs = []string{"version", "info", "help", "completion", "__complete", "__completeNoDesc", rootless.HolderCommand}

// rootlessDefaults changes the global flags' defaults to the user's
// directories when podrun runs rootless.
func (g *globals) rootlessDefaults(cmd *cobra.Command) {
	if !rootless.Enabled() {
		return
	}
	d := rootless.Defaults()
	f := cmd.PersistentFlags()
	for name, v := range map[string]string{"root": d.Root, "run-root": d.RunRoot, "cni-config-dir": d.CNIConfDir} {
		fl := f.Lookup(name)
		fl.DefValue = v
		fl.Value.Set(v)
	}
}

// rootlessNetwork is the default network's conflist for the user: its
// own subnet, host-local's addresses under the run root.
func (g *globals) rootlessNetwork(cfg *network.Config) {
	if !rootless.Enabled() || cfg.Name != network.DefaultName {
		return
	}
	cfg.Default = network.DefaultConflistFor(rootless.Subnet(rootless.UID()), filepath.Join(g.runRoot, "cni", "ipam"))
}

// holder is the namespace holder of the run root.
func (g *globals) holder(u rootless.User) (rootless.Holder, error) {
	self, err := os.Executable()
	if err == nil {
		self, err = filepath.EvalSymlinks(self)
	}
	if err != nil {
		return rootless.Holder{}, fmt.Errorf("finding the podrun binary: %w", err)
	}
	return rootless.Holder{
		Dir:  rootless.HolderDir(g.runRoot),
		Keep: []string{filepath.Join(g.runRoot, "pods"), filepath.Join(g.runRoot, runner.WorkloadsDir)},
		Self: self, User: u, Log: g.logger(),
		HostLoopback: g.hostLoopback,
	}, nil
}

// enterRootless runs the command, for an ordinary user, inside the
// holder's namespaces, checking the machine and starting the holder
// first; done says it ran there, and err carries its exit status. Inside,
// it checks that the process is where its markers say.
func (g *globals) enterRootless(cmd *cobra.Command) (done bool, err error) {
	if !rootless.Enabled() || slices.Contains(hostVerbs, cmd.Name()) {
		return false, nil
	}
	if rootless.Inside() {
		return false, rootless.CheckEntered()
	}
	u, err := rootless.CurrentUser()
	if err != nil {
		return true, err
	}
	if err := (rootless.Machine{}).Preflight(u); err != nil {
		return true, err
	}
	if err := rootless.PrivateDir(g.runRoot); err != nil {
		return true, err
	}
	if err := os.MkdirAll(g.root, 0o700); err != nil {
		return true, fmt.Errorf("making the data root: %w (pass --root DIR)", err)
	}
	h, err := g.holder(u)
	if err != nil {
		return true, err
	}
	lease, err := h.Ensure(contextOf(cmd))
	if err != nil {
		return true, err
	}
	code, err := runEntered(lease.Record, h.Self, g.runRoot, isImageVerb(cmd))
	lease.Close()
	if _, rerr := h.Release(); rerr != nil {
		g.logger().Warn("stopping the rootless namespace holder", "error", rerr)
	}
	if err != nil {
		return true, err
	}
	return true, exitError{code}
}

// isImageVerb says cmd is one of `podrun image`'s: it reaches registries
// from the host's network, not the pods'.
func isImageVerb(cmd *cobra.Command) bool {
	return cmd.HasParent() && cmd.Parent().Name() == "image"
}

// runEntered runs podrun's own arguments in the holder's namespaces (its
// user and mount namespaces only, with hostNet), passing on the signals
// this process gets, and returns the exit status.
func runEntered(rec rootless.Record, self, runRoot string, hostNet bool) (int, error) {
	c, err := rootless.Command(rec, self, runRoot, os.Args[1:], hostNet)
	if err != nil {
		return 0, err
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP)
	// A terminal's ^C and ^\ reach the inner command (in this process
	// group) by themselves: passed on too, they would count twice.
	if _, err := unix.IoctlGetTermios(int(os.Stdin.Fd()), unix.TCGETS); err != nil {
		signal.Notify(sigs, syscall.SIGINT, syscall.SIGQUIT)
	}
	defer signal.Stop(sigs)
	if err := c.Start(); err != nil {
		return 0, fmt.Errorf("entering the rootless namespaces: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	for {
		select {
		case s := <-sigs:
			c.Process.Signal(s)
		case err := <-done:
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					return 128 + int(ws.Signal()), nil
				}
				return ee.ExitCode(), nil
			}
			return 0, err
		}
	}
}

// newHolderCommand is the rootless namespace holder; not for users.
func newHolderCommand() *cobra.Command {
	return &cobra.Command{
		Use:               rootless.HolderCommand,
		Hidden:            true,
		Args:              cobra.NoArgs,
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE:              func(*cobra.Command, []string) error { return rootless.RunHolder() },
	}
}

// newUnshareCommand runs a command in the rootless user's namespaces,
// as podman unshare does: to look at the store as its files' owners.
func newUnshareCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "unshare [-- COMMAND [ARG...]]",
		Short: "Run a command (default: $SHELL) in the rootless user's namespaces, as uid 0 there",
		Long: `unshare runs a command inside the user namespace that rootless podrun runs
pods in (with its mount and network namespaces): uid 0 there is you, and the
ids from 1 on are your subordinate ids, so the files of the image store and of
volumes show their owners as containers see them.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !rootless.Inside() {
				return errors.New("podrun unshare is for rootless podrun, and podrun runs as root: run the command as it is")
			}
			if len(args) == 0 {
				sh := os.Getenv("SHELL")
				if sh == "" {
					sh = "/bin/sh"
				}
				args = []string{sh}
			}
			bin, err := exec.LookPath(args[0])
			if err != nil {
				return fmt.Errorf("podrun unshare: %w", err)
			}
			return syscall.Exec(bin, args, os.Environ())
		},
	}
	cmd.Flags().SetInterspersed(false)
	return cmd
}
