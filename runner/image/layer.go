package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sys/unix"
)

// layerJobs is how many layers of one image are fetched and unpacked at
// once, as docker pull does (it runs three).
const layerJobs = 4

// putLayers stores every layer of img, several at once. descs are the
// manifest's layer descriptors, diffIDs the config's.
func (s *Store) putLayers(ctx context.Context, img v1.Image, descs []v1.Descriptor, diffIDs []v1.Hash, report func(Progress)) error {
	if len(descs) != len(diffIDs) {
		return fmt.Errorf("manifest has %d layers, config %d diffIDs", len(descs), len(diffIDs))
	}
	for _, d := range descs {
		report(Progress{Layer: d.Digest, Status: StatusWaiting, Total: d.Size})
	}
	errs := make([]error, len(descs))
	sem := make(chan struct{}, layerJobs)
	var wg sync.WaitGroup
	for i, d := range descs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			defer func() { <-sem }()
			rep := func(done int64, status string) {
				report(Progress{Layer: d.Digest, Status: status, Current: done, Total: d.Size})
			}
			if err := s.putLayer(img, d, diffIDs[i], rep); err != nil {
				errs[i] = fmt.Errorf("storing layer %s: %w", d.Digest, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// putLayer stores the layer desc names: its compressed blob, checked
// against the descriptor's digest and size, and its unpacked tree, whose
// uncompressed stream must hash to diffID. Both are made in a private
// directory under tmp and renamed into place, blob first, so a layer or
// blob that exists is complete. What exists already is not fetched again;
// a blob left by a pull killed before its layer was unpacked is unpacked
// from disk.
func (s *Store) putLayer(img v1.Image, desc v1.Descriptor, diffID v1.Hash, report func(int64, string)) error {
	if err := checkHash(desc.Digest); err != nil {
		return err
	}
	if desc.Size < 0 || desc.Size > s.Limits.MaxBytes {
		return fmt.Errorf("layer size %d is past the limit of %d bytes: %w", desc.Size, s.Limits.MaxBytes, ErrUnsafeLayer)
	}
	unlock, err := s.lockLayer(diffID)
	if err != nil {
		return err
	}
	defer unlock()
	haveLayer, haveBlob := exists(s.layerPath(diffID)), exists(s.blobPath(desc.Digest))
	if haveLayer && haveBlob {
		report(desc.Size, StatusExists)
		return nil
	}
	rc, err := s.openLayer(img, desc.Digest, haveBlob)
	if err != nil {
		return err
	}
	defer rc.Close()
	tmp, err := os.MkdirTemp(filepath.Join(s.Dir, "tmp"), "layer-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	w := &layerWrite{store: s, desc: desc, diffID: diffID, tmp: tmp, report: report}
	if err := w.run(rc, haveBlob, haveLayer); err != nil {
		return err
	}
	report(desc.Size, StatusComplete)
	return nil
}

// openLayer opens the compressed stream of a layer: the stored blob if
// there is one, else the source's.
func (s *Store) openLayer(img v1.Image, digest v1.Hash, haveBlob bool) (io.ReadCloser, error) {
	if haveBlob {
		return os.Open(s.blobPath(digest))
	}
	l, err := img.LayerByDigest(digest)
	if err != nil {
		return nil, fmt.Errorf("finding layer: %w", err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, fmt.Errorf("fetching layer: %w", err)
	}
	return rc, nil
}

// layerWrite is one layer on its way into the store.
type layerWrite struct {
	store  *Store
	desc   v1.Descriptor
	diffID v1.Hash
	tmp    string
	report func(int64, string)
}

func (w *layerWrite) run(rc io.Reader, haveBlob, haveLayer bool) error {
	blob := filepath.Join(w.tmp, "blob")
	tree := filepath.Join(w.tmp, "layer")
	sink := io.Discard
	var f *os.File
	if !haveBlob {
		var err error
		if f, err = os.OpenFile(blob, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600); err != nil {
			return err
		}
		defer f.Close()
		sink = f
	}
	compressed := sha256.New()
	counted := &countReader{r: io.LimitReader(rc, w.desc.Size+1), report: w.report}
	stream := io.TeeReader(counted, io.MultiWriter(compressed, sink))
	uncompressed := sha256.New()
	uerr := w.unpack(stream, tree, uncompressed, haveLayer)
	// Whatever follows the compressed data still counts for its digest.
	if _, err := io.Copy(io.Discard, stream); err != nil {
		return errors.Join(uerr, fmt.Errorf("reading layer: %w", err))
	}
	// A blob that is not what the manifest names explains any unpack error.
	if counted.n != w.desc.Size {
		return fmt.Errorf("layer blob has %d bytes or more, the manifest says %d", counted.n, w.desc.Size)
	}
	if got := "sha256:" + hex.EncodeToString(compressed.Sum(nil)); got != w.desc.Digest.String() {
		return fmt.Errorf("layer blob has digest %s, the manifest says %s", got, w.desc.Digest)
	}
	if uerr != nil {
		return uerr
	}
	if got := hex.EncodeToString(uncompressed.Sum(nil)); got != w.diffID.Hex {
		return fmt.Errorf("layer content has diffID sha256:%s, the config says %s", got, w.diffID)
	}
	if f != nil {
		if err := f.Sync(); err != nil {
			return err
		}
		if err := os.Rename(blob, w.store.blobPath(w.desc.Digest)); err != nil {
			return err
		}
	}
	if haveLayer {
		return nil
	}
	err := os.Rename(tree, w.store.layerPath(w.diffID))
	if errors.Is(err, unix.EEXIST) || errors.Is(err, unix.ENOTEMPTY) {
		return nil // another writer finished it first
	}
	return err
}

// unpack decompresses stream (gzip, zstd or none, told by content) and
// unpacks it into tree, or, when the layer is already there, only hashes
// it, within the same limits.
func (w *layerWrite) unpack(stream io.Reader, tree string, h io.Writer, haveLayer bool) error {
	l, err := partial.CompressedToLayer(&streamLayer{r: stream, desc: w.desc})
	if err != nil {
		return err
	}
	urc, err := l.Uncompressed()
	if err != nil {
		return fmt.Errorf("decompressing layer: %w", err)
	}
	defer urc.Close()
	r := io.TeeReader(urc, h)
	if haveLayer {
		lr := &limitedReader{r: r, left: w.store.Limits.MaxBytes, max: w.store.Limits.MaxBytes}
		_, err := io.Copy(io.Discard, lr)
		return err
	}
	if err := os.Mkdir(tree, 0o755); err != nil {
		return err
	}
	return unpack(tree, r, w.store.Limits, w.store.Log)
}

// streamLayer hands one already open compressed stream to
// partial.CompressedToLayer, which tells gzip from zstd from plain tar.
type streamLayer struct {
	r    io.Reader
	desc v1.Descriptor
}

func (l *streamLayer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *streamLayer) Compressed() (io.ReadCloser, error)  { return io.NopCloser(l.r), nil }
func (l *streamLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *streamLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }

// countReader counts what passes and reports it.
type countReader struct {
	r      io.Reader
	n      int64
	report func(int64, string)
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if n > 0 {
		c.report(c.n, StatusDownloading)
	}
	return n, err
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}
