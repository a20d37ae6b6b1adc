package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func newImageCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Manage the local image store",
	}
	cmd.AddCommand(newImageLoadCommand(g), newImageListCommand(g), newImagePullCommand(g),
		newImageSaveCommand(g), newImageRemoveCommand(g), newImagePruneCommand(g), newImageInspectCommand(g))
	return cmd
}

func newImageLoadCommand(g *globals) *cobra.Command {
	var input string
	cmd := &cobra.Command{
		Use:   "load -i FILE|DIR",
		Short: "Load images from a docker-archive or OCI archive tarball, or an OCI layout directory",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := g.runner()
			if err != nil {
				return err
			}
			refs, err := r.Images().Load(input)
			if err != nil {
				return err
			}
			for _, ref := range refs {
				fmt.Fprintln(cmd.OutOrStdout(), "Loaded image:", ref)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&input, "input", "i", "", "archive file or OCI layout directory")
	_ = cmd.MarkFlagRequired("input")
	return cmd
}

func newImageListCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List stored images",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := g.runner()
			if err != nil {
				return err
			}
			images, err := r.Images().List()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 8, 3, ' ', 0)
			fmt.Fprintln(tw, "REPOSITORY\tTAG\tDIGEST\tSIZE\tAGE")
			for _, img := range images {
				repo, tag := splitRef(img.Ref)
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", repo, tag, shortDigest(img.Digest), humanSize(img.Size), imageAge(img.Created))
			}
			return tw.Flush()
		},
	}
}

// splitRef splits "host/repo:tag" at the tag's colon, not a port's; a
// digest reference has no tag.
func splitRef(ref string) (string, string) {
	if repo, _, ok := strings.Cut(ref, "@"); ok {
		return repo, "<none>"
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[:i], ref[i+1:]
	}
	return ref, "<none>"
}

func shortDigest(d string) string {
	if _, hex, ok := strings.Cut(d, ":"); ok && len(hex) > 12 {
		return hex[:12]
	}
	return d
}

func humanSize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
