package image

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/podrun/podrun/internal/testregistry"
)

// recorder keeps the progress a pull reports.
type recorder struct {
	mu     sync.Mutex
	status map[string]int
}

func (r *recorder) report(p Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.status == nil {
		r.status = map[string]int{}
	}
	r.status[p.Status]++
}

func TestPullByTagAndDigest(t *testing.T) {
	reg := testregistry.Start(t, "", "")
	ref := reg.Push(t, "podrun/busybox:demo", testregistry.Demo(t))
	s := openStore(t)
	var rec recorder
	img, err := s.Pull(context.Background(), ref, PullOptions{Progress: rec.report})
	if err != nil {
		t.Fatal(err)
	}
	checkDemo(t, img)
	if rec.status[StatusDownloading] == 0 || rec.status[StatusComplete] != 1 {
		t.Errorf("progress %v", rec.status)
	}
	// Again: one manifest request, nothing downloaded.
	var again recorder
	if _, err := s.Pull(context.Background(), ref, PullOptions{Progress: again.report}); err != nil {
		t.Fatal(err)
	}
	if again.status[StatusDownloading] != 0 || again.status[StatusExists] != 1 {
		t.Errorf("second pull progress %v", again.status)
	}
	byDigest := strings.TrimSuffix(ref, ":demo") + "@" + img.Digest
	other := openStore(t)
	got, err := other.Pull(context.Background(), byDigest, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != img.Digest || got.Ref != byDigest {
		t.Errorf("pulled by digest %s as %s, want %s", got.Digest, got.Ref, img.Digest)
	}
	if _, err := other.Get(byDigest); err != nil {
		t.Errorf("Get by digest: %v", err)
	}
}

func TestPullMissing(t *testing.T) {
	reg := testregistry.Start(t, "", "")
	_, err := openStore(t).Pull(context.Background(), reg.Addr+"/no/such:image", PullOptions{})
	if err == nil || !strings.Contains(err.Error(), "MANIFEST_UNKNOWN") {
		t.Errorf("pull of a missing image: %v", err)
	}
	if errors.Is(err, ErrUnsafeLayer) {
		t.Error(err)
	}
}

// TestPullIndex pulls a multi-arch index: this machine's image is taken,
// the other architecture's is never fetched.
func TestPullIndex(t *testing.T) {
	reg := testregistry.Start(t, "", "")
	demo := testregistry.Demo(t)
	fake, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: fake, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "podrunfake"}}},
		mutate.IndexAddendum{Add: demo, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: runtime.GOARCH}}},
	)
	ref := reg.PushIndex(t, "podrun/multi:1", idx)
	s := openStore(t)
	img, err := s.Pull(context.Background(), ref, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkDemo(t, img)
	want, _ := demo.Digest()
	if img.Digest != want.String() {
		t.Errorf("pulled %s, want this machine's image %s", img.Digest, want)
	}
	idxDigest, _ := idx.Digest()
	if _, err := s.Pull(context.Background(), strings.TrimSuffix(ref, ":1")+"@"+idxDigest.String(), PullOptions{}); err != nil {
		t.Errorf("pull of the index by digest: %v", err)
	}
}

func TestPullAuth(t *testing.T) {
	t.Setenv("HOME", t.TempDir()) // no ~/.docker/config.json of the machine's
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	t.Setenv("REGISTRY_AUTH_FILE", "")
	reg := testregistry.Start(t, "podrun", "s3cret")
	ref := reg.Push(t, "private/busybox:demo", testregistry.Demo(t))
	good := dockerConfig(reg.Addr, "podrun", "s3cret")
	bad := dockerConfig(reg.Addr, "podrun", "wrong")
	authFile := filepath.Join(t.TempDir(), "auth.json")
	if err := os.WriteFile(authFile, good, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		opts     PullOptions
		authFile string
		ok       bool
	}{
		{"anonymous", PullOptions{}, "", false},
		{"creds", PullOptions{Creds: "podrun:s3cret"}, "", true},
		{"wrong creds", PullOptions{Creds: "podrun:nope"}, "", false},
		{"pull secret", PullOptions{PullSecrets: [][]byte{good}}, "", true},
		{"second pull secret", PullOptions{PullSecrets: [][]byte{dockerConfig("other.example", "x", "y"), good}}, "", true},
		{"wrong pull secret", PullOptions{PullSecrets: [][]byte{bad}}, "", false},
		{"REGISTRY_AUTH_FILE", PullOptions{}, authFile, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("REGISTRY_AUTH_FILE", tt.authFile)
			_, err := openStore(t).Pull(context.Background(), ref, tt.opts)
			if tt.ok && err != nil {
				t.Fatal(err)
			}
			if !tt.ok && (err == nil || !strings.Contains(err.Error(), "UNAUTHORIZED")) {
				t.Fatalf("pull: %v, want UNAUTHORIZED", err)
			}
		})
	}
	// Docker's config, as go-containerregistry finds it ($DOCKER_CONFIG,
	// else ~/.docker, read once per process by docker/cli).
	t.Run("docker config.json", func(t *testing.T) {
		dir := t.TempDir()
		t.Setenv("DOCKER_CONFIG", dir)
		if err := os.WriteFile(filepath.Join(dir, "config.json"), good, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := openStore(t).Pull(context.Background(), ref, PullOptions{}); err != nil {
			t.Fatal(err)
		}
	})
}

func dockerConfig(host, user, pass string) []byte {
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	return []byte(`{"auths":{"` + host + `":{"auth":"` + auth + `"}}}`)
}

// TestPullCutMidBlob pulls through a proxy that drops the connection half
// way through the first layer blob: the pull fails, the store holds
// nothing of it, and the next pull succeeds.
func TestPullCutMidBlob(t *testing.T) {
	reg := testregistry.Start(t, "", "")
	demo := testregistry.Demo(t)
	reg.Push(t, "podrun/busybox:demo", demo)
	layers, _ := demo.Layers()
	layerDigest, _ := layers[0].Digest()
	proxy := cuttingProxy(t, reg.Addr, "/blobs/"+layerDigest.String())
	ref := proxy + "/podrun/busybox:demo"
	s := openStore(t)
	_, err := s.Pull(context.Background(), ref, PullOptions{})
	if err == nil {
		t.Fatal("pull through a cut connection succeeded")
	}
	for _, d := range []string{"blobs/sha256", "layers/sha256", "tmp"} {
		if des, _ := os.ReadDir(filepath.Join(s.Dir, d)); len(des) != 0 {
			t.Errorf("%s holds %v after the failed pull", d, des)
		}
	}
	if _, err := s.Get(ref); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after the failed pull: %v", err)
	}
	img, err := s.Pull(context.Background(), ref, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkDemo(t, img)
}

// cuttingProxy is a reverse proxy on 127.0.0.1 in front of upstream. The
// first response whose path ends in cut is sent half, then the
// connection is dropped.
func cuttingProxy(t *testing.T, upstream, cut string) string {
	t.Helper()
	target, _ := url.Parse("http://" + upstream)
	rp := httputil.NewSingleHostReverseProxy(target)
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cutNow := false
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, cut) {
			once.Do(func() { cutNow = true })
		}
		if !cutNow {
			rp.ServeHTTP(w, r)
			return
		}
		resp, err := http.Get("http://" + upstream + r.URL.Path)
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Length", strconv.FormatInt(resp.ContentLength, 10))
		w.WriteHeader(resp.StatusCode)
		io.CopyN(w, resp.Body, resp.ContentLength/2)
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // drops the connection
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestPullConcurrent pulls one image into one store from two store
// values (two flock holders, as two processes are) at once: both
// succeed and the layer is stored once.
func TestPullConcurrent(t *testing.T) {
	reg := testregistry.Start(t, "", "")
	ref := reg.Push(t, "podrun/busybox:demo", testregistry.Demo(t))
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(dir)
			if err == nil {
				_, err = s.Pull(context.Background(), ref, PullOptions{})
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	s, _ := Open(dir)
	checkDemo(t, mustGet(t, s, ref))
	if des, _ := os.ReadDir(filepath.Join(dir, "layers/sha256")); len(des) != 1 {
		t.Errorf("layers %v, want one", des)
	}
	if des, _ := os.ReadDir(filepath.Join(dir, "blobs/sha256")); len(des) != 3 {
		t.Errorf("blobs %v, want manifest, config, layer", des)
	}
}

func mustGet(t *testing.T, s *Store, ref string) *Image {
	t.Helper()
	img, err := s.Get(ref)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestPullLimits serves a fake registry on 127.0.0.1 whose manifests and
// configs are past the limits: the pull fails before reading them.
func TestPullLimits(t *testing.T) {
	huge := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:` +
		strings.Repeat("a", 64) + `","size":1073741824},"layers":[]}`
	configFetched := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v2/":
		case strings.HasSuffix(r.URL.Path, "/manifests/big"):
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.Write([]byte(`{"schemaVersion":2,` + strings.Repeat(" ", 5<<20) + `}`))
		case strings.HasSuffix(r.URL.Path, "/manifests/hugeconfig"):
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.Write([]byte(huge))
		case strings.Contains(r.URL.Path, "/blobs/"):
			configFetched = true
			w.WriteHeader(http.StatusNotFound)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, tag := range []string{"big", "hugeconfig"} {
		_, err := openStore(t).Pull(context.Background(), host+"/x/y:"+tag, PullOptions{})
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v, want ErrTooLarge", tag, err)
		}
	}
	if configFetched {
		t.Error("the oversized config was fetched")
	}
}

// TestPullRefusesPlainHTTP: a registry not on loopback and not marked
// insecure is never spoken to over plain HTTP.
func TestPullRefusesPlainHTTP(t *testing.T) {
	called := false
	base := roundTripFunc(func(*http.Request) (*http.Response, error) { called = true; return nil, errors.New("no") })
	g := &guard{base: base, insecure: func(h string) bool { return loopback(h) || h == "marked.example:5000" }, maxManifest: 1 << 20}
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"http://registry.example/v2/", false},
		{"http://10.0.0.1:5000/v2/", false},
		{"http://marked.example:5000/v2/", true},
		{"http://127.0.0.1:5000/v2/", true},
		{"http://localhost/v2/", true},
		{"http://[::1]:5000/v2/", true},
		{"https://registry.example/v2/", true},
	} {
		called = false
		req, _ := http.NewRequest(http.MethodGet, tt.url, nil)
		_, err := g.RoundTrip(req)
		if called != tt.ok {
			t.Errorf("%s: reached the transport %v, want %v (%v)", tt.url, called, tt.ok, err)
		}
		if !tt.ok && !strings.Contains(fmt.Sprint(err), "--insecure-registry") {
			t.Errorf("%s: error %v does not say what to do", tt.url, err)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
