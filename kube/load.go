package kube

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// stdinName names standard input in errors.
const stdinName = "<stdin>"

// input is one file's contents with the name errors give it.
type input struct {
	name string
	data []byte
}

// readInputs reads every path, expanding directories.
func readInputs(paths []string, stdin io.Reader) ([]input, error) {
	var out []input
	for _, p := range paths {
		in, err := readPath(p, stdin)
		if err != nil {
			return nil, err
		}
		out = append(out, in...)
	}
	return out, nil
}

func readPath(path string, stdin io.Reader) ([]input, error) {
	if path == "-" {
		if stdin == nil {
			return nil, fmt.Errorf("reading %s: no standard input", stdinName)
		}
		data, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", stdinName, err)
		}
		return []input{{stdinName, data}}, nil
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, readError(path, err)
	}
	if info.IsDir() {
		return readDir(path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, readError(path, err)
	}
	return []input{{path, data}}, nil
}

// readDir reads the manifests directly in dir, sorted by name, as kubectl
// does without --recursive.
func readDir(dir string) ([]input, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, readError(dir, err)
	}
	var out []input
	for _, e := range entries {
		if e.IsDir() || !isManifest(e.Name()) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, readError(p, err)
		}
		out = append(out, input{p, data})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("reading %s: %w (no *.yaml, *.yml or *.json file in the directory)", dir, ErrNoManifests)
	}
	return out, nil
}

func isManifest(name string) bool {
	return slices.Contains([]string{".yaml", ".yml", ".json"}, filepath.Ext(name))
}

// readError words a file system error as "reading PATH: REASON", keeping
// the reason matchable with errors.Is (fs.ErrNotExist, ...).
func readError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("reading %s: %w", path, err)
}
