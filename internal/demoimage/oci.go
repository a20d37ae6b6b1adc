package demoimage

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// writeOCIArchive writes img as an OCI layout, named Ref by the ref.name
// annotation as skopeo does, and tars the layout into path.
func writeOCIArchive(path string, img v1.Image) error {
	dir, err := os.MkdirTemp("", "demoimage-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("writing OCI layout: %w", err)
	}
	ann := map[string]string{"org.opencontainers.image.ref.name": Ref}
	if err := lp.AppendImage(img, layout.WithAnnotations(ann)); err != nil {
		return fmt.Errorf("writing OCI layout: %w", err)
	}
	if err := tarDir(path, dir); err != nil {
		return fmt.Errorf("writing OCI archive %s: %w", path, err)
	}
	return nil
}

// tarDir writes the files under dir to the tar file path, in lexical
// order with fixed times and owners, so equal trees give equal bytes.
func tarDir(path, dir string) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(out)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		return addFile(tw, dir, p, d)
	})
	if cerr := tw.Close(); err == nil {
		err = cerr
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

func addFile(tw *tar.Writer, dir, p string, d fs.DirEntry) error {
	rel, err := filepath.Rel(dir, p)
	if err != nil {
		return err
	}
	hdr := &tar.Header{Name: filepath.ToSlash(rel), ModTime: Created, Mode: 0o644, Typeflag: tar.TypeReg}
	if d.IsDir() {
		hdr.Name += "/"
		hdr.Mode, hdr.Typeflag = 0o755, tar.TypeDir
		return tw.WriteHeader(hdr)
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	hdr.Size = fi.Size()
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}
