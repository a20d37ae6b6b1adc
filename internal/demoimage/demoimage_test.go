package demoimage

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/podrun/podrun/internal/testenv"
)

const busybox = "/usr/bin/busybox"

func TestImageIsReproducible(t *testing.T) {
	testenv.RequireFile(t, busybox, "apt-get install busybox-static")
	a, err := Image(busybox)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Image(busybox)
	if err != nil {
		t.Fatal(err)
	}
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db {
		t.Errorf("digests differ: %s %s", da, db)
	}
	cf, err := a.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !cf.Created.Equal(Created) || len(cf.Config.Cmd) != 1 || cf.Config.Cmd[0] != "sh" || cf.Config.Env[0] != Env[0] {
		t.Errorf("config %+v", cf)
	}
}

func TestWriteDockerArchive(t *testing.T) {
	testenv.RequireFile(t, busybox, "apt-get install busybox-static")
	p := filepath.Join(t.TempDir(), "demo.tar")
	if err := Write(p, busybox); err != nil {
		t.Fatal(err)
	}
	tag, _ := name.NewTag(Ref)
	img, err := tarball.ImageFromPath(p, &tag)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers %v %v", layers, err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[h.Name] = h
	}
	want := map[string]int64{"bin/busybox": 0o755, "etc/passwd": 0o644, "etc/group": 0o644,
		"tmp/": 0o1777, "www/index.html": 0o644}
	for n, mode := range want {
		if h := got[n]; h == nil || h.Mode != mode || h.Uid != 0 {
			t.Errorf("%s: %+v", n, h)
		}
	}
	if h := got["bin/sh"]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "/bin/busybox" {
		t.Errorf("bin/sh: %+v", h)
	}
}

func TestWriteFormatsAreReproducible(t *testing.T) {
	testenv.RequireFile(t, busybox, "apt-get install busybox-static")
	dir := t.TempDir()
	for _, f := range []Format{Docker, OCI} {
		a, b := filepath.Join(dir, "a-"+string(f)), filepath.Join(dir, "b-"+string(f))
		for _, p := range []string{a, b} {
			if err := WriteFormat(p, busybox, f); err != nil {
				t.Fatal(err)
			}
		}
		ba, _ := os.ReadFile(a)
		bb, _ := os.ReadFile(b)
		if string(ba) != string(bb) {
			t.Errorf("%s archives differ between runs", f)
		}
	}
	if err := WriteFormat(filepath.Join(dir, "x"), busybox, "zip"); err == nil {
		t.Error("unknown format accepted")
	}
}
