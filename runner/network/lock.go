package network

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/podrun/podrun/runner/flock"
)

// lock takes the network's lock, which serialises CNI calls across podrun
// processes as the CNI spec asks of runtimes, waiting until ctx is done.
// The returned func releases it.
func (n *Network) lock(ctx context.Context) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(n.cfg.LockFile), 0o755); err != nil {
		return nil, fmt.Errorf("creating lock directory: %w", err)
	}
	l, err := flock.Exclusive(ctx, n.cfg.LockFile)
	if err != nil {
		return nil, err
	}
	return func() { _ = l.Unlock() }, nil
}

// lockDir takes an exclusive lock on dir, so NewNS and RemoveNS in
// different processes do not race on its shared mount.
func lockDir(dir string) (func(), error) {
	l, err := flock.Exclusive(context.Background(), dir)
	if err != nil {
		return nil, err
	}
	return func() { _ = l.Unlock() }, nil
}
