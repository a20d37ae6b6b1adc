package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/podrun/podrun/runner/mountinfo"
)

// Mount makes target the union of layers (bottom first) with a writable
// upper layer under scratch (which it creates: scratch/upper, scratch/work).
// Where overlayfs cannot be mounted it copies the layers into target.
// Then it masks what the image has at /dev, /proc or /sys that is not a
// directory, and says what it masked.
func Mount(target string, layers []string, scratch string) ([]Masked, error) {
	if err := mount(target, layers, scratch); err != nil {
		return nil, err
	}
	masked, err := maskRuntimeDirs(target)
	if err != nil {
		return masked, fmt.Errorf("guarding rootfs %s: %w", target, err)
	}
	return masked, nil
}

func mount(target string, layers []string, scratch string) error {
	upper, work := filepath.Join(scratch, "upper"), filepath.Join(scratch, "work")
	for _, d := range []string{target, upper, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("mounting rootfs: %w", err)
		}
	}
	lowers := slices.Clone(layers)
	slices.Reverse(lowers) // overlayfs wants the top layer first
	if len(lowers) == 0 {
		empty := filepath.Join(scratch, "lower")
		if err := os.MkdirAll(empty, 0o755); err != nil {
			return fmt.Errorf("mounting rootfs: %w", err)
		}
		lowers = []string{empty}
	}
	mountErr := mountOverlay(target, lowers, upper, work)
	if mountErr == nil {
		return nil
	}
	if err := copyLayers(target, layers); err != nil {
		return fmt.Errorf("mounting rootfs at %s: overlay: %w; copying layers instead: %w", target, mountErr, err)
	}
	return nil
}

// Unmount undoes Mount and removes target and scratch. Unmounting what is
// not mounted, or removing what is gone, succeeds.
func Unmount(target, scratch string) error {
	for {
		mounted, err := mountinfo.IsMountPoint(target)
		if err != nil {
			return fmt.Errorf("unmounting rootfs %s: %w", target, err)
		}
		if !mounted {
			break
		}
		if err := unmount(target); err != nil {
			return fmt.Errorf("unmounting rootfs %s: %w", target, err)
		}
	}
	var errs []error
	for _, d := range []string{target, scratch} {
		if err := os.RemoveAll(d); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("removing rootfs %s: %w", target, err)
	}
	return nil
}
