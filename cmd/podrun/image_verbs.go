package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/podrun/podrun/runner/image"
)

func newImagePullCommand(g *globals) *cobra.Command {
	var creds string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "pull IMAGE",
		Short: "Pull an image from a registry into the local store",
		Long: `Pull an image from its registry. Short names are Docker Hub's ("nginx" is
docker.io/library/nginx:latest); from a multi-arch index the image for this
machine is taken. Credentials come from --creds, $REGISTRY_AUTH_FILE and
~/.docker/config.json. Plain HTTP is used only for loopback registries and
those named with --insecure-registry.`,
		Example: `  podrun image pull nginx:1.27
  podrun image pull registry.example.com/team/app@sha256:...
  podrun image pull --creds user:password registry.example.com/private/app:v1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			done := func() {}
			if !quiet {
				g.progress, done = newProgress(cmd.ErrOrStderr())
			}
			r, err := g.runner()
			if err != nil {
				return err
			}
			opts := image.PullOptions{Creds: creds, Insecure: g.insecure, Progress: g.progress}
			img, err := r.Images().Pull(contextOf(cmd), args[0], opts)
			done()
			if err != nil {
				return err
			}
			if quiet {
				fmt.Fprintln(cmd.OutOrStdout(), img.Digest)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Pulled image: %s (%s)\n", img.Ref, img.Digest)
			return nil
		},
	}
	cmd.Flags().StringVar(&creds, "creds", "", "USER:PASSWORD for the registry")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "show no progress; print only the digest")
	return cmd
}

func newImageSaveCommand(g *globals) *cobra.Command {
	var output, format string
	cmd := &cobra.Command{
		Use:   "save -o FILE IMAGE...",
		Short: "Save images to a docker-archive or OCI archive that docker load and podman load read",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkImageRefs(args); err != nil {
				return err
			}
			r, err := g.runner()
			if err != nil {
				return err
			}
			return r.Images().Save(output, format, args)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "file to write")
	cmd.Flags().StringVar(&format, "format", image.DockerArchive, "archive format: docker-archive or oci-archive")
	_ = cmd.MarkFlagRequired("output")
	return cmd
}

func newImageRemoveCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "rm IMAGE...",
		Aliases: []string{"rmi"},
		Short:   "Forget images; `podrun image prune` frees their space",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkImageRefs(args); err != nil {
				return err
			}
			r, err := g.runner()
			if err != nil {
				return err
			}
			for _, ref := range args {
				if err := r.Images().Remove(ref); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), "Untagged:", ref)
			}
			return nil
		},
	}
}

func newImagePruneCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "prune",
		Short: "Remove the blobs and layers that no stored image and no pod uses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := g.runner()
			if err != nil {
				return err
			}
			p, err := r.PruneImages()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Removed %d blobs and %d layers\n", p.Blobs, p.Layers)
			return nil
		},
	}
}

func newImageInspectCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect IMAGE...",
		Short: "Show images' manifests, configs and layers as JSON",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkImageRefs(args); err != nil {
				return err
			}
			r, err := g.runner()
			if err != nil {
				return err
			}
			var out []*image.Inspection
			for _, ref := range args {
				in, err := r.Images().Inspect(ref)
				if err != nil {
					return err
				}
				out = append(out, in)
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		},
	}
}

// imageAge is how long ago the image was built, as get pods shows ages;
// reproducible builds that date their images at the epoch have none.
func imageAge(t time.Time) string {
	if t.Unix() <= 0 {
		return "<unknown>"
	}
	return age(t)
}
