package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"

	kc "github.com/podrun/podrun/kube/controllers"
	"github.com/podrun/podrun/runner"
)

func newRolloutCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rollout status|restart|undo|history deployment/NAME",
		Short: "Follow, restart, undo or list the rollouts of a Deployment",
		Example: `  podrun rollout status deployment/web
  podrun rollout restart deployment/web
  podrun rollout undo deployment/web --to-revision 1
  podrun rollout history deployment/web`,
	}
	cmd.AddCommand(newRolloutStatusCommand(g), newRolloutRestartCommand(g), newRolloutUndoCommand(g), newRolloutHistoryCommand(g))
	return cmd
}

// deploymentArg reads the Deployment a rollout verb acts on.
func (g *globals) deploymentArg(args []string) (workloadRef, error) {
	ref, err := g.workloadArg(args)
	if err == nil && ref.res.kind != "deployment" {
		err = fmt.Errorf("podrun rolls out deployments only, not %s", ref.res.plural)
	}
	return ref, err
}

func newRolloutStatusCommand(g *globals) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "status deployment/NAME",
		Short: "Wait until a Deployment's rollout completes; fail if its progress deadline passes",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := g.deploymentArg(args)
			if err != nil {
				return err
			}
			r, err := g.runner()
			if err != nil {
				return err
			}
			ctx := contextOf(cmd)
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			return watchRollout(ctx, r, ref, cmd.OutOrStdout())
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "how long to wait (0: until the rollout ends)")
	return cmd
}

// watchRollout prints the rollout's progress as it changes until it
// completes, its progress deadline passes (an error) or ctx ends.
func watchRollout(ctx context.Context, r *runner.Runner, ref workloadRef, out io.Writer) error {
	var last string
	for {
		d, err := getDeployment(r, ref)
		if err != nil {
			return err
		}
		msg, done, err := rolloutStatus(d)
		if err != nil {
			return err
		}
		if msg != last {
			fmt.Fprintln(out, msg)
			last = msg
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out waiting for the rollout of deployment %q", ref.name)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// getDeployment is the Deployment with its recorded status.
func getDeployment(r *runner.Runner, ref workloadRef) (*appsv1.Deployment, error) {
	w, err := r.GetWorkload("deployment", ref.namespace, ref.name)
	if err != nil {
		return nil, ref.notFound(err)
	}
	var d appsv1.Deployment
	if err := json.Unmarshal(w.Object, &d); err != nil {
		return nil, fmt.Errorf("decoding deployment %s: %w", ref.name, err)
	}
	return &d, nil
}

// rolloutStatus is kubectl's DeploymentStatusViewer: what to say of d's
// rollout, whether it is complete, and an error once its progress
// deadline has passed.
func rolloutStatus(d *appsv1.Deployment) (string, bool, error) {
	st := d.Status
	if d.Generation > st.ObservedGeneration {
		return "Waiting for deployment spec update to be observed...", false, nil
	}
	for _, c := range st.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == kc.ReasonProgressDeadlineExceeded {
			return "", false, fmt.Errorf("deployment %q exceeded its progress deadline", d.Name)
		}
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	switch {
	case st.UpdatedReplicas < want:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d out of %d new replicas have been updated...", d.Name, st.UpdatedReplicas, want), false, nil
	case st.Replicas > st.UpdatedReplicas:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d old replicas are pending termination...", d.Name, st.Replicas-st.UpdatedReplicas), false, nil
	case st.AvailableReplicas < st.UpdatedReplicas:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d of %d updated replicas are available...", d.Name, st.AvailableReplicas, st.UpdatedReplicas), false, nil
	}
	return fmt.Sprintf("deployment %q successfully rolled out", d.Name), true, nil
}

func newRolloutRestartCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "restart deployment/NAME",
		Short: "Replace every pod of a Deployment, by its strategy",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := g.deploymentArg(args)
			if err != nil {
				return err
			}
			r, err := g.runner()
			if err != nil {
				return err
			}
			if _, err := r.RolloutRestart(contextOf(cmd), ref.namespace, ref.name, time.Now()); err != nil {
				return ref.notFound(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s/%s restarted\n", ref.printed(), ref.name)
			return nil
		},
	}
}

func newRolloutUndoCommand(g *globals) *cobra.Command {
	var toRevision int64
	cmd := &cobra.Command{
		Use:   "undo deployment/NAME [--to-revision N]",
		Short: "Roll a Deployment back to its previous revision, or to --to-revision",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := g.deploymentArg(args)
			if err != nil {
				return err
			}
			r, err := g.runner()
			if err != nil {
				return err
			}
			if _, err := r.RolloutUndo(contextOf(cmd), ref.namespace, ref.name, toRevision); err != nil {
				return ref.notFound(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s/%s rolled back\n", ref.printed(), ref.name)
			return nil
		},
	}
	cmd.Flags().Int64Var(&toRevision, "to-revision", 0, "the revision to roll back to (0: the previous one)")
	return cmd
}

func newRolloutHistoryCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "history deployment/NAME",
		Short: "List a Deployment's revisions",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, err := g.deploymentArg(args)
			if err != nil {
				return err
			}
			r, err := g.runner()
			if err != nil {
				return err
			}
			revs, err := r.RolloutHistory(ref.namespace, ref.name)
			if err != nil {
				return ref.notFound(err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s/%s\n", ref.printed(), ref.name)
			tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
			fmt.Fprintln(tw, "REVISION\tCHANGE-CAUSE")
			for _, rev := range revs {
				fmt.Fprintf(tw, "%d\t%s\n", rev.Revision, orNone(rev.ChangeCause))
			}
			return tw.Flush()
		},
	}
}
