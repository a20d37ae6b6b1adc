package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/podrun/podrun/runner"
	"github.com/podrun/podrun/runner/supervise"
	"github.com/podrun/podrun/runner/supervise/supervisetest"
)

// controllerFor is the controller of kind; the test kind exists only
// when supervisetest.Env is "1".
func controllerFor(kind string) (supervise.Controller, error) {
	if c, ok := runner.Controller(kind); ok {
		return c, nil
	}
	if kind == supervisetest.Kind && testWorkloads() {
		return supervisetest.Replicas{}, nil
	}
	return nil, fmt.Errorf("no controller for workload kind %q", kind)
}

func testWorkloads() bool { return os.Getenv(supervisetest.Env) == "1" }

// ensuringVerbs are the verbs that first restart the supervisors that are
// gone, so that a supervisor killed is back by the next command.
var ensuringVerbs = []string{"apply", "get", "delete", "describe", "wait", "logs", "up", "scale", "rollout", testWorkloadCommand}

// ensureSupervisors restarts lost supervisors before the verbs that see
// or change workloads. A failure is a warning: the verb goes on.
func (g *globals) ensureSupervisors(cmd *cobra.Command) {
	verb := cmd
	for verb.HasParent() && verb.Parent().HasParent() {
		verb = verb.Parent()
	}
	if !slices.Contains(ensuringVerbs, verb.Name()) {
		return
	}
	// Without a workload there is nothing to see to, nor a runner to open.
	if _, err := os.Stat(filepath.Join(g.runRoot, runner.WorkloadsDir)); err != nil {
		return
	}
	r, err := g.runner()
	if err == nil {
		err = r.EnsureSupervisors(contextOf(cmd))
	}
	if err != nil {
		g.logger().Warn("restarting the supervisors of workloads", "error", err)
	}
}

// newSuperviseCommand is a workload's supervisor, started by apply (or by
// the next command, if it was lost); not for users.
func newSuperviseCommand(g *globals) *cobra.Command {
	var pullPolicy string
	var unsafeHostPaths bool
	var unsafeSysctls []string
	cmd := &cobra.Command{
		Use:    runner.SuperviseCommand + " KIND NAMESPACE NAME",
		Hidden: true,
		Args:   cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			ready := os.NewFile(3, "ready")
			if ready == nil {
				return errors.New("the supervisor is started by podrun apply, not by hand")
			}
			c, err := controllerFor(args[0])
			var r *runner.Runner
			if err == nil {
				r, err = g.supervisorRunner(corev1.PullPolicy(pullPolicy), unsafeHostPaths, unsafeSysctls)
			}
			if err != nil {
				line, _ := json.Marshal(supervise.Report{Error: err.Error()})
				ready.Write(append(line, '\n'))
				ready.Close()
				return err
			}
			return r.Supervise(contextOf(cmd), args[0], args[1], args[2], c, runner.SuperviseOptions{Ready: ready})
		},
	}
	f := cmd.Flags()
	f.StringVar(&pullPolicy, "pull-policy", "", "pull policy for every container")
	f.BoolVar(&unsafeHostPaths, "allow-unsafe-host-paths", false, "")
	f.StringArrayVar(&unsafeSysctls, "allowed-unsafe-sysctls", nil, "")
	return cmd
}

// supervisorRunner is the runner of a supervisor, with the options of the
// apply that started it.
func (g *globals) supervisorRunner(pull corev1.PullPolicy, unsafeHostPaths bool, sysctls []string) (*runner.Runner, error) {
	cfg, err := g.config()
	if err != nil {
		return nil, err
	}
	cfg.Pull.Progress = nil // no terminal
	cfg.PullPolicy = pull
	cfg.AllowUnsafeHostPaths = unsafeHostPaths
	cfg.AllowedUnsafeSysctls = sysctls
	return runner.New(cfg)
}

const testWorkloadCommand = "test-workload"

// newTestWorkloadCommand applies and deletes objects of the test-only
// kind (supervisetest), which the manifests' kinds do not include. It
// exists only when supervisetest.Env is "1".
func newTestWorkloadCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: testWorkloadCommand, Hidden: true}
	var cascade string
	del := &cobra.Command{
		Use:  "delete NAME",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := g.runner()
			if err != nil {
				return err
			}
			opts := runner.DeleteWorkloadOptions{Cascade: runner.Cascade(cascade)}
			if err := r.DeleteWorkload(contextOf(cmd), supervisetest.Kind, g.ns(), args[0], opts); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %q deleted\n", supervisetest.Kind, args[0])
			return nil
		},
	}
	del.Flags().StringVar(&cascade, "cascade", "background", "background, foreground or orphan")
	apply := &cobra.Command{
		Use:  "apply FILE",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			var obj supervisetest.Object
			if err := yaml.UnmarshalStrict(data, &obj); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if obj.Namespace == "" {
				obj.Namespace = g.ns()
			}
			r, err := g.runner()
			if err != nil {
				return err
			}
			out, err := r.ApplyWorkload(contextOf(cmd), supervisetest.Kind, &obj)
			if err != nil {
				return err
			}
			printOutcomes(cmd, []runner.Outcome{out})
			return nil
		},
	}
	cmd.AddCommand(apply, del)
	return cmd
}

// preRun runs before every verb: it checks -n, then restarts lost
// supervisors for the verbs that need them.
func (g *globals) preRun(cmd *cobra.Command, args []string) error {
	if done, err := g.enterRootless(cmd); done || err != nil {
		return err
	}
	if err := g.checkNamespace(cmd, args); err != nil {
		return err
	}
	g.ensureSupervisors(cmd)
	return nil
}
