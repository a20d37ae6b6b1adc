package image

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/podrun/podrun/internal/demoimage"
	"github.com/podrun/podrun/internal/testenv"
)

const demoRef = demoimage.Ref

// demoArchive writes the demo image as a docker-archive.
func demoArchive(t *testing.T) string {
	t.Helper()
	testenv.RequireFile(t, "/usr/bin/busybox", "apt-get install busybox-static")
	p := filepath.Join(t.TempDir(), "demo.tar")
	if err := demoimage.Write(p, "/usr/bin/busybox"); err != nil {
		t.Fatal(err)
	}
	return p
}

func openStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func load(t *testing.T, s *Store, p string) *Image {
	t.Helper()
	refs, err := s.Load(p)
	if err != nil {
		t.Fatalf("Load(%s): %v", p, err)
	}
	if diff := cmp.Diff([]string{demoRef}, refs); diff != "" {
		t.Fatalf("Load refs (-want +got):\n%s", diff)
	}
	img, err := s.Get(demoRef)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func checkDemo(t *testing.T, img *Image) {
	t.Helper()
	want := Config{Env: demoimage.Env, Cmd: []string{"sh"}}
	if diff := cmp.Diff(want, img.Config); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	if len(img.Layers) != 1 {
		t.Fatalf("layers %v", img.Layers)
	}
	l := img.Layers[0]
	if fi, err := os.Lstat(filepath.Join(l, "bin/busybox")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("bin/busybox: %v %v", fi, err)
	}
	if to, _ := os.Readlink(filepath.Join(l, "bin/sh")); to != "/bin/busybox" {
		t.Errorf("bin/sh -> %q", to)
	}
	if b, _ := os.ReadFile(filepath.Join(l, "www/index.html")); string(b) != demoimage.Index {
		t.Errorf("index.html %q", b)
	}
	if fi, _ := os.Stat(filepath.Join(l, "tmp")); fi == nil || fi.Mode() != os.ModeDir|os.ModeSticky|0o777 {
		t.Errorf("tmp mode %v", fi)
	}
}

func TestLoadDockerArchive(t *testing.T) {
	s := openStore(t)
	img := load(t, s, demoArchive(t))
	checkDemo(t, img)
	if img.Ref != demoRef || !strings.HasPrefix(img.Digest, "sha256:") || img.Size == 0 {
		t.Errorf("image %+v", img)
	}
}

func TestLoadOCIArchiveFromDemoimage(t *testing.T) {
	testenv.RequireFile(t, "/usr/bin/busybox", "apt-get install busybox-static")
	p := filepath.Join(t.TempDir(), "demo-oci.tar")
	if err := demoimage.WriteFormat(p, "/usr/bin/busybox", demoimage.OCI); err != nil {
		t.Fatal(err)
	}
	checkDemo(t, load(t, openStore(t), p))
}

// TestLoadSkopeoFormats loads the demo image as written by skopeo in each
// format; all give the same config and the same, shared, layer.
func TestLoadSkopeoFormats(t *testing.T) {
	skopeo := testenv.RequireBinary(t, "skopeo")[0]
	src := demoArchive(t)
	dir := t.TempDir()
	ociTar, ociDir := filepath.Join(dir, "oci.tar"), filepath.Join(dir, "layout")
	for _, dst := range []string{"oci-archive:" + ociTar + ":" + demoRef, "oci:" + ociDir + ":" + demoRef} {
		out, err := exec.Command(skopeo, "--insecure-policy", "copy", "-q", "docker-archive:"+src, dst).CombinedOutput()
		if err != nil {
			t.Fatalf("skopeo copy to %s: %v\n%s", dst, err, out)
		}
	}
	s := openStore(t)
	first := load(t, s, src)
	checkDemo(t, first)
	for _, p := range []string{ociTar, ociDir} {
		img := load(t, s, p)
		checkDemo(t, img)
		if diff := cmp.Diff(first.Layers, img.Layers); diff != "" {
			t.Errorf("%s: layers differ (-docker +oci):\n%s", p, diff)
		}
	}
	layers, _ := os.ReadDir(filepath.Join(s.Dir, "layers/sha256"))
	if len(layers) != 1 {
		t.Errorf("%d layer dirs, want 1 shared", len(layers))
	}
}

func TestLoadTwiceIsIdempotent(t *testing.T) {
	s := openStore(t)
	p := demoArchive(t)
	a := load(t, s, p)
	index, _ := os.ReadFile(s.indexPath())
	b := load(t, s, p)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("second load differs:\n%s", diff)
	}
	if again, _ := os.ReadFile(s.indexPath()); string(again) != string(index) {
		t.Errorf("index changed:\n%s\n%s", index, again)
	}
	tmp, _ := os.ReadDir(filepath.Join(s.Dir, "tmp"))
	if len(tmp) != 0 {
		t.Errorf("tmp not empty: %v", tmp)
	}
}

// TestConcurrentLoads loads through two Store values, as two podrun
// processes would: flock excludes across open files, even in one process.
func TestConcurrentLoads(t *testing.T) {
	dir := t.TempDir()
	p := demoArchive(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(dir)
			if err == nil {
				_, err = s.Load(p)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	s, _ := Open(dir)
	list, err := s.List()
	if err != nil || len(list) != 1 || list[0].Ref != demoRef {
		t.Errorf("List: %v %v", list, err)
	}
}

func TestGetMissing(t *testing.T) {
	_, err := openStore(t).Get("busybox")
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get: %v", err)
	}
	for _, want := range []string{"docker.io/library/busybox:latest", "podrun image load -i FILE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestGetByDigestListRemove(t *testing.T) {
	s := openStore(t)
	img := load(t, s, demoArchive(t))
	byDigest, err := s.Get("localhost/podrun/busybox@" + img.Digest)
	if err != nil || byDigest.Digest != img.Digest {
		t.Fatalf("Get by digest: %v %v", byDigest, err)
	}
	list, err := s.List()
	if err != nil || len(list) != 1 || list[0].Digest != img.Digest || list[0].Size != img.Size {
		t.Fatalf("List: %+v %v", list, err)
	}
	if err := s.Remove(demoRef); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(demoRef); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Remove: %v", err)
	}
	if err := s.Remove(demoRef); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Remove: %v", err)
	}
}

// writeLayout writes a random image into an OCI layout, annotated ann.
func writeLayout(t *testing.T, ann map[string]string) string {
	t.Helper()
	img, err := random.Image(100, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(img, layout.WithAnnotations(ann)); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLoadNeedsAName(t *testing.T) {
	for _, ann := range []map[string]string{nil, {ociRefName: "latest"}} {
		_, err := openStore(t).Load(writeLayout(t, ann))
		if !errors.Is(err, ErrNoName) {
			t.Errorf("annotations %v: %v, want ErrNoName", ann, err)
		}
	}
	refs, err := openStore(t).Load(writeLayout(t, map[string]string{containerdName: "example.com/x:1"}))
	if err != nil || len(refs) != 1 || refs[0] != "example.com/x:1" {
		t.Errorf("containerd name: %v %v", refs, err)
	}
}

func TestLoadRefusesTampering(t *testing.T) {
	dir := writeLayout(t, map[string]string{ociRefName: "example.com/x:1"})
	lp, _ := layout.FromPath(dir)
	ii, _ := lp.ImageIndex()
	im, _ := ii.IndexManifest()
	img, _ := ii.Image(im.Manifests[0].Digest)
	cfgName, _ := img.ConfigName()
	corrupt(t, filepath.Join(dir, "blobs", cfgName.Algorithm, cfgName.Hex))
	if _, err := openStore(t).Load(dir); err == nil || !strings.Contains(err.Error(), "config") {
		t.Errorf("tampered config loaded: %v", err)
	}
	corrupt(t, filepath.Join(dir, "blobs", "sha256", im.Manifests[0].Digest.Hex))
	if _, err := openStore(t).Load(dir); err == nil {
		t.Error("tampered manifest loaded")
	}
}

func corrupt(t *testing.T, p string) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, ' ')
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLoadRefusesBadLayerDiffID swaps a layer blob for another one: the
// blob no longer matches the size and digest the manifest names.
func TestLoadRefusesBadLayerDiffID(t *testing.T) {
	dir := writeLayout(t, map[string]string{ociRefName: "example.com/x:1"})
	lp, _ := layout.FromPath(dir)
	ii, _ := lp.ImageIndex()
	im, _ := ii.IndexManifest()
	img, _ := ii.Image(im.Manifests[0].Digest)
	ls, _ := img.Layers()
	d, _ := ls[0].Digest()
	other, err := random.Layer(100, types.OCILayer)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := other.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "blobs/sha256", d.Hex), data, 0o644); err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	if _, err := s.Load(dir); err == nil || !strings.Contains(err.Error(), "the manifest says") {
		t.Errorf("layer with wrong content loaded: %v", err)
	}
	if layers, _ := os.ReadDir(filepath.Join(s.Dir, "layers/sha256")); len(layers) != 0 {
		t.Errorf("bad layer kept: %v", layers)
	}
}

func TestNormalize(t *testing.T) {
	tests := map[string]string{
		"busybox":                         "docker.io/library/busybox:latest",
		"busybox:1.36":                    "docker.io/library/busybox:1.36",
		"docker.io/busybox":               "docker.io/library/busybox:latest",
		"index.docker.io/library/busybox": "docker.io/library/busybox:latest",
		"user/app:v1":                     "docker.io/user/app:v1",
		"localhost/podrun/busybox:demo":   "localhost/podrun/busybox:demo",
		"localhost:5000/a/b":              "localhost:5000/a/b:latest",
		"quay.io/x/y@sha256:" + strings.Repeat("a", 64): "quay.io/x/y@sha256:" + strings.Repeat("a", 64),
	}
	for in, want := range tests {
		got, err := Normalize(in)
		if err != nil || got != want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"UPPER/case", "", "../../x", "../x", "x/..", "a/../b", "a/./b", "./x", "/x", "a//b", "x/", "a\x00b", "a\nb",
	} {
		if got, err := Normalize(in); err == nil || !strings.HasPrefix(err.Error(), fmt.Sprintf("invalid image reference %q: ", in)) {
			t.Errorf("Normalize(%q) = %q, %v; want an invalid image reference", in, got, err)
		} else if strings.Count(err.Error(), strconv.Quote(in)) != 1 {
			t.Errorf("Normalize(%q): %q names the reference more than once", in, err)
		}
	}
}

// TestOpenStoreIsOwnerOnly: the store is 0700 however it was made before,
// so no host user reaches a layer's setuid files or device nodes
// (CVE-2021-41103).
func TestOpenStoreIsOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "images")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{".", "layers", "layers/sha256", "blobs", "tmp"} {
		fi, err := os.Stat(filepath.Join(dir, d))
		if err != nil {
			t.Fatal(err)
		}
		if d == "." && fi.Mode().Perm() != 0o700 || fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s: mode %v, want 0700", d, fi.Mode())
		}
	}
}
