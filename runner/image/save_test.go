package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/podrun/podrun/internal/testenv"
)

// TestSaveRoundTrip saves the demo image in both formats and loads each
// into a fresh store: same digest, same image.
func TestSaveRoundTrip(t *testing.T) {
	s := openStore(t)
	orig := load(t, s, demoArchive(t))
	for _, format := range []string{DockerArchive, OCIArchive} {
		t.Run(format, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "out.tar")
			if err := s.Save(p, format, []string{demoRef}); err != nil {
				t.Fatal(err)
			}
			img := load(t, openStore(t), p)
			checkDemo(t, img)
			if img.Digest != orig.Digest {
				t.Errorf("saved image has digest %s, want %s", img.Digest, orig.Digest)
			}
		})
	}
	if err := s.Save(filepath.Join(t.TempDir(), "x.tar"), DockerArchive, []string{"nothing:here"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("save of a missing image: %v", err)
	}
}

// TestPodmanReadsSave: podman load accepts what Save writes, in both
// formats, and podman save's archives, in both formats, load here.
func TestPodmanReadsSave(t *testing.T) {
	pm := testenv.Podman(t)
	s := openStore(t)
	load(t, s, demoArchive(t))
	dir := t.TempDir()
	for _, format := range []string{DockerArchive, OCIArchive} {
		p := filepath.Join(dir, format+".tar")
		if err := s.Save(p, format, []string{demoRef}); err != nil {
			t.Fatal(err)
		}
		out := pm("load", "-i", p)
		if !strings.Contains(out, demoRef) {
			t.Errorf("podman load of our %s: %s", format, out)
		}
		pm("rmi", "-a", "-f")
	}
	pm("load", "-i", demoArchive(t))
	for _, format := range []string{"docker-archive", "oci-archive"} {
		p := filepath.Join(dir, "podman-"+format+".tar")
		pm("save", "--format", format, "-o", p, demoRef)
		checkDemo(t, load(t, openStore(t), p))
	}
}

// TestLoadRefusesGzipBomb: a gzip layer that inflates past the limit is
// refused with a clear error, and nothing of it stays.
func TestLoadRefusesGzipBomb(t *testing.T) {
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	tw.WriteHeader(&tar.Header{Name: "zeros", Mode: 0o644, Size: 8 << 20, Typeflag: tar.TypeReg})
	tw.Write(make([]byte, 8<<20))
	tw.Close()
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(tb.Bytes())
	zw.Close()
	data := gz.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	lp, _ := layout.Write(dir, empty.Index)
	if err := lp.AppendImage(img, layout.WithAnnotations(map[string]string{ociRefName: "example.com/bomb:1"})); err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	s.Limits.MaxBytes = 1 << 20
	_, err = s.Load(dir)
	if !errors.Is(err, ErrUnsafeLayer) || !strings.Contains(err.Error(), "limit of 1048576 bytes") {
		t.Fatalf("load of a gzip bomb: %v", err)
	}
	if len(data) > 1<<20/10 {
		t.Fatalf("the bomb is %d bytes compressed: not a bomb", len(data))
	}
	for _, d := range []string{"blobs/sha256", "layers/sha256", "tmp"} {
		if des, _ := os.ReadDir(filepath.Join(s.Dir, d)); len(des) != 0 {
			t.Errorf("%s holds %v after the refused load", d, des)
		}
	}
}

func TestPrune(t *testing.T) {
	s := openStore(t)
	demo := load(t, s, demoArchive(t))
	if _, err := s.Load(writeLayout(t, map[string]string{ociRefName: "example.com/other:1"})); err != nil {
		t.Fatal(err)
	}
	other := mustGet(t, s, "example.com/other:1")
	count := func() (int, int) {
		b, _ := os.ReadDir(filepath.Join(s.Dir, "blobs/sha256"))
		l, _ := os.ReadDir(filepath.Join(s.Dir, "layers/sha256"))
		return len(b), len(l)
	}
	if p, err := s.Prune(nil); err != nil || p != (Pruned{}) {
		t.Fatalf("prune with every image stored: %+v %v", p, err)
	}
	if err := s.Remove("example.com/other:1"); err != nil {
		t.Fatal(err)
	}
	// A pod still runs the removed image: its digest is kept.
	if p, err := s.Prune([]string{other.Digest}); err != nil || p != (Pruned{}) {
		t.Fatalf("prune keeping a pod's image: %+v %v", p, err)
	}
	p, err := s.Prune(nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Pruned{Blobs: 3, Layers: 1}, p); diff != "" {
		t.Errorf("pruned (-want +got):\n%s", diff)
	}
	if b, l := count(); b != 3 || l != 1 {
		t.Errorf("after prune: %d blobs, %d layers; want the demo's 3 and 1", b, l)
	}
	checkDemo(t, mustGet(t, s, demo.Ref))
}

func TestInspect(t *testing.T) {
	s := openStore(t)
	demo := load(t, s, demoArchive(t))
	in, err := s.Inspect("localhost/podrun/busybox:demo")
	if err != nil {
		t.Fatal(err)
	}
	if in.Digest != demo.Digest || len(in.Manifest.Layers) != 1 || len(in.Config.RootFS.DiffIDs) != 1 || in.Config.Config.Cmd[0] != "sh" {
		t.Errorf("inspect %+v", in)
	}
}

func TestParseAuth(t *testing.T) {
	b64 := "dTpw" // u:p
	tests := []struct {
		name, json, target string
		want               *authn.AuthConfig // nil: anonymous
	}{
		{"host", `{"auths":{"reg.example:5000":{"auth":"` + b64 + `"}}}`, "reg.example:5000/a/b", &authn.AuthConfig{Username: "u", Password: "p"}},
		{"scheme and slash", `{"auths":{"https://reg.example/":{"username":"u","password":"p"}}}`, "reg.example/a", &authn.AuthConfig{Username: "u", Password: "p"}},
		{"docker hub v1 key", `{"auths":{"https://index.docker.io/v1/":{"auth":"` + b64 + `"}}}`, "index.docker.io/library/busybox", &authn.AuthConfig{Username: "u", Password: "p"}},
		{"docker.io key", `{"auths":{"docker.io":{"auth":"` + b64 + `"}}}`, "index.docker.io/library/busybox", &authn.AuthConfig{Username: "u", Password: "p"}},
		{"path prefix", `{"auths":{"reg.example/team":{"auth":"` + b64 + `"},"reg.example":{"username":"x","password":"y"}}}`, "reg.example/team/app", &authn.AuthConfig{Username: "u", Password: "p"}},
		{"other path", `{"auths":{"reg.example/team":{"auth":"` + b64 + `"}}}`, "reg.example/teamx/app", nil},
		{"other host", `{"auths":{"reg.example":{"auth":"` + b64 + `"}}}`, "reg.example:5000/a", nil},
		{"dockercfg", `{"reg.example":{"auth":"` + b64 + `"}}`, "reg.example/a", &authn.AuthConfig{Username: "u", Password: "p"}},
		{"token", `{"auths":{"reg.example":{"identitytoken":"tok"}}}`, "reg.example/a", &authn.AuthConfig{IdentityToken: "tok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseAuth([]byte(tt.json))
			if err != nil {
				t.Fatal(err)
			}
			a, err := f.Resolve(resource(tt.target))
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == nil {
				if a != authn.Anonymous {
					t.Errorf("got credentials, want none")
				}
				return
			}
			got, err := a.Authorization()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{`not json`, `{"auths":{"r":{"auth":"!!"}}}`, `{"auths":{"r":{"auth":"bm9jb2xvbg=="}}}`} {
		if _, err := ParseAuth([]byte(bad)); err == nil {
			t.Errorf("ParseAuth(%s) accepted", bad)
		}
	}
}

type resource string

func (r resource) String() string { return string(r) }
func (r resource) RegistryStr() string {
	h, _, _ := strings.Cut(string(r), "/")
	return h
}

// TestLoadFinishesKilledWriter: a writer killed after renaming a layer's
// blob but before its tree, with work left in tmp, is finished by the
// next load, from the blob on disk, and tmp is emptied.
func TestLoadFinishesKilledWriter(t *testing.T) {
	s := openStore(t)
	archive := demoArchive(t)
	img := load(t, s, archive)
	if err := os.RemoveAll(img.Layers[0]); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(s.Dir, "tmp", "layer-killed")
	if err := os.MkdirAll(filepath.Join(junk, "layer", "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	checkDemo(t, load(t, s, archive))
	if des, _ := os.ReadDir(filepath.Join(s.Dir, "tmp")); len(des) != 0 {
		t.Errorf("tmp still holds %v", des)
	}
}

// TestUnpackRefusesHugeHeader: a PAX header past archive/tar's 1 MiB
// bound is an error, not an allocation of whatever size it claims.
func TestUnpackRefusesHugeHeader(t *testing.T) {
	value := strings.Repeat("x", 2<<20)
	record := fmt.Sprintf("%d podrun.test=%s\n", len(value)+len(" podrun.test=\n")+7, value)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	// Written as a regular file, then retyped as a PAX header ('x').
	if err := tw.WriteHeader(&tar.Header{Name: "pax", Mode: 0o644, Size: int64(len(record)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte(record))
	tw.Close()
	b := buf.Bytes()
	b[156] = tar.TypeXHeader
	copy(b[148:156], "        ")
	sum := 0
	for _, c := range b[:512] {
		sum += int(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
	err := unpack(t.TempDir(), bytes.NewReader(b), DefaultLimits, nil)
	if err == nil || !strings.Contains(err.Error(), "header field too long") {
		t.Errorf("unpack of a 2 MiB header: %v", err)
	}
}
