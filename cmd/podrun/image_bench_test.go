package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/podrun/podrun/internal/testenv"
	"github.com/podrun/podrun/internal/testregistry"
)

// benchImage is the demo image with four more 8 MB layers, so that
// layers, not process starts, dominate.
func benchImage(b *testing.B) v1.Image {
	img := testregistry.Demo(b)
	for i := 0; i < 4; i++ {
		l, err := random.Layer(8<<20, types.DockerLayer)
		if err != nil {
			b.Fatal(err)
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			b.Fatal(err)
		}
	}
	return img
}

// BenchmarkImageLoad measures `podrun image load` of a docker-archive
// into an empty store against `tar -xzf` of the same layer blobs, side by
// side, and reports their ratio.
func BenchmarkImageLoad(b *testing.B) {
	testenv.RequireRoot(b)
	testenv.RequireBinary(b, "tar")
	bin, _ := binaries(b)
	img := benchImage(b)
	dir := b.TempDir()
	archive := filepath.Join(dir, "bench.tar")
	tag, _ := name.NewTag("localhost/podrun/bench:1")
	if err := tarball.WriteToFile(archive, tag, img); err != nil {
		b.Fatal(err)
	}
	blobs := layerBlobs(b, img, dir)
	var podrun, tarx time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		root := filepath.Join(dir, fmt.Sprint("root", i))
		start := time.Now()
		run(b, bin, "--root", root, "--run-root", filepath.Join(dir, "run"), "image", "load", "-i", archive)
		podrun += time.Since(start)
		out := filepath.Join(dir, fmt.Sprint("tar", i))
		start = time.Now()
		for j, blob := range blobs {
			d := filepath.Join(out, fmt.Sprint(j))
			os.MkdirAll(d, 0o755)
			run(b, "tar", "-xzf", blob, "-C", d)
		}
		tarx += time.Since(start)
		b.StopTimer()
		os.RemoveAll(root)
		os.RemoveAll(out)
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(float64(podrun.Milliseconds())/n, "podrun-load-ms")
	b.ReportMetric(float64(tarx.Milliseconds())/n, "tar-x-ms")
	b.ReportMetric(float64(podrun)/float64(tarx), "ratio")
}

// layerBlobs writes img's compressed layers to files.
func layerBlobs(b *testing.B, img v1.Image, dir string) []string {
	layers, err := img.Layers()
	if err != nil {
		b.Fatal(err)
	}
	var paths []string
	for i, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			b.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("layer%d.tar.gz", i))
		f, _ := os.Create(p)
		_, err = f.ReadFrom(rc)
		rc.Close()
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// BenchmarkImagePull measures `podrun image pull` from Debian's
// docker-registry on 127.0.0.1 into an empty store (download, verify,
// unpack) against `skopeo copy` of the same image to an OCI layout
// (download and verify; skopeo does not unpack), side by side.
func BenchmarkImagePull(b *testing.B) {
	testenv.RequireRoot(b)
	skopeo := testenv.RequireBinary(b, "skopeo")[0]
	bin, _ := binaries(b)
	reg := testregistry.Start(b, "", "")
	ref := reg.Push(b, "podrun/bench:1", benchImage(b))
	dir := b.TempDir()
	var podrun, sk time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		root := filepath.Join(dir, fmt.Sprint("root", i))
		start := time.Now()
		run(b, bin, "--root", root, "--run-root", filepath.Join(dir, "run"), "image", "pull", "-q", ref)
		podrun += time.Since(start)
		out := filepath.Join(dir, fmt.Sprint("oci", i))
		start = time.Now()
		run(b, skopeo, "--insecure-policy", "copy", "-q", "--src-tls-verify=false", "docker://"+ref, "oci:"+out+":bench")
		sk += time.Since(start)
		b.StopTimer()
		os.RemoveAll(root)
		os.RemoveAll(out)
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(float64(podrun.Milliseconds())/n, "podrun-pull-ms")
	b.ReportMetric(float64(sk.Milliseconds())/n, "skopeo-copy-ms")
	b.ReportMetric(float64(podrun)/float64(sk), "ratio")
}
