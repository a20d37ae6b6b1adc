// Package rootfs assembles a container's root file system from unpacked
// image layers: an overlay mount, or a copy where overlayfs is not to be had.
//
// Contract:
//
//   - Layers are directories as runner/image unpacks them: whiteouts are
//     0/0 character devices and opaque directories carry the
//     trusted.overlay.opaque=y xattr, so they stack as overlayfs lower
//     dirs unchanged. In a user namespace that is not the initial one
//     (rootless) the xattr is user.overlay.opaque and the overlay is
//     mounted with userxattr (host.OverlayOpaqueXattr, OverlayUserXattr).
//   - Mount uses the new mount API (fsopen/fsconfig/fsmount/move_mount)
//     and passes each lower dir as its own "lowerdir+" parameter, by file
//     descriptor where the kernel takes one (6.13+), by path otherwise
//     (6.8+), so the number of layers is not bounded by the one-page limit
//     of mount(2) data. Older kernels get mount(2), limited to that page.
//   - No layers mount an empty lower dir (scratch/lower); the upper and
//     work dirs are scratch/upper and scratch/work.
//   - Where overlayfs cannot be mounted at all (no privilege, no overlay,
//     an upper dir it rejects) Mount copies the layers into target in
//     order, applying whiteouts and opaque dirs as overlayfs would.
//   - No runtime meets a symlink of the image where it writes while setting
//     a container up: Mount replaces /dev, /proc and /sys with empty
//     directories where the image has anything else there (Docker's init
//     layer does the same), and Contain rewrites mount destinations into
//     their symlink-free paths inside the root, resolved as the container
//     sees them. Both hold whatever the runtime's age (CVE-2026-41579).
//   - Unmount is idempotent: it unmounts target while it is a mount
//     point, then removes target and scratch; what is gone is success.
//   - The package prints nothing.
package rootfs
