package image

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
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
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := s.cleanTmp(); err != nil {
		return nil, err
	}
	srcs, cleanup, err := s.sources(path)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", path, err)
	}
	defer cleanup()
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	var refs []string
	for _, src := range srcs {
		digest, err := s.put(src)
		if err != nil {
			return nil, fmt.Errorf("loading %s from %s: %w", src.refs[0], path, err)
		}
		for _, r := range src.refs {
			idx.Images[r] = indexEntry{Digest: digest.String()}
			refs = append(refs, r)
		}
	}
	if err := s.writeIndex(idx); err != nil {
		return nil, err
	}
	return refs, nil
}

// put stores src's manifest, config and layers and returns its digest.
// The manifest must hash to what src promises, the config to the
// manifest's config digest; layers are checked against the config.
func (s *Store) put(src source) (v1.Hash, error) {
	manifest, err := src.img.RawManifest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("reading manifest: %w", err)
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
	if err := s.putLayers(src.img, cf); err != nil {
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

func (s *Store) putLayers(img v1.Image, cf *v1.ConfigFile) error {
	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("reading layers: %w", err)
	}
	if len(layers) != len(cf.RootFS.DiffIDs) {
		return fmt.Errorf("manifest has %d layers, config %d diffIDs", len(layers), len(cf.RootFS.DiffIDs))
	}
	for i, l := range layers {
		if err := s.putLayer(l, cf.RootFS.DiffIDs[i]); err != nil {
			return fmt.Errorf("unpacking layer %s: %w", cf.RootFS.DiffIDs[i], err)
		}
	}
	return nil
}

// putLayer unpacks l, whose content must hash to diffID, unless a layer
// with that diffID is already there. It unpacks into tmp and renames the
// finished directory into place.
func (s *Store) putLayer(l v1.Layer, diffID v1.Hash) error {
	dst := s.layerPath(diffID)
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	if diffID.Algorithm != "sha256" {
		return fmt.Errorf("unsupported diffID algorithm %q", diffID.Algorithm)
	}
	tmp, err := os.MkdirTemp(filepath.Join(s.Dir, "tmp"), "layer-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	h := sha256.New()
	if err := unpack(tmp, io.TeeReader(rc, h), s.Limits); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != diffID.Hex {
		return fmt.Errorf("layer content has diffID sha256:%s, the config says %s", got, diffID)
	}
	err = os.Rename(tmp, dst)
	if errors.Is(err, unix.EEXIST) || errors.Is(err, unix.ENOTEMPTY) {
		return nil // another writer finished it first
	}
	return err
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
