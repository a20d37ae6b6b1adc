package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/runner"
)

func newExecCommand(g *globals) *cobra.Command {
	var (
		opts       runner.ExecOptions
		stdin, tty bool
	)
	cmd := &cobra.Command{
		Use:   "exec [-it] POD|pod/POD [-c CONTAINER] -- COMMAND [ARG...]",
		Short: "Run a command in a running container",
		Example: `  podrun exec hello -c web -- cat /etc/hostname
  podrun exec -it hello -- sh`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() != 1 {
				return fmt.Errorf("usage: podrun exec POD [-c CONTAINER] -- COMMAND [ARG...]")
			}
			ref, err := g.podArg(args[0])
			if err != nil {
				return err
			}
			if err := checkContainer(opts.Container); err != nil {
				return err
			}
			r, err := g.runner()
			if err != nil {
				return err
			}
			opts.Args = args[1:]
			opts.Stdout, opts.Stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
			if stdin {
				opts.Stdin = cmd.InOrStdin()
			}
			if tty && stdin && isTTY(os.Stdin) {
				opts.Tty = true
				opts.Stdin, opts.Stdout, opts.Stderr = os.Stdin, os.Stdout, os.Stderr
				restore, err := rawTerminal(os.Stdin)
				if err != nil {
					return err
				}
				defer restore()
			}
			code, err := r.Exec(contextOf(cmd), ref.namespace, ref.name, opts)
			if err != nil {
				return err
			}
			if code != 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "command terminated with exit code %d\n", code)
				return exitError{code}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Container, "container", "c", "", "container name (default: the first)")
	f.BoolVarP(&stdin, "stdin", "i", false, "pass stdin to the container")
	f.BoolVarP(&tty, "tty", "t", false, "stdin is a terminal")
	return cmd
}

func isTTY(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// rawTerminal puts the terminal in raw mode, as cfmakeraw does, and
// returns what restores it.
func rawTerminal(f *os.File) (func(), error) {
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, fmt.Errorf("reading the terminal's settings: %w", err)
	}
	raw := *old
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return nil, fmt.Errorf("setting the terminal to raw mode: %w", err)
	}
	return func() { _ = unix.IoctlSetTermios(fd, unix.TCSETS, old) }, nil
}
