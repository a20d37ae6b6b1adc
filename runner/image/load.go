package image

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// source is one image found in an archive or layout, with its names.
type source struct {
	refs []string
	img  v1.Image
	want v1.Hash // manifest digest the source promises; zero if none
}

// Load imports every image in path: a docker-archive or OCI archive
// tarball, or an OCI layout directory. It returns the references stored.
// Loading what is already stored is cheap and changes nothing.
func (s *Store) Load(path string) ([]string, error) {
	unlock, err := s.share()
	if err != nil {
		return nil, err
	}
	defer unlock()
	srcs, cleanup, err := s.sources(path)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", path, err)
	}
	defer cleanup()
	stored := map[string]string{}
	var refs []string
	for _, src := range srcs {
		digest, err := s.put(context.Background(), src, func(Progress) {})
		if err != nil {
			return nil, fmt.Errorf("loading %s from %s: %w", src.refs[0], path, err)
		}
		for _, r := range src.refs {
			stored[r] = digest.String()
			refs = append(refs, r)
		}
	}
	if err := s.record(stored); err != nil {
		return nil, err
	}
	return refs, nil
}

// record points each reference at its manifest digest in the index.
func (s *Store) record(refs map[string]string) error {
	return s.updateIndex(func(idx *index) error {
		for r, d := range refs {
			idx.Images[r] = indexEntry{Digest: d}
		}
		return nil
	})
}

// put stores src's manifest, config and layers and returns its digest.
// The manifest must hash to what src promises, the config to the
// manifest's config digest, each layer blob to its descriptor and its
// content to the config's diffID. Manifest and config are written last,
// so a stored manifest means a complete image.
func (s *Store) put(ctx context.Context, src source, report func(Progress)) (v1.Hash, error) {
	manifest, err := src.img.RawManifest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("reading manifest: %w", err)
	}
	if int64(len(manifest)) > s.Limits.MaxManifestBytes {
		return v1.Hash{}, fmt.Errorf("manifest of %d bytes is past the limit of %d: %w", len(manifest), s.Limits.MaxManifestBytes, ErrTooLarge)
	}
	digest, _, err := v1.SHA256(bytes.NewReader(manifest))
	if err != nil {
		return v1.Hash{}, err
	}
	if src.want != (v1.Hash{}) && digest != src.want {
		return v1.Hash{}, fmt.Errorf("manifest %s has digest %s", src.want, digest)
	}
	m, err := v1.ParseManifest(bytes.NewReader(manifest))
	if err != nil {
		return v1.Hash{}, fmt.Errorf("parsing manifest: %w", err)
	}
	if err := checkHash(m.Config.Digest); err != nil {
		return v1.Hash{}, fmt.Errorf("reading config: %w", err)
	}
	if m.Config.Size > s.Limits.MaxConfigBytes {
		return v1.Hash{}, fmt.Errorf("config of %d bytes is past the limit of %d: %w", m.Config.Size, s.Limits.MaxConfigBytes, ErrTooLarge)
	}
	config, err := src.img.RawConfigFile()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("reading config: %w", err)
	}
	if got, _, err := v1.SHA256(bytes.NewReader(config)); err != nil || got != m.Config.Digest {
		return v1.Hash{}, fmt.Errorf("config %s has digest %s", m.Config.Digest, got)
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(config))
	if err != nil {
		return v1.Hash{}, fmt.Errorf("parsing config: %w", err)
	}
	for _, d := range cf.RootFS.DiffIDs {
		if err := checkHash(d); err != nil {
			return v1.Hash{}, fmt.Errorf("reading config: %w", err)
		}
	}
	rep := func(p Progress) { p.Image = src.refs[0]; report(p) }
	if err := s.putLayers(ctx, src.img, m.Layers, cf.RootFS.DiffIDs, rep); err != nil {
		return v1.Hash{}, err
	}
	if err := s.writeBlob(m.Config.Digest, config); err != nil {
		return v1.Hash{}, fmt.Errorf("storing config: %w", err)
	}
	if err := s.writeBlob(digest, manifest); err != nil {
		return v1.Hash{}, fmt.Errorf("storing manifest: %w", err)
	}
	return digest, nil
}

// sources finds the images in path, by content. cleanup removes what
// finding them unpacked.
func (s *Store) sources(path string) (srcs []source, cleanup func(), err error) {
	cleanup = func() {}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, cleanup, err
	}
	if fi.IsDir() {
		srcs, err = layoutSources(path)
		return srcs, cleanup, err
	}
	kind, err := sniff(path)
	if err != nil {
		return nil, cleanup, err
	}
	if kind == dockerArchive {
		srcs, err = dockerSources(path)
		return srcs, cleanup, err
	}
	dir, err := os.MkdirTemp(filepath.Join(s.Dir, "tmp"), "oci-")
	if err != nil {
		return nil, cleanup, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	if err := extractLayout(path, dir); err != nil {
		return nil, cleanup, fmt.Errorf("extracting OCI archive: %w", err)
	}
	srcs, err = layoutSources(dir)
	return srcs, cleanup, err
}
