package image

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// PullOptions say how to reach a registry.
type PullOptions struct {
	// Creds, "user:password", are used for the image's registry before
	// any other credentials.
	Creds string
	// PullSecrets are .dockerconfigjson payloads (a pod's
	// imagePullSecrets), tried in order after Creds.
	PullSecrets [][]byte
	// Insecure names registries ("host" or "host:port") that may be
	// reached over plain HTTP. Loopback registries (localhost, 127.0.0.0/8,
	// ::1) always may, as Docker allows; no other registry may.
	Insecure []string
	// Progress, if set, is told of every layer's progress, from several
	// goroutines at once.
	Progress func(Progress)
	// Transport, if set, replaces the default HTTP transport (tests).
	Transport http.RoundTripper
}

// Pull fetches ref from its registry into the store and returns it. For
// an index, the image for this machine (linux/GOARCH) is taken. Layers
// the store holds already are not fetched again; several layers are
// fetched and unpacked at once. Pulling an image that is up to date costs
// one manifest request.
func (s *Store) Pull(ctx context.Context, ref string, o PullOptions) (*Image, error) {
	norm, err := Normalize(ref)
	if err != nil {
		return nil, err
	}
	img, want, err := s.fetch(ctx, norm, o)
	if err != nil {
		return nil, fmt.Errorf("pulling %s: %w", norm, err)
	}
	unlock, err := s.share()
	if err != nil {
		return nil, err
	}
	defer unlock()
	report := o.Progress
	if report == nil {
		report = func(Progress) {}
	}
	digest, err := s.put(ctx, source{refs: []string{norm}, img: img, want: want}, report)
	if err != nil {
		return nil, fmt.Errorf("pulling %s: %w", norm, err)
	}
	if err := s.record(map[string]string{norm: digest.String()}); err != nil {
		return nil, err
	}
	got, err := s.image(norm, digest.String())
	if err != nil {
		return nil, fmt.Errorf("pulling %s: %w", norm, err)
	}
	return got, nil
}

// fetch resolves norm at its registry to one image manifest: the image
// itself, or this machine's entry of an index.
func (s *Store) fetch(ctx context.Context, norm string, o PullOptions) (v1.Image, v1.Hash, error) {
	insecure := func(host string) bool { return loopback(host) || slices.Contains(o.Insecure, host) }
	var nameOpts []name.Option
	if r, err := name.ParseReference(norm); err == nil && insecure(r.Context().RegistryStr()) {
		nameOpts = append(nameOpts, name.Insecure)
	}
	r, err := name.ParseReference(norm, nameOpts...)
	if err != nil {
		return nil, v1.Hash{}, err
	}
	kc, err := keychain(o)
	if err != nil {
		return nil, v1.Hash{}, err
	}
	base := o.Transport
	if base == nil {
		base = remote.DefaultTransport
	}
	tr := &guard{base: base, insecure: insecure, maxManifest: s.Limits.MaxManifestBytes}
	desc, err := remote.Get(r,
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(kc),
		remote.WithTransport(tr),
		remote.WithPlatform(v1.Platform{OS: "linux", Architecture: runtime.GOARCH}),
	)
	if err != nil {
		return nil, v1.Hash{}, err
	}
	switch {
	case desc.MediaType.IsImage():
		img, err := desc.Image()
		return img, desc.Digest, err
	case desc.MediaType.IsIndex():
		img, err := desc.Image() // the child for the platform asked for
		if err != nil {
			return nil, v1.Hash{}, fmt.Errorf("choosing linux/%s from index %s: %w", runtime.GOARCH, desc.Digest, err)
		}
		d, err := img.Digest()
		return img, d, err
	}
	return nil, v1.Hash{}, fmt.Errorf("unsupported manifest type %q", desc.MediaType)
}

// loopback reports whether host (with or without a port) is this machine.
func loopback(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// guard is the transport under every pull. It refuses plain HTTP to a
// registry not marked insecure (go-containerregistry would fall back to
// it for private addresses) and cuts manifests past the limit before
// they are read into memory.
type guard struct {
	base        http.RoundTripper
	insecure    func(host string) bool
	maxManifest int64
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !g.insecure(req.URL.Host) {
		return nil, fmt.Errorf("registry %s answers only over plain HTTP: if you trust the network to it, mark it insecure (--insecure-registry %s)", req.URL.Host, req.URL.Host)
	}
	resp, err := g.base.RoundTrip(req)
	if err != nil || !strings.Contains(req.URL.Path, "/manifests/") {
		return resp, err
	}
	if resp.ContentLength > g.maxManifest {
		resp.Body.Close()
		return nil, fmt.Errorf("manifest of %d bytes is past the limit of %d: %w", resp.ContentLength, g.maxManifest, ErrTooLarge)
	}
	resp.Body = &limitedBody{rc: resp.Body, left: g.maxManifest}
	return resp, nil
}

// limitedBody fails, rather than stops, past its limit.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, fmt.Errorf("manifest is past the limit: %w", ErrTooLarge)
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
