package image

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Pruned is what Prune removed.
type Pruned struct {
	Blobs, Layers int
}

// Prune removes every blob and unpacked layer that no stored image, and
// no image whose manifest digest is in keep, uses. The runner passes in
// keep the images of every pod it knows, so that the layers under a
// running container stay even after `image rm` or a pull that moved its
// tag. It waits for every other writer and holds them off while it runs.
func (s *Store) Prune(keep []string) (Pruned, error) {
	unlock, err := s.exclusive()
	if err != nil {
		return Pruned{}, err
	}
	defer unlock()
	if err := s.cleanTmp(); err != nil {
		return Pruned{}, err
	}
	idx, err := s.readIndex()
	if err != nil {
		return Pruned{}, err
	}
	for _, e := range idx.Images {
		keep = append(keep, e.Digest)
	}
	blobs, layers, err := s.reachable(keep)
	if err != nil {
		return Pruned{}, err
	}
	var p Pruned
	if p.Blobs, err = sweep(filepath.Join(s.Dir, "blobs", "sha256"), blobs); err != nil {
		return p, err
	}
	if p.Layers, err = sweep(filepath.Join(s.Dir, "layers", "sha256"), layers); err != nil {
		return p, err
	}
	// Nobody holds a layer lock while the store lock is exclusive.
	_, err = sweep(filepath.Join(s.Dir, "locks"), nil)
	return p, err
}

// reachable returns the hex digests of the blobs and layers the
// manifests in digests use. A manifest that cannot be read keeps nothing
// of its own: Prune then errs rather than guess.
func (s *Store) reachable(digests []string) (blobs, layers map[string]bool, err error) {
	blobs, layers = map[string]bool{}, map[string]bool{}
	for _, d := range digests {
		h, err := v1.NewHash(d)
		if err != nil {
			return nil, nil, fmt.Errorf("pruning: image digest %q: %w", d, err)
		}
		if !exists(s.blobPath(h)) {
			continue // a pod's image that is gone already
		}
		m, cf, err := s.readImage(h)
		if err != nil {
			return nil, nil, fmt.Errorf("pruning: reading image %s: %w", h, err)
		}
		blobs[h.Hex], blobs[m.Config.Digest.Hex] = true, true
		for _, l := range m.Layers {
			blobs[l.Digest.Hex] = true
		}
		for _, d := range cf.RootFS.DiffIDs {
			layers[d.Hex] = true
		}
	}
	return blobs, layers, nil
}

// readImage reads the stored manifest h and its config.
func (s *Store) readImage(h v1.Hash) (*v1.Manifest, *v1.ConfigFile, error) {
	if err := checkHash(h); err != nil {
		return nil, nil, err
	}
	mb, err := os.ReadFile(s.blobPath(h))
	if err != nil {
		return nil, nil, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(mb))
	if err != nil {
		return nil, nil, err
	}
	if err := checkHash(m.Config.Digest); err != nil {
		return nil, nil, err
	}
	cb, err := os.ReadFile(s.blobPath(m.Config.Digest))
	if err != nil {
		return nil, nil, err
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(cb))
	if err != nil {
		return nil, nil, err
	}
	return m, cf, nil
}

// sweep removes every entry of dir whose name is not in keep.
func sweep(dir string, keep map[string]bool) (int, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("pruning %s: %w", dir, err)
	}
	n := 0
	for _, de := range des {
		if keep[de.Name()] {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, de.Name())); err != nil {
			return n, fmt.Errorf("pruning %s: %w", dir, err)
		}
		n++
	}
	return n, nil
}
