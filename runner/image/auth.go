package image

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
)

// AuthFile is a parsed docker config.json, podman auth.json or the
// payload of a kubernetes.io/dockerconfigjson Secret: credentials by
// registry.
type AuthFile struct {
	entries []authEntry
}

type authEntry struct {
	key  string // "host" or "host/path", normalised
	conf authn.AuthConfig
}

// ParseAuth reads the JSON of a docker config.json or of a
// .dockerconfigjson Secret key ({"auths": {REGISTRY: {...}}}), or the
// older .dockercfg form ({REGISTRY: {...}}). Each entry carries "auth"
// (base64 of user:password), or "username" and "password", or an
// "identitytoken".
func ParseAuth(data []byte) (*AuthFile, error) {
	var doc struct {
		Auths map[string]authConfig `json:"auths"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parsing registry credentials: %w", err)
	}
	if doc.Auths == nil {
		// .dockercfg: the registries at the top level.
		if err := json.Unmarshal(data, &doc.Auths); err != nil {
			return nil, fmt.Errorf("parsing registry credentials: %w", err)
		}
	}
	f := &AuthFile{}
	for k, a := range doc.Auths {
		conf, err := a.config()
		if err != nil {
			return nil, fmt.Errorf("parsing registry credentials for %q: %w", k, err)
		}
		f.entries = append(f.entries, authEntry{key: authKey(k), conf: conf})
	}
	return f, nil
}

type authConfig struct {
	Auth          string `json:"auth"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	IdentityToken string `json:"identitytoken"`
}

func (a authConfig) config() (authn.AuthConfig, error) {
	c := authn.AuthConfig{Username: a.Username, Password: a.Password, IdentityToken: a.IdentityToken}
	if a.Auth != "" {
		b, err := base64.StdEncoding.DecodeString(a.Auth)
		if err != nil {
			return c, fmt.Errorf("decoding \"auth\": %w", err)
		}
		user, pass, ok := strings.Cut(string(b), ":")
		if !ok {
			return c, fmt.Errorf("\"auth\" is not base64 of user:password")
		}
		c.Username, c.Password = user, pass
	}
	return c, nil
}

// authKey normalises a config key as the kubelet matches it: scheme and
// a trailing slash dropped, Docker Hub's many names made one.
func authKey(k string) string {
	k = strings.TrimPrefix(strings.TrimPrefix(k, "https://"), "http://")
	k = strings.TrimSuffix(k, "/")
	host, path, _ := strings.Cut(k, "/")
	switch host {
	case "docker.io", "index.docker.io", "registry-1.docker.io":
		host = "index.docker.io"
		if path == "v1" || path == "v2" {
			path = ""
		}
	}
	if path == "" {
		return host
	}
	return host + "/" + path
}

// Resolve implements authn.Keychain: the entry whose key is the target's
// registry, or the longest path prefix of its repository.
func (f *AuthFile) Resolve(r authn.Resource) (authn.Authenticator, error) {
	target := authKey(r.String())
	best, found := authEntry{}, false
	for _, e := range f.entries {
		if target == e.key || strings.HasPrefix(target, e.key+"/") {
			if !found || len(e.key) > len(best.key) {
				best, found = e, true
			}
		}
	}
	if !found {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(best.conf), nil
}

// keychain is where a pull looks for credentials, first match first:
// --creds, the pod's imagePullSecrets in order, $REGISTRY_AUTH_FILE, then
// Docker's config (~/.docker/config.json, $DOCKER_CONFIG, credential
// helpers) and podman's auth.json as go-containerregistry finds them.
func keychain(o PullOptions) (authn.Keychain, error) {
	var chain []authn.Keychain
	if o.Creds != "" {
		user, pass, _ := strings.Cut(o.Creds, ":")
		chain = append(chain, staticKeychain{authn.FromConfig(authn.AuthConfig{Username: user, Password: pass})})
	}
	for i, data := range o.PullSecrets {
		f, err := ParseAuth(data)
		if err != nil {
			return nil, fmt.Errorf("reading pull secret %d: %w", i+1, err)
		}
		chain = append(chain, f)
	}
	if p := os.Getenv("REGISTRY_AUTH_FILE"); p != "" {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading $REGISTRY_AUTH_FILE: %w", err)
		}
		f, err := ParseAuth(data)
		if err != nil {
			return nil, fmt.Errorf("reading $REGISTRY_AUTH_FILE %s: %w", p, err)
		}
		chain = append(chain, f)
	}
	chain = append(chain, authn.DefaultKeychain)
	return authn.NewMultiKeychain(chain...), nil
}

type staticKeychain struct{ a authn.Authenticator }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) { return k.a, nil }
