package image

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Inspection is everything the store knows of one image.
type Inspection struct {
	Ref      string         `json:"ref"`
	Digest   string         `json:"digest"`
	Size     int64          `json:"size"`
	Manifest *v1.Manifest   `json:"manifest"`
	Config   *v1.ConfigFile `json:"config"`
	// Layers are the unpacked layer directories, bottom first.
	Layers []string `json:"layers"`
}

// Inspect returns ref's manifest, config and layers.
func (s *Store) Inspect(ref string) (*Inspection, error) {
	img, err := s.Get(ref)
	if err != nil {
		return nil, err
	}
	h, err := v1.NewHash(img.Digest)
	if err != nil {
		return nil, err
	}
	m, cf, err := s.readImage(h)
	if err != nil {
		return nil, fmt.Errorf("inspecting %s: %w", img.Ref, err)
	}
	return &Inspection{Ref: img.Ref, Digest: img.Digest, Size: img.Size, Manifest: m, Config: cf, Layers: img.Layers}, nil
}
