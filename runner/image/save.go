package image

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Archive formats Save writes.
const (
	DockerArchive = "docker-archive" // manifest.json with RepoTags, as docker save writes
	OCIArchive    = "oci-archive"    // an OCI image layout, as a tar
)

// Save writes the images refs name to path as a docker-archive or an OCI
// archive, from the blobs the store kept: the manifests, configs and
// compressed layers are byte for byte what was pulled or loaded, so the
// saved images keep their digests. docker load and podman load read both.
func (s *Store) Save(path, format string, refs []string) error {
	if format != DockerArchive && format != OCIArchive {
		return fmt.Errorf("saving images: unknown format %q (use %s or %s)", format, DockerArchive, OCIArchive)
	}
	var imgs []savedImage
	for _, ref := range refs {
		img, err := s.saved(ref, format)
		if err != nil {
			return fmt.Errorf("saving %s: %w", ref, err)
		}
		imgs = append(imgs, img)
	}
	if err := s.writeArchive(path, format, imgs); err != nil {
		return fmt.Errorf("saving images to %s: %w", path, err)
	}
	return nil
}

// savedImage is one stored image on its way into an archive.
type savedImage struct {
	ref      string
	digest   v1.Hash
	manifest *v1.Manifest
	raw      []byte
}

func (s *Store) saved(ref, format string) (savedImage, error) {
	img, err := s.Get(ref)
	if err != nil {
		return savedImage{}, err
	}
	if format == DockerArchive && strings.Contains(img.Ref, "@") {
		return savedImage{}, fmt.Errorf("a docker-archive names images by tag, and %s has only a digest: save it as %s", img.Ref, OCIArchive)
	}
	h, err := v1.NewHash(img.Digest)
	if err != nil {
		return savedImage{}, err
	}
	raw, err := os.ReadFile(s.blobPath(h))
	if err != nil {
		return savedImage{}, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return savedImage{}, err
	}
	for _, l := range m.Layers {
		if !exists(s.blobPath(l.Digest)) {
			return savedImage{}, fmt.Errorf("layer blob %s is missing: pull or load the image again", l.Digest)
		}
	}
	return savedImage{ref: img.Ref, digest: h, manifest: m, raw: raw}, nil
}

func (s *Store) writeArchive(path, format string, imgs []savedImage) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".podrun-save-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	tw := tar.NewWriter(f)
	a := &archive{store: s, tw: tw, written: map[v1.Hash]bool{}}
	if format == DockerArchive {
		err = a.docker(imgs)
	} else {
		err = a.oci(imgs)
	}
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// archive writes blobs under blobs/sha256/, each once, and the format's
// own index files.
type archive struct {
	store   *Store
	tw      *tar.Writer
	written map[v1.Hash]bool
}

func (a *archive) blob(h v1.Hash) (string, error) {
	name := "blobs/" + h.Algorithm + "/" + h.Hex
	if a.written[h] {
		return name, nil
	}
	if err := checkHash(h); err != nil {
		return "", err
	}
	f, err := os.Open(a.store.blobPath(h))
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if err := a.tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: fi.Size(), Typeflag: tar.TypeReg}); err != nil {
		return "", err
	}
	if _, err := io.Copy(a.tw, f); err != nil {
		return "", err
	}
	a.written[h] = true
	return name, nil
}

func (a *archive) file(name string, data []byte) error {
	if err := a.tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err := a.tw.Write(data)
	return err
}

// imageBlobs writes an image's config and layers and returns their names.
func (a *archive) imageBlobs(img savedImage) (config string, layers []string, err error) {
	if config, err = a.blob(img.manifest.Config.Digest); err != nil {
		return "", nil, err
	}
	for _, l := range img.manifest.Layers {
		name, err := a.blob(l.Digest)
		if err != nil {
			return "", nil, err
		}
		layers = append(layers, name)
	}
	return config, layers, nil
}

// docker writes manifest.json as docker save does, one entry per image,
// every tag of an image in its RepoTags. docker and podman load detect
// the compressed layers.
func (a *archive) docker(imgs []savedImage) error {
	type entry struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	var entries []*entry
	byDigest := map[v1.Hash]*entry{}
	for _, img := range imgs {
		if e := byDigest[img.digest]; e != nil {
			e.RepoTags = append(e.RepoTags, img.ref)
			continue
		}
		config, layers, err := a.imageBlobs(img)
		if err != nil {
			return err
		}
		e := &entry{Config: config, RepoTags: []string{img.ref}, Layers: layers}
		byDigest[img.digest] = e
		entries = append(entries, e)
	}
	data, err := json.Marshal(entries)
	if err != nil {
		return err
	}
	return a.file("manifest.json", data)
}

// oci writes an OCI layout: every manifest as a blob, named in index.json
// by the org.opencontainers.image.ref.name annotation (the full
// reference, as podman and containerd read it) and containerd's own.
func (a *archive) oci(imgs []savedImage) error {
	index := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	for _, img := range imgs {
		if _, _, err := a.imageBlobs(img); err != nil {
			return err
		}
		if err := a.rawBlob(img.digest, img.raw); err != nil {
			return err
		}
		mt := img.manifest.MediaType
		if mt == "" {
			mt = types.OCIManifestSchema1
		}
		index.Manifests = append(index.Manifests, v1.Descriptor{
			MediaType: mt, Digest: img.digest, Size: int64(len(img.raw)),
			Annotations: map[string]string{ociRefName: img.ref, containerdName: img.ref},
		})
	}
	data, err := json.Marshal(index)
	if err != nil {
		return err
	}
	if err := a.file("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return err
	}
	return a.file("index.json", data)
}

// rawBlob writes a blob the caller holds in memory (a manifest).
func (a *archive) rawBlob(h v1.Hash, data []byte) error {
	if a.written[h] {
		return nil
	}
	if got, _, err := v1.SHA256(bytes.NewReader(data)); err != nil || got != h {
		return errors.Join(err, fmt.Errorf("manifest %s does not match its digest", h))
	}
	a.written[h] = true
	return a.file("blobs/"+h.Algorithm+"/"+h.Hex, data)
}
