package image

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Normalize returns ref in the form Docker and Kubernetes resolve it to:
// "busybox" is "docker.io/library/busybox:latest", "localhost/x:y" stays,
// a digest reference keeps its digest ("REPO@sha256:..."). A ref that is
// not an image reference is an error, whose message says so.
func Normalize(ref string) (string, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		// Its text is "could not parse reference: REF", for any reason.
		return "", fmt.Errorf("invalid image reference %q: name images as [REGISTRY/]REPOSITORY[:TAG|@DIGEST], the repository in lower case", ref)
	}
	repo := repository(r.Context())
	// The name package lets through what no registry serves: empty, "."
	// and ".." path components ("../x", "/x", "a//b").
	for _, c := range strings.Split(repo, "/") {
		if c == "" || c == "." || c == ".." {
			return "", fmt.Errorf("invalid image reference %q: %q is not a path component of a repository: name images as [REGISTRY/]REPOSITORY[:TAG|@DIGEST]", ref, c)
		}
	}
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
