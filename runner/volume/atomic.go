package volume

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"
)

// File is one file of a payload an atomic writer projects.
type File struct {
	Data []byte
	Mode fs.FileMode
}

// The names the atomic writer reserves in a volume, as the kubelet's.
const (
	dataDirName    = "..data"
	newDataDirName = "..data_tmp"
	maxPathLength  = 4096
	maxNameLength  = 255
)

// WriteAtomic projects payload (relative path -> file) into dir the way
// the kubelet's atomic writer does: the files go into a new hidden
// timestamped directory, the `..data` symlink is swapped to it in one
// rename, and each top-level name is a symlink through `..data`. A
// reader sees the old payload or the new one, never a mix. Paths left
// over from the previous payload are removed; an unchanged payload is
// not rewritten. perms, when not nil, runs on the volume before the swap
// (the fsGroup rules).
//
// Every operation is resolved inside dir (os.Root): a volume whose
// contents were tampered with between two writes (a symlink to / in
// place of `..data` or of a file) cannot make the writer touch anything
// outside it.
func WriteAtomic(dir string, payload map[string]File, perms func(*os.Root) error) error {
	if err := validatePayload(payload); err != nil {
		return fmt.Errorf("writing volume %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("writing volume %s: %w", dir, err)
	}
	defer root.Close()
	if err := writeAtomic(root, payload, perms); err != nil {
		return fmt.Errorf("writing volume %s: %w", dir, err)
	}
	return nil
}

func writeAtomic(root *os.Root, payload map[string]File, perms func(*os.Root) error) error {
	old, _ := root.Readlink(dataDirName)
	if old != "" && !validTimestampDir(old) {
		// Not a link we made: refuse to follow it, replace it.
		old = ""
	}
	if old != "" && samePayload(root, old, payload) && visibleIntact(root, payload) {
		return nil
	}
	ts, err := newTimestampDir(root)
	if err != nil {
		return err
	}
	if err := writePayload(root, ts, payload); err != nil {
		_ = root.RemoveAll(ts)
		return err
	}
	if perms != nil {
		if err := perms(root); err != nil {
			_ = root.RemoveAll(ts)
			return fmt.Errorf("setting volume ownership: %w", err)
		}
	}
	_ = root.RemoveAll(newDataDirName)
	if info, err := root.Lstat(dataDirName); err == nil && info.Mode()&fs.ModeSymlink == 0 {
		// Not our link (a tampered volume): it cannot be renamed over.
		if err := root.RemoveAll(dataDirName); err != nil {
			return fmt.Errorf("replacing %s: %w", dataDirName, err)
		}
	}
	if err := root.Symlink(ts, newDataDirName); err != nil {
		return fmt.Errorf("linking %s: %w", newDataDirName, err)
	}
	if err := root.Rename(newDataDirName, dataDirName); err != nil {
		return fmt.Errorf("swapping %s: %w", dataDirName, err)
	}
	if err := linkVisible(root, payload); err != nil {
		return err
	}
	removeStale(root, payload)
	if old != "" && old != ts {
		if err := root.RemoveAll(old); err != nil {
			return fmt.Errorf("removing the previous payload %s: %w", old, err)
		}
	}
	return nil
}

// validatePayload refuses what the kubelet refuses: absolute paths, `..`
// elements, names starting with `..` (reserved), overlong paths.
func validatePayload(payload map[string]File) error {
	for p := range payload {
		if err := validatePath(p); err != nil {
			return err
		}
	}
	return nil
}

func validatePath(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("item path %q: must not be empty: %w", p, ErrEscape)
	case len(p) > maxPathLength:
		return fmt.Errorf("item path %q: longer than %d characters", p, maxPathLength)
	case path.IsAbs(p):
		return fmt.Errorf("item path %q: must be relative: %w", p, ErrEscape)
	case strings.HasPrefix(p, ".."):
		return fmt.Errorf("item path %q: must not start with '..': %w", p, ErrEscape)
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return fmt.Errorf("item path %q: must not contain '..': %w", p, ErrEscape)
		}
		if len(part) > maxNameLength {
			return fmt.Errorf("item path %q: element longer than %d characters", p, maxNameLength)
		}
	}
	return nil
}

// validTimestampDir reports whether name is one of our timestamped
// directories: a plain name starting with "..", not a reserved one.
func validTimestampDir(name string) bool {
	return strings.HasPrefix(name, "..") && !strings.Contains(name, "/") &&
		name != dataDirName && name != newDataDirName && name != ".."
}

// samePayload reports whether directory ts holds exactly payload.
func samePayload(root *os.Root, ts string, payload map[string]File) bool {
	n := 0
	err := fs.WalkDir(root.FS(), ts, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel := strings.TrimPrefix(p, ts+"/")
		f, ok := payload[rel]
		if !ok || !d.Type().IsRegular() {
			return errors.New("differs")
		}
		info, err := d.Info()
		if err != nil || info.Mode().Perm() != f.Mode.Perm() {
			return errors.New("differs")
		}
		data, err := root.ReadFile(p)
		if err != nil || !bytes.Equal(data, f.Data) {
			return errors.New("differs")
		}
		n++
		return nil
	})
	return err == nil && n == len(payload)
}

// visibleIntact reports whether every top-level name is our symlink.
func visibleIntact(root *os.Root, payload map[string]File) bool {
	for _, name := range topLevel(payload) {
		target, err := root.Readlink(name)
		if err != nil || target != path.Join(dataDirName, name) {
			return false
		}
	}
	return true
}

// newTimestampDir makes a directory named as the kubelet names them:
// ..YYYY_MM_DD_hh_mm_ss.<random>.
func newTimestampDir(root *os.Root) (string, error) {
	for range 10 {
		var b [5]byte
		_, _ = rand.Read(b[:])
		name := time.Now().UTC().Format("..2006_01_02_15_04_05.") + hex.EncodeToString(b[:])
		err := root.Mkdir(name, 0o755)
		if err == nil {
			return name, root.Chmod(name, 0o755)
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("creating a payload directory: %w", err)
		}
	}
	return "", errors.New("creating a payload directory: no free name")
}

// writePayload writes each file under ts with its mode, umask aside.
func writePayload(root *os.Root, ts string, payload map[string]File) error {
	for _, p := range sortedPaths(payload) {
		f := payload[p]
		full := path.Join(ts, p)
		if dir := path.Dir(full); dir != ts {
			if err := root.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("creating the directory of item %q: %w", p, err)
			}
		}
		if err := root.WriteFile(full, f.Data, f.Mode.Perm()); err != nil {
			return fmt.Errorf("writing item %q: %w", p, err)
		}
		if err := root.Chmod(full, f.Mode.Perm()); err != nil {
			return fmt.Errorf("setting the mode of item %q: %w", p, err)
		}
	}
	return nil
}

// linkVisible makes each top-level name a symlink into ..data.
func linkVisible(root *os.Root, payload map[string]File) error {
	for _, name := range topLevel(payload) {
		want := path.Join(dataDirName, name)
		if target, err := root.Readlink(name); err == nil && target == want {
			continue
		}
		// Whatever is there (a file a tamperer left, a stale link) goes.
		if err := root.RemoveAll(name); err != nil {
			return fmt.Errorf("replacing %q: %w", name, err)
		}
		if err := root.Symlink(want, name); err != nil {
			return fmt.Errorf("linking %q: %w", name, err)
		}
	}
	return nil
}

// removeStale removes top-level entries that are not in payload and are
// not the writer's own.
func removeStale(root *os.Root, payload map[string]File) {
	keep := topLevel(payload)
	f, err := root.Open(".")
	if err != nil {
		return
	}
	names, _ := f.Readdirnames(-1)
	f.Close()
	for _, name := range names {
		if strings.HasPrefix(name, "..") || slices.Contains(keep, name) {
			continue
		}
		if target, err := root.Readlink(name); err == nil && strings.HasPrefix(target, dataDirName+"/") {
			_ = root.Remove(name)
		}
	}
}

func topLevel(payload map[string]File) []string {
	var names []string
	for p := range payload {
		first, _, _ := strings.Cut(p, "/")
		if !slices.Contains(names, first) {
			names = append(names, first)
		}
	}
	slices.Sort(names)
	return names
}

func sortedPaths(payload map[string]File) []string {
	var ps []string
	for p := range payload {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}
