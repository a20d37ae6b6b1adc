package image

import "time"

// Image is a stored image, ready to run.
type Image struct {
	Ref    string   // normalised reference, e.g. "localhost/podrun/busybox:demo"
	Digest string   // manifest digest, "sha256:..."
	Config Config   // runtime part of the image config
	Layers []string // unpacked layer directories, bottom first
	Size   int64    // bytes of the layers as the manifest gives them
	// Created is when the image was built, as its config says (zero if
	// the config does not say).
	Created time.Time
}

// Config is the runtime part of an image config.
type Config struct {
	Env        []string
	Entrypoint []string
	Cmd        []string
	WorkingDir string
	User       string
	StopSignal string
	// Volumes are the image's VOLUME paths (the kubelet gives each an
	// empty directory of the container's own).
	Volumes map[string]struct{}
}
