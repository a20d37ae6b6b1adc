// Package image is podrun's content-addressed image store under --root.
//
// Images come in through go-containerregistry: docker-archive and OCI
// archive tarballs and OCI layout directories (Load), registries later.
// Blobs are verified against their digests; each layer is unpacked once,
// by diffID, refusing path traversal, link escapes and device nodes and
// applying whiteouts, and is then shared read-only by every image and
// container that uses it.
package image

import (
	"errors"
	"fmt"
)

// ErrNotFound is returned by Get for an image the store does not hold.
var ErrNotFound = errors.New("image not found")

// Store is the image store rooted at Dir (<root>/images).
type Store struct {
	Dir string
}

// Open opens, creating if needed, the store at dir.
func Open(dir string) (*Store, error) {
	return nil, fmt.Errorf("image.Open: not implemented")
}

// Image is a stored image, ready to run.
type Image struct {
	Ref    string   // normalised reference, e.g. "localhost/podrun/busybox:demo"
	Digest string   // manifest digest, "sha256:..."
	Config Config   // runtime part of the image config
	Layers []string // unpacked layer directories, bottom first
	Size   int64    // bytes of compressed layers
}

// Config is the runtime part of an image config.
type Config struct {
	Env        []string
	Entrypoint []string
	Cmd        []string
	WorkingDir string
	User       string
	StopSignal string
}

// Load imports every image in path: a docker-archive or OCI archive
// tarball, or an OCI layout directory. It returns the references stored.
func (s *Store) Load(path string) ([]string, error) {
	return nil, fmt.Errorf("image.Load: not implemented")
}

// Get returns the stored image ref names, normalised as Docker does
// ("busybox" is "docker.io/library/busybox:latest"). A missing image is
// ErrNotFound.
func (s *Store) Get(ref string) (*Image, error) {
	return nil, fmt.Errorf("image.Get: not implemented")
}

// List returns every stored image.
func (s *Store) List() ([]Image, error) {
	return nil, fmt.Errorf("image.List: not implemented")
}
