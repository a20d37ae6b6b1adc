package image

import (
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
)

// Normalize returns ref in the form Docker and Kubernetes resolve it to:
// "busybox" is "docker.io/library/busybox:latest", "localhost/x:y" stays,
// a digest reference keeps its digest ("REPO@sha256:...").
func Normalize(ref string) (string, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", fmt.Errorf("parsing image reference %q: %w", ref, err)
	}
	repo := repository(r.Context())
	switch r := r.(type) {
	case name.Digest:
		return repo + "@" + r.DigestStr(), nil
	case name.Tag:
		return repo + ":" + r.TagStr(), nil
	}
	return "", fmt.Errorf("parsing image reference %q: neither tag nor digest", ref)
}

// repository spells r as Docker does, "docker.io/..." for Docker Hub.
func repository(r name.Repository) string {
	reg := r.RegistryStr()
	if reg == name.DefaultRegistry {
		reg = "docker.io"
	}
	return reg + "/" + r.RepositoryStr()
}
