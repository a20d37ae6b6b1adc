package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/kube"
	"github.com/podrun/podrun/runner"
)

func newUpCommand(g *globals) *cobra.Command {
	var m manifestFlags
	cmd := &cobra.Command{
		Use:   "up -f FILE|DIR|-",
		Short: "Run pods in the foreground, streaming their output, until they finish or Ctrl-C",
		Long: `up starts the pods of the manifests and supervises them from this process,
printing every container's output prefixed with pod/container. Ctrl-C or
SIGTERM stops every pod gracefully (preStop hooks, stop signal, grace
period) and removes it. up also returns once every pod has finished.

Exit code: 0 when every pod succeeded, 1 when one failed (or could not
start), 130 when interrupted while a pod still ran.`,
		Example: `  podrun up -f job.yaml
  podrun up -f examples/hello`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, r, err := m.open(cmd, g)
			if err != nil {
				return err
			}
			objs, err := r.ApplyObjects(contextOf(cmd), set)
			printOutcomes(cmd, objs)
			if err != nil {
				return err
			}
			u := &upRun{r: r, out: newPrefixer(cmd.OutOrStdout(), isTerminal(cmd.OutOrStdout())), stop: make(chan struct{})}
			return u.run(contextOf(cmd), set.Pods)
		},
	}
	m.bind(cmd.Flags())
	_ = cmd.MarkFlagRequired("filename")
	return cmd
}

// upRun is one `podrun up`: its pods and their monitors in this process.
type upRun struct {
	r        *runner.Runner
	out      *prefixer
	stop     chan struct{}
	stopOnce sync.Once
	monitors sync.WaitGroup
}

func (u *upRun) run(ctx context.Context, pods []kube.Pod) error {
	fg := &runner.Foreground{
		Stop:   u.stop,
		Output: u.out.line,
		Done:   func(string, string, error) { u.monitors.Done() },
	}
	u.monitors.Add(len(pods))
	done, err := u.r.ApplyForeground(ctx, pods, fg)
	started := map[string]bool{}
	for _, o := range done {
		started[o.Namespace+"/"+o.Name] = o.Action == "created"
		if o.Action != "created" {
			err = errors.Join(err, fmt.Errorf("pod %s/%s already runs (started by apply): delete it first", o.Namespace, o.Name))
		}
	}
	// Pods that never got a monitor will not call Done.
	for _, p := range pods {
		if !started[p.Pod.Namespace+"/"+p.Pod.Name] {
			u.monitors.Done()
		}
	}
	code := 1
	if err == nil {
		code = u.watch(ctx, done)
	}
	u.stopAll()
	u.monitors.Wait()
	for _, o := range done {
		if started[o.Namespace+"/"+o.Name] {
			if derr := u.r.Delete(context.WithoutCancel(ctx), o.Namespace, o.Name, runner.DeleteOptions{}); derr != nil && !errors.Is(derr, runner.ErrPodNotFound) {
				err = errors.Join(err, derr)
			}
		}
	}
	if err != nil {
		return err
	}
	if code != 0 {
		return exitError{code}
	}
	return nil
}

func (u *upRun) stopAll() { u.stopOnce.Do(func() { close(u.stop) }) }

// watch waits until every pod has finished, or ctx ends (Ctrl-C), and
// returns up's exit code.
func (u *upRun) watch(ctx context.Context, pods []runner.Outcome) int {
	for {
		succeeded, failed := 0, 0
		for _, o := range pods {
			p, err := u.r.Get(ctx, o.Namespace, o.Name)
			if err != nil {
				failed++
				continue
			}
			switch p.Status.Phase {
			case corev1.PodSucceeded:
				succeeded++
			case corev1.PodFailed:
				failed++
			}
		}
		switch {
		case succeeded == len(pods):
			return 0
		case succeeded+failed == len(pods):
			return 1
		}
		select {
		case <-ctx.Done():
			if failed > 0 {
				return 1
			}
			return 130
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// prefixer writes container output lines with a pod/container prefix,
// coloured on a terminal, one whole line at a time.
type prefixer struct {
	mu     sync.Mutex
	w      io.Writer
	color  bool
	colors map[string]int
}

func newPrefixer(w io.Writer, color bool) *prefixer {
	return &prefixer{w: w, color: color, colors: map[string]int{}}
}

func (p *prefixer) line(pod, container, stream string, line []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	name := pod + "/" + container
	if len(line) == 0 || line[len(line)-1] != '\n' {
		line = append(line, '\n')
	}
	if !p.color {
		fmt.Fprintf(p.w, "%s | %s", name, line)
		return
	}
	c, ok := p.colors[name]
	if !ok {
		c = 31 + len(p.colors)%6 // red, green, yellow, blue, magenta, cyan
		p.colors[name] = c
	}
	fmt.Fprintf(p.w, "\x1b[%dm%s |\x1b[0m %s", c, name, line)
}
