package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/runner"
)

// watchInterval is how often get -w looks at the pods' records.
const watchInterval = 500 * time.Millisecond

// watchPods is get -w: the table, then a row each time a pod's row
// changes (its age aside), and its last row again, with no age, when it
// is deleted, until ctx ends.
func watchPods(ctx context.Context, r *runner.Runner, ns string, names []string, wide, allNamespaces bool, w io.Writer) error {
	last := map[string]string{}
	header := []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE"}
	if allNamespaces {
		header = append([]string{"NAMESPACE"}, header...)
	}
	if wide {
		header = append(header, "IP", "NODE")
	}
	first := true
	for {
		pods, err := r.List(ctx, ns)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
		if first {
			fmt.Fprintln(tw, strings.Join(header, "\t"))
		}
		seen := map[string]bool{}
		for _, p := range pods {
			if len(names) > 0 && !slices.Contains(names, p.Name) {
				continue
			}
			key := p.Namespace + "/" + p.Name
			seen[key] = true
			if row, changed := watchRow(&p, wide, allNamespaces, last[key]); changed {
				last[key] = row
				fmt.Fprintln(tw, withAge(row, &p, allNamespaces))
			}
		}
		for key, row := range last {
			if !seen[key] {
				delete(last, key)
				fmt.Fprintln(tw, strings.Replace(row, "\x00", "-", 1))
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		first = false
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(watchInterval):
		}
	}
}

// watchRow is a pod's row with its age left out ("\x00" in its place), so
// that the row changes only when the pod does.
func watchRow(p *corev1.Pod, wide, allNamespaces bool, last string) (string, bool) {
	row := podRow(p, wide, allNamespaces)
	ageCol := 4
	if allNamespaces {
		ageCol++
	}
	row[ageCol] = "\x00"
	s := strings.Join(row, "\t")
	return s, s != last
}

func withAge(row string, p *corev1.Pod, _ bool) string {
	return strings.Replace(row, "\x00", age(p.CreationTimestamp.Time), 1)
}
