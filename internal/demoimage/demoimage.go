package demoimage

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Ref is the demo image's name.
const Ref = "localhost/podrun/busybox:demo"

// Format is an archive format Write can produce.
type Format string

const (
	Docker Format = "docker" // docker-archive, as `docker save` writes
	OCI    Format = "oci"    // OCI archive: an OCI layout in a tar
)

// Created is the image's fixed creation time and every file's mtime.
var Created = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Env is the image's environment.
var Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}

// Index is the content of /www/index.html.
const Index = "hello from podrun\n"

// Write writes the demo image built from busybox to path as a
// docker-archive.
func Write(path, busybox string) error {
	return WriteFormat(path, busybox, Docker)
}

// WriteFormat writes the demo image built from busybox to path in format f.
func WriteFormat(path, busybox string, f Format) error {
	img, err := Image(busybox)
	if err != nil {
		return err
	}
	switch f {
	case Docker:
		tag, err := name.NewTag(Ref)
		if err != nil {
			return err
		}
		if err := tarball.WriteToFile(path, tag, img); err != nil {
			return fmt.Errorf("writing docker-archive %s: %w", path, err)
		}
		return nil
	case OCI:
		return writeOCIArchive(path, img)
	}
	return fmt.Errorf("unknown image format %q (want %q or %q)", f, Docker, OCI)
}

// Image builds the demo image from the busybox binary at busybox.
func Image(busybox string) (v1.Image, error) {
	bin, err := os.ReadFile(busybox)
	if err != nil {
		return nil, fmt.Errorf("reading busybox: %w", err)
	}
	applets, err := listApplets(busybox)
	if err != nil {
		return nil, err
	}
	arch, err := elfArch(busybox)
	if err != nil {
		return nil, err
	}
	layerTar, err := layerTar(bin, applets)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("building layer: %w", err)
	}
	return assemble(layer, arch)
}

func assemble(layer v1.Layer, arch string) (v1.Image, error) {
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	base, err := mutate.ConfigFile(base, &v1.ConfigFile{
		Architecture: arch,
		OS:           "linux",
		Created:      v1.Time{Time: Created},
		Config:       v1.Config{Env: Env, Cmd: []string{"sh"}},
	})
	if err != nil {
		return nil, fmt.Errorf("building config: %w", err)
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: Created},
			CreatedBy: "podrun mkimage: busybox-static with its applet links",
		},
	})
	if err != nil {
		return nil, fmt.Errorf("appending layer: %w", err)
	}
	return img, nil
}

// listApplets returns the applet paths busybox gives, relative to /,
// sorted, without bin/busybox itself.
func listApplets(busybox string) ([]string, error) {
	out, err := exec.Command(busybox, "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("listing busybox applets: %w", err)
	}
	var applets []string
	for _, l := range strings.Fields(string(out)) {
		l = strings.TrimPrefix(l, "/")
		if l == "bin/busybox" || strings.Contains(l, "..") {
			continue
		}
		applets = append(applets, l)
	}
	if len(applets) == 0 {
		return nil, fmt.Errorf("busybox %s lists no applets", busybox)
	}
	sort.Strings(applets)
	return applets, nil
}

// elfArch names the binary's architecture as Go and OCI do.
func elfArch(p string) (string, error) {
	f, err := elf.Open(p)
	if err != nil {
		return "", fmt.Errorf("reading busybox as ELF: %w", err)
	}
	defer f.Close()
	switch f.Machine {
	case elf.EM_X86_64:
		return "amd64", nil
	case elf.EM_AARCH64:
		return "arm64", nil
	case elf.EM_386:
		return "386", nil
	case elf.EM_ARM:
		return "arm", nil
	case elf.EM_RISCV:
		return "riscv64", nil
	case elf.EM_PPC64:
		return "ppc64le", nil
	case elf.EM_S390:
		return "s390x", nil
	}
	return runtime.GOARCH, nil
}

const (
	passwd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
	group  = "root:x:0:\nnobody:x:65534:\n"
)

// layerTar builds the layer: directories, then files, then links, each
// group sorted, with fixed times and root ownership.
func layerTar(bin []byte, applets []string) ([]byte, error) {
	dirs := map[string]int64{"bin": 0o755, "etc": 0o755, "root": 0o700, "tmp": 0o1777, "www": 0o755}
	for _, a := range applets {
		for d := filepath.Dir(a); d != "."; d = filepath.Dir(d) {
			if _, ok := dirs[d]; !ok {
				dirs[d] = 0o755
			}
		}
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range sortedKeys(dirs) {
		if err := tw.WriteHeader(header(d+"/", tar.TypeDir, dirs[d], 0)); err != nil {
			return nil, err
		}
	}
	files := []struct {
		name string
		mode int64
		data []byte
	}{
		{"bin/busybox", 0o755, bin},
		{"etc/group", 0o644, []byte(group)},
		{"etc/passwd", 0o644, []byte(passwd)},
		{"www/index.html", 0o644, []byte(Index)},
	}
	for _, f := range files {
		if err := tw.WriteHeader(header(f.name, tar.TypeReg, f.mode, int64(len(f.data)))); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	for _, a := range applets {
		h := header(a, tar.TypeSymlink, 0o777, 0)
		h.Linkname = "/bin/busybox"
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func header(name string, typ byte, mode, size int64) *tar.Header {
	return &tar.Header{
		Name: name, Typeflag: typ, Mode: mode, Size: size,
		ModTime: Created, Format: tar.FormatPAX,
	}
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
