package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"golang.org/x/sys/unix"
)

type archiveKind int

const (
	dockerArchive archiveKind = iota
	ociArchive
)

// sniff tells a docker-archive (manifest.json) from an OCI archive
// (oci-layout) by reading the tar's entry names. Newer `docker save`
// writes both; then manifest.json, with its RepoTags, wins.
func sniff(p string) (archiveKind, error) {
	f, err := os.Open(p)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	if magic, _ := br.Peek(4); bytes.HasPrefix(magic, []byte{0x1f, 0x8b}) || bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
		return 0, fmt.Errorf("%w: the archive is compressed; decompress it first", ErrUnknownFormat)
	}
	tr := tar.NewReader(br)
	oci := false
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("%w: reading it as a tar: %v", ErrUnknownFormat, err)
		}
		switch path.Clean(strings.TrimPrefix(hdr.Name, "./")) {
		case "manifest.json":
			return dockerArchive, nil
		case "oci-layout":
			oci = true
		}
	}
	if oci {
		return ociArchive, nil
	}
	return 0, fmt.Errorf("%w: a tar with neither manifest.json nor oci-layout", ErrUnknownFormat)
}

// dockerSources reads a docker-archive; every image needs a RepoTag.
func dockerSources(p string) ([]source, error) {
	opener := func() (io.ReadCloser, error) { return os.Open(p) }
	m, err := tarball.LoadManifest(opener)
	if err != nil {
		return nil, fmt.Errorf("reading docker-archive manifest.json: %w", err)
	}
	var srcs []source
	for _, d := range m {
		if len(d.RepoTags) == 0 {
			return nil, fmt.Errorf("image with config %s: no RepoTags (save it by name, not by ID): %w", d.Config, ErrNoName)
		}
		tag, err := name.NewTag(d.RepoTags[0])
		if err != nil {
			return nil, fmt.Errorf("parsing RepoTag %q: %w", d.RepoTags[0], err)
		}
		img, err := tarball.Image(opener, &tag)
		if err != nil {
			return nil, fmt.Errorf("reading image %s: %w", d.RepoTags[0], err)
		}
		src := source{img: img}
		for _, t := range d.RepoTags {
			r, err := Normalize(t)
			if err != nil {
				return nil, err
			}
			src.refs = append(src.refs, r)
		}
		srcs = append(srcs, src)
	}
	return srcs, nil
}

// Annotations naming an image in an OCI index: containerd's full name,
// and the OCI ref.name, used only when it is a full reference.
const (
	containerdName = "io.containerd.image.name"
	ociRefName     = "org.opencontainers.image.ref.name"
)

// layoutSources reads an OCI layout directory. Each index entry is an
// image, or an index from which the entry for this machine is taken.
func layoutSources(dir string) ([]source, error) {
	lp, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout: %w", err)
	}
	ii, err := lp.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout index: %w", err)
	}
	im, err := ii.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout index: %w", err)
	}
	var srcs []source
	for _, d := range im.Manifests {
		ref, err := layoutRef(d)
		if err != nil {
			return nil, err
		}
		img, digest, err := resolve(ii, d)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", ref, err)
		}
		srcs = append(srcs, source{refs: []string{ref}, img: img, want: digest})
	}
	if len(srcs) == 0 {
		return nil, fmt.Errorf("the OCI layout holds no image")
	}
	return srcs, nil
}

func layoutRef(d v1.Descriptor) (string, error) {
	n := d.Annotations[containerdName]
	if n == "" {
		n = d.Annotations[ociRefName]
		if n != "" && !strings.ContainsAny(n, "/:@") {
			return "", fmt.Errorf("image %s has only the tag %q, not a full reference (copy it as oci:DIR:REPO:TAG): %w", d.Digest, n, ErrNoName)
		}
	}
	if n == "" {
		return "", fmt.Errorf("image %s has no %s annotation: %w", d.Digest, ociRefName, ErrNoName)
	}
	return Normalize(n)
}

// resolve returns the image d names, picking this machine's platform
// from a nested index.
func resolve(ii v1.ImageIndex, d v1.Descriptor) (v1.Image, v1.Hash, error) {
	if d.MediaType.IsImage() {
		img, err := ii.Image(d.Digest)
		return img, d.Digest, err
	}
	if !d.MediaType.IsIndex() {
		return nil, v1.Hash{}, fmt.Errorf("unsupported media type %q", d.MediaType)
	}
	child, err := ii.ImageIndex(d.Digest)
	if err != nil {
		return nil, v1.Hash{}, err
	}
	if got, err := child.Digest(); err != nil || got != d.Digest {
		return nil, v1.Hash{}, fmt.Errorf("index %s does not match its digest (%s, %v)", d.Digest, got, err)
	}
	cm, err := child.IndexManifest()
	if err != nil {
		return nil, v1.Hash{}, err
	}
	for _, c := range cm.Manifests {
		if c.Platform != nil && c.Platform.OS == "linux" && c.Platform.Architecture == runtime.GOARCH && c.MediaType.IsImage() {
			img, err := child.Image(c.Digest)
			return img, c.Digest, err
		}
	}
	return nil, v1.Hash{}, fmt.Errorf("no image for linux/%s in index %s", runtime.GOARCH, d.Digest)
}

// extractLayout unpacks an OCI archive into dir. An OCI layout holds only
// directories and regular files; anything else, or a path leaving dir, is
// refused.
func extractLayout(archive, dir string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := extractEntry(root, hdr, tr); err != nil {
			return err
		}
	}
}

func extractEntry(root *os.Root, hdr *tar.Header, r io.Reader) error {
	name, err := cleanName(hdr.Name)
	if err != nil || name == "" {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return root.MkdirAll(name, 0o755)
	case tar.TypeReg, tar.TypeRegA:
		if d := path.Dir(name); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
		out, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o644)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, r)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		return err
	default:
		return fmt.Errorf("entry %q: type %q has no place in an OCI layout", hdr.Name, hdr.Typeflag)
	}
}
