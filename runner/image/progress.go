package image

import v1 "github.com/google/go-containerregistry/pkg/v1"

// Progress is one step of a layer's way into the store, for a display
// such as docker pull's. A Pull or Load reports several layers at once:
// the callback must be safe for concurrent use.
type Progress struct {
	Image   string  // reference being stored
	Layer   v1.Hash // compressed blob digest
	Status  string  // one of the Status constants
	Current int64   // compressed bytes read so far
	Total   int64   // compressed size
}

// Layer states, in docker pull's words.
const (
	StatusWaiting     = "Waiting"
	StatusDownloading = "Downloading"
	StatusComplete    = "Pull complete"
	StatusExists      = "Already exists"
)
