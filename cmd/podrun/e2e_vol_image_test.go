package main

import (
	"archive/tar"
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/podrun/podrun/internal/testregistry"
)

// TestVolumeImageVolume: a VOLUME in the image config becomes an
// anonymous volume per container, filled from the image as containerd
// fills it, writable even where the image's own layer would be, and gone
// with the pod.
func TestVolumeImageVolume(t *testing.T) {
	e := newEnv(t)
	const ref = "localhost/podrun/with-volume:v1"
	archive := filepath.Join(t.TempDir(), "image.tar")
	writeVolumeImage(t, ref, archive)
	e.must("image", "load", "-i", archive)

	script := "cat /data/seed.txt; echo written > /data/new; cat /data/new; grep -c ' /data ' /proc/self/mountinfo"
	c := strings.Replace(container("main", script, "    imagePullPolicy: Never\n"), "localhost/podrun/busybox:demo", ref, 1)
	e.must("apply", "-f", e.manifest("pod.yaml", podYAML("vol", "  restartPolicy: Never\n", c)))
	eventually(t, 10*time.Second, func() error {
		if cs := e.pod("vol").Status.ContainerStatuses; len(cs) != 1 || cs[0].State.Terminated == nil {
			return errorf("not finished: %+v", cs)
		}
		return nil
	})
	if cs := e.pod("vol").Status.ContainerStatuses[0]; cs.State.Terminated.ExitCode != 0 {
		t.Errorf("container failed: %+v\n%s", cs.State.Terminated, e.must("logs", "vol"))
	}
	if out := e.must("logs", "vol"); out != "from the image\nwritten\n1\n" {
		t.Errorf("logs: %q, want the seeded file, the write and one mount at /data", out)
	}
	e.must("delete", "pod", "vol")
}

// writeVolumeImage writes a docker-archive of the demo image plus a layer
// holding /data/seed.txt, with VOLUME /data in its config.
func writeVolumeImage(t *testing.T, ref, path string) {
	t.Helper()
	img := demoPlusLayer(t, []layerEntry{
		{Header: tar.Header{Name: "data/", Typeflag: tar.TypeDir, Mode: 0o755}},
		{Header: tar.Header{Name: "data/seed.txt", Typeflag: tar.TypeReg, Mode: 0o644}, Data: "from the image\n"},
	})
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg := cf.Config
	cfg.Volumes = map[string]struct{}{"/data": {}}
	if img, err = mutate.Config(img, cfg); err != nil {
		t.Fatal(err)
	}
	writeArchive(t, ref, path, img)
}

// layerEntry is one entry of a test layer: a header and a file's content.
type layerEntry struct {
	tar.Header
	Data string
}

// demoPlusLayer is the demo image with one more layer made of entries.
func demoPlusLayer(t *testing.T, entries []layerEntry) v1.Image {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.Header
		h.Size = int64(len(e.Data))
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.Data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(buf.Bytes())), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(testregistry.Demo(t), layer)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// writeArchive writes img to path as a docker-archive tagged ref.
func writeArchive(t *testing.T, ref, path string, img v1.Image) {
	t.Helper()
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		t.Fatal(err)
	}
}
