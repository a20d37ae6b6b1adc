// Package state keeps each pod's record on disk: one directory per pod
// under the run root holding a JSON state file, written atomically (temp
// file, fsync, rename), and a lock file that every command holds (flock)
// while it changes the pod.
package state

import "fmt"

// WriteFile writes data to path atomically: a temp file in the same
// directory, fsync, rename, fsync of the directory.
func WriteFile(path string, data []byte, perm uint32) error {
	return fmt.Errorf("not implemented")
}
