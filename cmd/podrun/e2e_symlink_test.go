package main

import (
	"archive/tar"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/podrun/podrun/internal/testenv"
)

// TestImageSymlinksOutOfRoot is CVE-2026-41579 and its kin: images whose
// /dev, /proc, /sys, /etc/hosts, /etc/resolv.conf or a volume's mount
// destination are symlinks leading out of the root file system, as the
// host would resolve them. Under podrun's own runc and under Debian's (runc
// 1.1.5, which follows /dev onto the host and deletes and creates ptmx and
// the fd links there), each pod runs as it would with a current runtime,
// and the host directories the links name, each holding a file named
// ptmx, are byte-identical afterwards.
func TestImageSymlinksOutOfRoot(t *testing.T) {
	cases := []struct {
		name  string
		links []string // paths in the image
	}{
		{"dev", []string{"dev"}}, // the reproduction of CVE-2026-41579
		{"proc-sys", []string{"proc", "sys"}},
		{"files-volume", []string{"etc/hosts", "etc/resolv.conf", "data"}},
	}
	for _, rt := range []struct{ name, path string }{
		{"bundled", ""}, // newEnv's: podrun's own runc
		{"debian", "/usr/sbin/runc"},
	} {
		t.Run(rt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			if rt.path != "" {
				testenv.RequireFile(t, rt.path, "Debian's runc: make deps")
				e.runtime = rt.path
			}
			for _, tc := range cases {
				runSymlinkCase(t, e, tc.name, tc.links)
			}
		})
	}
}

// runSymlinkCase runs a pod of an image in which each of links leads to a
// host canary directory (or a file in one), and checks that the pod sees
// what it should and that no canary changed.
func runSymlinkCase(t *testing.T, e *env, name string, links []string) {
	t.Helper()
	canaries := t.TempDir()
	paths := map[string]string{} // image path -> host path it leads to
	for _, p := range links {
		dir := filepath.Join(canaries, strings.ReplaceAll(p, "/", "_"))
		writeCanary(t, dir)
		paths[p] = dir
		if strings.HasPrefix(p, "etc/") {
			paths[p] = filepath.Join(dir, "ptmx") // a link to a host file
		}
	}
	before := snapshotTree(t, canaries)

	ref := "localhost/podrun/symlinks:" + name
	archive := filepath.Join(t.TempDir(), "image.tar")
	writeSymlinkImage(t, ref, archive, paths)
	e.must("image", "load", "-i", archive)

	script := "grep -q symlinks /etc/hosts && echo hosts-ok; grep -q nameserver /etc/resolv.conf && echo resolv-ok; " +
		"test -c /dev/null && test -e /dev/ptmx && echo dev-ok; test -r /proc/self/status && echo proc-ok; " +
		"test -d /sys/kernel && echo sys-ok; echo written > /data/x && cat /data/x; sleep 600"
	c := strings.Replace(container("main", script, "    imagePullPolicy: Never\n    volumeMounts:\n    - {name: data, mountPath: /data}\n"),
		"localhost/podrun/busybox:demo", ref, 1)
	pod := podYAML("symlinks-"+name, "  volumes:\n  - {name: data, emptyDir: {}}\n", c)
	_, stderr, err := e.run("apply", "-f", e.manifest("pod.yaml", pod))
	if err != nil {
		t.Fatalf("%s: apply: %v\n%s", name, err, stderr)
	}
	// What was masked is said, naming the image and the path.
	for _, p := range links {
		if p == "dev" || p == "proc" || p == "sys" {
			if want := "image " + ref + ": /" + p + " is a symlink"; !strings.Contains(stderr, want) {
				t.Errorf("%s: apply's stderr does not say %q:\n%s", name, want, stderr)
			}
		}
	}
	// Under a runtime below the floor, apply warns once, naming the CVE.
	wantWarnings := 0
	if strings.HasPrefix(e.runtime, "/usr/sbin/") {
		wantWarnings = 1
	}
	if n := strings.Count(stderr, "CVE-2026-41579"); n != wantWarnings {
		t.Errorf("%s: apply with %s warned %d times of CVE-2026-41579, want %d:\n%s", name, e.runtime, n, wantWarnings, stderr)
	}
	want := "hosts-ok\nresolv-ok\ndev-ok\nproc-ok\nsys-ok\nwritten\n"
	// Not fatal: the canaries are checked whatever the pod said.
	var out string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if out, _, _ = e.run("logs", "symlinks-"+name); out == want {
			break
		}
	}
	if out != want {
		t.Errorf("%s: logs %q, want %q", name, out, want)
	}
	e.must("delete", "pod", "symlinks-"+name, "--grace-period", "0")
	after := snapshotTree(t, canaries)
	for _, p := range slices.Sorted(maps.Keys(after)) {
		if before[p] != after[p] {
			t.Errorf("%s: host canary %s is %q, was %q", name, p, after[p], before[p])
		}
	}
	for _, p := range slices.Sorted(maps.Keys(before)) {
		if _, ok := after[p]; !ok {
			t.Errorf("%s: host canary %s is gone", name, p)
		}
	}
}

// writeCanary makes dir with a file named ptmx (which runc 1.1.5 would
// delete) and a file beside it.
func writeCanary(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"ptmx", "keep"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("canary "+f+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// snapshotTree maps every path under dir to its type, mode and content or
// link target.
func snapshotTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		v := fi.Mode().String()
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			v += " -> " + target
		case fi.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			v += " " + string(data)
		}
		snap[p] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// writeSymlinkImage writes a docker-archive of the demo image plus a layer
// in which each of links (a path in the image) is a symlink to the host
// path it maps to: relative, climbing out of any root, for all but "data",
// which is absolute.
func writeSymlinkImage(t *testing.T, ref, path string, links map[string]string) {
	t.Helper()
	entries := []layerEntry{{Header: tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755}}}
	for _, p := range slices.Sorted(maps.Keys(links)) {
		target := strings.Repeat("../", 32) + strings.TrimPrefix(links[p], "/")
		if p == "data" {
			target = links[p]
		}
		entries = append(entries, layerEntry{Header: tar.Header{Name: p, Typeflag: tar.TypeSymlink, Linkname: target, Mode: 0o777}})
	}
	writeArchive(t, ref, path, demoPlusLayer(t, entries))
}
