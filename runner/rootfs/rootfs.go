// Package rootfs assembles a container's root file system from unpacked
// image layers: an overlay mount, or a copy where overlayfs is not to be had.
package rootfs

import "fmt"

// Mount makes target the union of layers (bottom first) with a writable
// upper layer under scratch (which it creates: scratch/upper, scratch/work).
// Where overlayfs cannot be mounted it copies the layers into target.
func Mount(target string, layers []string, scratch string) error {
	return fmt.Errorf("rootfs.Mount: not implemented")
}

// Unmount undoes Mount and removes target and scratch. Unmounting what is
// not mounted, or removing what is gone, succeeds.
func Unmount(target, scratch string) error {
	return fmt.Errorf("rootfs.Unmount: not implemented")
}
