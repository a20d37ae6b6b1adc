package image

import (
	"archive/tar"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/podrun/podrun/internal/demoimage"
	"github.com/podrun/podrun/internal/testenv"
)

// TestLoadUncompressedDockerSave loads an archive laid out as classic
// `docker save` writes it: uncompressed layer.tar files, two RepoTags.
func TestLoadUncompressedDockerSave(t *testing.T) {
	testenv.RequireFile(t, "/usr/bin/busybox", "apt-get install busybox-static")
	img, err := demoimage.Image("/usr/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	config, err := img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	layers, _ := img.Layers()
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	layer, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	manifest, _ := json.Marshal([]map[string]any{{
		"Config":   "config.json",
		"RepoTags": []string{"busybox:latest", "localhost/podrun/busybox:demo"},
		"Layers":   []string{"abc/layer.tar"},
	}})
	p := filepath.Join(t.TempDir(), "save.tar")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	for _, e := range []struct {
		name string
		data []byte
	}{{"abc/layer.tar", layer}, {"config.json", config}, {"manifest.json", manifest}} {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(e.data)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	s := openStore(t)
	refs, err := s.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"docker.io/library/busybox:latest", demoRef}
	if diff := cmp.Diff(want, refs); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
	a, err := s.Get("busybox")
	if err != nil {
		t.Fatal(err)
	}
	checkDemo(t, a)
}
