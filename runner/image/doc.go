// Package image is podrun's content-addressed image store under --root.
//
// Contract:
//
//   - Images come in through go-containerregistry: docker-archive and OCI
//     archive tarballs and OCI layout directories (Store.Load); the format
//     is told by content, not by file name. Registry pulls slot in later
//     as another source of v1.Image values stored the same way.
//   - References are normalised as Docker and Kubernetes do (Normalize):
//     "busybox" is "docker.io/library/busybox:latest".
//   - Every image stored has a name. An image in an archive or layout that
//     carries no full reference (a docker-archive entry without RepoTags, an
//     OCI index entry without a ref.name annotation, or with only a bare
//     tag such as "latest") makes Load fail with ErrNoName before anything
//     is written.
//   - Integrity is a chain from what names the image to the bytes on disk:
//     a manifest read from an OCI layout must hash to its index descriptor,
//     the config must hash to the manifest's config digest, and every
//     uncompressed layer stream must hash to its diffID in that config.
//     Compressed layer blobs are not kept, so their digests are not checked.
//   - Each layer is unpacked once, by diffID, into a private temporary
//     directory on the same file system and renamed into place, so a layer
//     directory that exists is complete. Unpacking refuses (ErrUnsafeLayer,
//     naming the entry) ".." components, symlinked parents, hard links to
//     missing or outside files, device nodes, odd whiteouts and layers past
//     the Limits; it never writes through a symlink. Absolute entry names
//     are taken relative to the layer, as GNU tar does. FIFOs are allowed.
//     Whiteouts become overlayfs whiteouts: ".wh.NAME" a 0/0 character
//     device, ".wh..wh..opq" the trusted.overlay.opaque=y xattr; creating
//     them needs root (CAP_MKNOD).
//   - Writers (Load, Remove) hold an exclusive flock on Dir/lock; readers
//     (Get, List) read the index, which is replaced atomically.
//   - The package prints nothing.
//
// On-disk layout under Store.Dir:
//
//	lock                     flock serialising writers
//	images.json              {"images": {REF: {"digest": "sha256:..."}}}
//	blobs/sha256/HEX         manifests and configs, by digest
//	layers/sha256/HEX/       unpacked layers, by diffID
//	tmp/                     work in progress; emptied by the next writer
package image
