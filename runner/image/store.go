package image

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Store is the image store rooted at Dir (<root>/images).
type Store struct {
	Dir    string
	Limits Limits // per layer; Open sets DefaultLimits
	// Log hears, at debug level, of what unpacking skips (device nodes
	// without root); nil for nothing.
	Log *slog.Logger
}

// Open opens, creating if needed, the store at dir.
func Open(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("opening image store %s: %w", dir, err)
	}
	for _, d := range []string{"blobs/sha256", "layers/sha256", "locks", "tmp"} {
		if err := os.MkdirAll(filepath.Join(abs, d), 0o700); err != nil {
			return nil, fmt.Errorf("opening image store: %w", err)
		}
	}
	// Layers hold what images carry (setuid files, device nodes): only
	// root may reach them, whatever made the directory before
	// (CVE-2021-41103).
	if err := os.Chmod(abs, 0o700); err != nil {
		return nil, fmt.Errorf("opening image store: %w", err)
	}
	return &Store{Dir: abs, Limits: DefaultLimits}, nil
}

// index is images.json: every stored reference and its manifest digest.
type index struct {
	Images map[string]indexEntry `json:"images"`
}

type indexEntry struct {
	Digest string `json:"digest"`
}

func (s *Store) indexPath() string { return filepath.Join(s.Dir, "images.json") }

func (s *Store) blobPath(h v1.Hash) string {
	return filepath.Join(s.Dir, "blobs", h.Algorithm, h.Hex)
}

func (s *Store) layerPath(diffID v1.Hash) string {
	return filepath.Join(s.Dir, "layers", diffID.Algorithm, diffID.Hex)
}

func (s *Store) readIndex() (*index, error) {
	idx := &index{Images: map[string]indexEntry{}}
	b, err := os.ReadFile(s.indexPath())
	if errors.Is(err, fs.ErrNotExist) {
		return idx, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading image index: %w", err)
	}
	if err := json.Unmarshal(b, idx); err != nil {
		return nil, fmt.Errorf("reading image index %s: %w", s.indexPath(), err)
	}
	if idx.Images == nil {
		idx.Images = map[string]indexEntry{}
	}
	return idx, nil
}

func (s *Store) writeIndex(idx *index) error {
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	if err := s.writeAtomic(s.indexPath(), append(b, '\n')); err != nil {
		return fmt.Errorf("writing image index: %w", err)
	}
	return nil
}

// writeAtomic writes data to a temporary file in tmp (same file system),
// syncs it and renames it over dst, so readers see the old or the new
// file, whole. Only a writer holding the lock may call it.
func (s *Store) writeAtomic(dst string, data []byte) error {
	f, err := os.CreateTemp(filepath.Join(s.Dir, "tmp"), "file-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), dst)
	}
	return err
}

// writeBlob stores data under its digest h, once.
func (s *Store) writeBlob(h v1.Hash, data []byte) error {
	if err := checkHash(h); err != nil {
		return err
	}
	got, _, err := v1.SHA256(bytes.NewReader(data))
	if err != nil {
		return err
	}
	if got != h {
		return fmt.Errorf("blob %s has digest %s", h, got)
	}
	if _, err := os.Stat(s.blobPath(h)); err == nil {
		return nil
	}
	return s.writeAtomic(s.blobPath(h), data)
}

// cleanTmp removes what writers killed halfway left in tmp. Only a writer
// holding the store lock exclusive may call it. tmp itself stays: Open, which takes no
// lock, may be creating it at the same time.
func (s *Store) cleanTmp() error {
	tmp := filepath.Join(s.Dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return fmt.Errorf("cleaning %s: %w", tmp, err)
	}
	des, err := os.ReadDir(tmp)
	if err != nil {
		return fmt.Errorf("cleaning %s: %w", tmp, err)
	}
	for _, de := range des {
		if err := os.RemoveAll(filepath.Join(tmp, de.Name())); err != nil {
			return fmt.Errorf("cleaning %s: %w", tmp, err)
		}
	}
	return nil
}

// Get returns the stored image ref names, normalised as Docker does
// ("busybox" is "docker.io/library/busybox:latest"). A missing image is
// ErrNotFound.
func (s *Store) Get(ref string) (*Image, error) {
	norm, err := Normalize(ref)
	if err != nil {
		return nil, err
	}
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	e, ok := lookup(idx, norm)
	if !ok {
		return nil, fmt.Errorf("getting %s: %w (load it with `podrun image load -i FILE`)", norm, ErrNotFound)
	}
	img, err := s.image(norm, e.Digest)
	if err != nil {
		return nil, fmt.Errorf("getting %s: %w", norm, err)
	}
	return img, nil
}

// lookup finds ref in idx; a digest reference matches any tag of the same
// repository whose manifest has that digest.
func lookup(idx *index, ref string) (indexEntry, bool) {
	if e, ok := idx.Images[ref]; ok {
		return e, true
	}
	repo, digest, ok := strings.Cut(ref, "@")
	if !ok {
		return indexEntry{}, false
	}
	for r, e := range idx.Images {
		if e.Digest == digest && strings.HasPrefix(r, repo+":") {
			return e, true
		}
	}
	return indexEntry{}, false
}

// image reads the stored manifest and config of digest.
func (s *Store) image(ref, digest string) (*Image, error) {
	h, err := v1.NewHash(digest)
	if err != nil {
		return nil, err
	}
	if err := checkHash(h); err != nil {
		return nil, err
	}
	mb, err := os.ReadFile(s.blobPath(h))
	if err != nil {
		return nil, fmt.Errorf("reading manifest: %w", err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(mb))
	if err != nil {
		return nil, fmt.Errorf("parsing manifest %s: %w", h, err)
	}
	if err := checkHash(m.Config.Digest); err != nil {
		return nil, err
	}
	cb, err := os.ReadFile(s.blobPath(m.Config.Digest))
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(cb))
	if err != nil {
		return nil, fmt.Errorf("parsing config %s: %w", m.Config.Digest, err)
	}
	img := &Image{Ref: ref, Digest: digest, Config: runtimeConfig(cf.Config), Created: cf.Created.Time}
	for _, l := range m.Layers {
		img.Size += l.Size
	}
	for _, d := range cf.RootFS.DiffIDs {
		if err := checkHash(d); err != nil {
			return nil, err
		}
		p := s.layerPath(d)
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("finding layer %s (load the image again): %w", d, err)
		}
		img.Layers = append(img.Layers, p)
	}
	return img, nil
}

func runtimeConfig(c v1.Config) Config {
	return Config{
		Env:        c.Env,
		Entrypoint: c.Entrypoint,
		Cmd:        c.Cmd,
		WorkingDir: c.WorkingDir,
		User:       c.User,
		StopSignal: c.StopSignal,
		Volumes:    c.Volumes,
	}
}

// List returns every stored image, sorted by reference.
func (s *Store) List() ([]Image, error) {
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	refs := make([]string, 0, len(idx.Images))
	for r := range idx.Images {
		refs = append(refs, r)
	}
	sort.Strings(refs)
	imgs := make([]Image, 0, len(refs))
	for _, r := range refs {
		img, err := s.image(r, idx.Images[r].Digest)
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", r, err)
		}
		imgs = append(imgs, *img)
	}
	return imgs, nil
}

// Remove forgets ref. Its blobs and layers stay on disk until Prune,
// which keeps what any stored image, or any pod named in keep, still uses.
func (s *Store) Remove(ref string) error {
	norm, err := Normalize(ref)
	if err != nil {
		return err
	}
	unlock, err := s.share()
	if err != nil {
		return err
	}
	defer unlock()
	return s.updateIndex(func(idx *index) error {
		if _, ok := idx.Images[norm]; !ok {
			return fmt.Errorf("removing %s: %w", norm, ErrNotFound)
		}
		delete(idx.Images, norm)
		return nil
	})
}
