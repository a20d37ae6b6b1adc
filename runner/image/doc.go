// Package image is podrun's content-addressed image store under --root.
//
// Contract:
//
//   - Images come in through go-containerregistry: from registries
//     (Store.Pull: tags, digests, this machine's entry of an index), and
//     from docker-archive and OCI archive tarballs and OCI layout
//     directories (Store.Load; the format is told by content, not by file
//     name). Both feed the same store step. Store.Save writes docker and
//     OCI archives back from the kept blobs, digests unchanged.
//   - References are normalised as Docker and Kubernetes do (Normalize):
//     "busybox" is "docker.io/library/busybox:latest".
//   - Every image stored has a name. An image in an archive or layout that
//     carries no full reference (a docker-archive entry without RepoTags, an
//     OCI index entry without a ref.name annotation, or with only a bare
//     tag such as "latest") makes Load fail with ErrNoName before anything
//     is written.
//   - Integrity is a chain from what names the image to the bytes on disk:
//     a manifest must hash to the digest that named it (index descriptor
//     or digest reference), the config to the manifest's config digest,
//     each compressed layer blob to its descriptor's digest and size, and
//     each uncompressed layer stream to its diffID in the config. Digests
//     that are not well-formed sha256 are refused before any path is
//     built from them. Manifests and configs past Limits (4 MiB) are
//     refused (ErrTooLarge) before they are read.
//   - Each layer is fetched once and unpacked once, by diffID, under a
//     per-layer lock, into a private temporary directory on the same file
//     system and renamed into place, its blob likewise; the manifest is
//     written after its layers and the index last. So a layer, blob or
//     image that exists is complete, whatever was killed when, and the
//     next writer finishes from what is on disk. Up to four layers of an
//     image are fetched and unpacked at once.
//   - Unpacking refuses (ErrUnsafeLayer, naming the entry) ".." components,
//     symlinked parents, hard links to missing or outside files, odd
//     whiteouts, device numbers out of range and layers past the Limits
//     (a decompression bomb stops at MaxBytes of uncompressed stream); it
//     never writes through a symlink. Absolute entry names are taken
//     relative to the layer, as GNU tar does. FIFOs are allowed. Device
//     nodes are made as root, with their number, mode and owner, as
//     containerd and Podman make them (containers' device cgroups deny
//     them, and the store is 0700); without root, or where mknod is not
//     permitted, they are skipped and Store.Log hears of it. Whiteouts
//     become overlayfs whiteouts: ".wh.NAME" a 0/0 character device,
//     ".wh..wh..opq" the trusted.overlay.opaque=y xattr; creating them
//     needs root (CAP_MKNOD). In a user namespace that is not the initial
//     one, where anyone may make a 0/0 device but trusted.* is refused,
//     the xattr is user.overlay.opaque=y (host.OverlayOpaqueXattr). A 0/0 character device entry is such a
//     whiteout already and is stored as one, the same as ".wh.NAME".
//   - Registries are reached over HTTPS, or plain HTTP only when they are
//     on loopback or named in PullOptions.Insecure. Credentials: Creds,
//     then the pod's pull secrets, then $REGISTRY_AUTH_FILE, then Docker's
//     config (and podman's auth.json) as go-containerregistry reads it.
//   - Locks (lock.go): writers (Load, Pull, Remove) hold the store lock
//     shared; Prune and the cleaning of tmp hold it exclusive, so they
//     never remove what a live writer is making. images.json changes under
//     its own lock and is replaced atomically; readers (Get, List) take no
//     lock.
//   - Prune removes only blobs and layers that no stored image and no
//     manifest digest the caller names (the runner names every pod's)
//     uses. Remove only forgets a name.
//   - The package prints nothing; progress goes to PullOptions.Progress.
//
// On-disk layout under Store.Dir:
//
//	lock, index.lock         flocks (see above)
//	images.json              {"images": {REF: {"digest": "sha256:..."}}}
//	blobs/sha256/HEX         manifests, configs and compressed layers, by digest
//	layers/sha256/HEX/       unpacked layers, by diffID
//	locks/sha256-HEX         one flock per layer being stored
//	tmp/                     work in progress; emptied by a writer that is alone
package image
