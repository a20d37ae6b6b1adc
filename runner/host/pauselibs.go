package host

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// PauseLibs lists what the podrun binary at self needs to start as the
// pause process in the infra container's empty root: nothing for a static
// build (CGO_ENABLED=0, as `make build` builds it); for a dynamic one (what
// `go install` builds with cgo on) its ELF interpreter and every shared
// library, as the dynamic loader itself resolves them.
func PauseLibs(ctx context.Context, self string) ([]string, error) {
	if self == "" {
		return nil, nil // no pause binary configured: nothing to resolve
	}
	interp, err := elfInterp(self)
	if err != nil {
		return nil, fmt.Errorf("reading the podrun binary %s: %w", self, err)
	}
	if interp == "" {
		return nil, nil
	}
	libs, err := loaderLibs(ctx, interp, self)
	if err == nil {
		return libs, nil
	}
	return nil, fmt.Errorf("resolving the shared libraries of %s (dynamically linked, interpreter %s) for the pause process: %w; "+
		"build podrun with CGO_ENABLED=0, as `make build` does", self, interp, err)
}

// loaderLibs is the interpreter and the libraries it loads for bin, each
// checked to exist.
func loaderLibs(ctx context.Context, interp, bin string) ([]string, error) {
	out, err := listLibs(ctx, interp, bin)
	if err != nil {
		return nil, err
	}
	libs, err := parseLDD(out)
	if err != nil {
		return nil, err
	}
	libs = sortedUnique(append(libs, interp))
	for _, l := range libs {
		if _, err := os.Stat(l); err != nil {
			return nil, err
		}
	}
	return libs, nil
}

// elfInterp is the ELF interpreter (PT_INTERP) of the program at path, ""
// for a static program.
func elfInterp(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type != elf.PT_INTERP {
			continue
		}
		b := make([]byte, p.Filesz)
		if _, err := p.ReadAt(b, 0); err != nil {
			return "", fmt.Errorf("reading its ELF interpreter: %w", err)
		}
		return string(bytes.TrimRight(b, "\x00")), nil
	}
	return "", nil
}

// listLibs asks the dynamic loader which libraries bin loads: the
// interpreter's own --list (glibc), else ldd.
func listLibs(ctx context.Context, interp, bin string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, interp, "--list", bin).Output()
	if err == nil {
		return out, nil
	}
	out, lerr := exec.CommandContext(ctx, "ldd", bin).Output()
	if lerr != nil {
		return nil, fmt.Errorf("running %s --list: %w; running ldd: %w", interp, err, lerr)
	}
	return out, nil
}

// parseLDD reads the absolute library paths from ldd's output (the dynamic
// loader's --list output is the same): "name => /path (0x...)" and the
// interpreter's "/path (0x...)". Entries with no path (the vDSO) are
// skipped; "name => not found" is an error.
func parseLDD(out []byte) ([]string, error) {
	var libs []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		name, where, arrow := strings.Cut(line, "=>")
		if !arrow {
			where = name
		}
		where = strings.TrimSpace(where)
		if where == "not found" {
			return nil, fmt.Errorf("the dynamic loader finds no %s", strings.TrimSpace(name))
		}
		if f := strings.Fields(where); len(f) > 0 && strings.HasPrefix(f[0], "/") {
			libs = append(libs, f[0])
		}
	}
	return libs, sc.Err()
}

func sortedUnique(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}
