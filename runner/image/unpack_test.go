package image

import (
	"archive/tar"
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/internal/testenv"
	"github.com/podrun/podrun/runner/host"
)

// ent is one tar entry of a test layer.
type ent struct {
	name         string
	typ          byte
	link         string
	body         string
	mode         int64
	major, minor int64
	uid, gid     int
}

func file(name, body string) ent { return ent{name: name, typ: tar.TypeReg, body: body, mode: 0o644} }
func dir(name string) ent        { return ent{name: name, typ: tar.TypeDir, mode: 0o755} }
func symlink(name, to string) ent {
	return ent{name: name, typ: tar.TypeSymlink, link: to, mode: 0o777}
}
func hardlink(name, to string) ent   { return ent{name: name, typ: tar.TypeLink, link: to} }
func node(name string, typ byte) ent { return ent{name: name, typ: typ, mode: 0o666} }
func device(name string, typ byte, major, minor int64) ent {
	return ent{name: name, typ: typ, mode: 0o620, major: major, minor: minor, uid: 0, gid: 5}
}

func layer(t *testing.T, ents ...ent) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: e.mode,
			Size: int64(len(e.body)), ModTime: time.Unix(1e9, 0), Format: tar.FormatPAX,
			Devmajor: e.major, Devminor: e.minor, Uid: e.uid, Gid: e.gid}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

// canary is a directory outside the layer with one file in it; check
// fails the test if anything there changed.
type canary struct{ dir, file string }

func newCanary(t *testing.T) canary {
	dir := t.TempDir()
	f := filepath.Join(dir, "canary")
	if err := os.WriteFile(f, []byte("canary"), 0o600); err != nil {
		t.Fatal(err)
	}
	return canary{dir, f}
}

func (c canary) check(t *testing.T) {
	t.Helper()
	fi, err := os.Lstat(c.file)
	if err != nil {
		t.Fatalf("canary: %v", err)
	}
	b, _ := os.ReadFile(c.file)
	if string(b) != "canary" || fi.Mode() != 0o600 || !fi.Mode().IsRegular() {
		t.Errorf("canary changed: %q %v", b, fi.Mode())
	}
	des, _ := os.ReadDir(c.dir)
	if len(des) != 1 {
		t.Errorf("canary dir has %d entries, want 1", len(des))
	}
}

func TestUnpackRefusesBreakouts(t *testing.T) {
	c := newCanary(t)
	out := c.dir                              // absolute path of the directory outside
	rel := "../../../../../../../../.." + out // relative path reaching it
	tests := []struct {
		name    string
		ents    []ent
		refused bool // else contained: unpacks, outside untouched
	}{
		{"dotdot", []ent{file("../canary", "x")}, true},
		{"dotdot deep", []ent{file("a/../../canary", "x")}, true},
		{"dotdot relative to outside", []ent{file(rel+"/canary", "x")}, true},
		{"absolute path is contained", []ent{file(out+"/canary", "x")}, false},
		{"write through absolute symlink", []ent{symlink("s", out), file("s/canary", "x")}, true},
		{"write through relative symlink", []ent{symlink("s", rel), file("s/canary", "x")}, true},
		{"write through symlink to dir in layer", []ent{dir("d"), symlink("s", "d"), file("s/x", "x")}, true},
		{"symlink chain", []ent{symlink("a", "b"), symlink("b", "c"), symlink("c", out), file("a/canary", "x")}, true},
		{"slash-dot symlink", []ent{symlink("r", "/."), file("r"+out+"/canary", "x")}, true},
		{"dir replaced by symlink", []ent{dir("d"), symlink("d", out), file("d/canary", "x")}, true},
		{"file over symlink replaces the link", []ent{symlink("f", c.file), file("f", "x")}, false},
		{"dir over symlink replaces the link", []ent{symlink("d", out), ent{name: "d", typ: tar.TypeDir, mode: 0o777}}, false},
		{"chmod through link", []ent{symlink("l", c.file), ent{name: "l", typ: tar.TypeReg, mode: 0o777}}, false},
		{"hardlink to absolute outside", []ent{hardlink("h", c.file)}, true},
		{"hardlink with dotdot", []ent{hardlink("h", "../canary")}, true},
		{"hardlink through symlink", []ent{symlink("s", out), hardlink("h", "s/canary")}, true},
		{"hardlink to missing", []ent{hardlink("h", "nothing")}, true},
		{"hardlink to dir", []ent{dir("d"), hardlink("h", "d")}, true},
		{"whiteout dotdot", []ent{file(".wh..", "")}, true},
		{"whiteout dotdotdot", []ent{file(".wh...", "")}, true},
		{"whiteout empty", []ent{file(".wh.", "")}, true},
		{"whiteout under symlink", []ent{symlink("s", out), file("s/.wh.canary", "")}, true},
		{"opaque under symlink", []ent{symlink("s", out), file("s/.wh..wh..opq", "")}, true},
		{"aufs metadata", []ent{file(".wh..wh.plnk", "")}, true},
		{"device with dotdot", []ent{device("../canary", tar.TypeChar, 5, 1)}, true},
		{"device under absolute symlink", []ent{symlink("s", out), device("s/console", tar.TypeChar, 5, 1)}, true},
		{"device under relative symlink", []ent{symlink("s", rel), device("s/sda", tar.TypeBlock, 8, 0)}, true},
		{"device over symlink replaces the link", []ent{symlink("d", c.file), device("d", tar.TypeChar, 1, 3)}, false},
		{"device with absolute name is contained", []ent{device(out+"/canary", tar.TypeChar, 1, 3)}, false},
		{"device number out of range", []ent{device("dev/x", tar.TypeBlock, 1<<20, 0)}, true},
		{"root is a file", []ent{file(".", "")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := t.TempDir()
			err := unpack(dst, layer(t, tt.ents...), DefaultLimits, nil)
			c.check(t)
			if tt.refused {
				if !errors.Is(err, ErrUnsafeLayer) {
					t.Fatalf("unpack: %v, want ErrUnsafeLayer", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unpack: %v", err)
			}
		})
	}
}

func TestUnpackErrorNamesEntry(t *testing.T) {
	err := unpack(t.TempDir(), layer(t, file("a/../../etc/passwd", "x")), DefaultLimits, nil)
	if err == nil || !strings.Contains(err.Error(), `"a/../../etc/passwd"`) {
		t.Fatalf("error %v does not name the entry", err)
	}
}

func TestUnpackLimits(t *testing.T) {
	many := layer(t, file("a", "1"), file("b", "2"), file("c", "3"))
	err := unpack(t.TempDir(), many, Limits{MaxBytes: 1 << 20, MaxEntries: 2}, nil)
	if !errors.Is(err, ErrUnsafeLayer) || !strings.Contains(err.Error(), "limit of 2 entries") {
		t.Errorf("entries: %v", err)
	}
	big := layer(t, file("a", strings.Repeat("x", 10000)))
	err = unpack(t.TempDir(), big, Limits{MaxBytes: 4096, MaxEntries: 10}, nil)
	if !errors.Is(err, ErrUnsafeLayer) || !strings.Contains(err.Error(), "limit of 4096 bytes") {
		t.Errorf("bytes: %v", err)
	}
}

func TestUnpackKeepsTree(t *testing.T) {
	dst := t.TempDir()
	t.Cleanup(func() { os.Chmod(filepath.Join(dst, "ro"), 0o755) })
	ro := ent{name: "ro/", typ: tar.TypeDir, mode: 0o555}
	exe := ent{name: "ro/exe", typ: tar.TypeReg, mode: 0o4755, body: "#!"}
	ents := []ent{ro, exe, symlink("ro/abs", "/etc/passwd"), hardlink("ro/hard", "ro/exe"),
		node("fifo", tar.TypeFifo), file("/abs/name", "a"), file("./dot/name", "d"),
		file("over", "first"), file("over", "second"), ent{name: "tmp/", typ: tar.TypeDir, mode: 0o1777}}
	if err := unpack(dst, layer(t, ents...), DefaultLimits, nil); err != nil {
		t.Fatal(err)
	}
	modes := map[string]os.FileMode{
		"ro":       os.ModeDir | 0o555,
		"ro/exe":   os.ModeSetuid | 0o755,
		"ro/abs":   os.ModeSymlink | 0o777,
		"fifo":     os.ModeNamedPipe | 0o666,
		"tmp":      os.ModeDir | os.ModeSticky | 0o777,
		"abs/name": 0o644,
		"dot/name": 0o644,
	}
	for name, want := range modes {
		fi, err := os.Lstat(filepath.Join(dst, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode(), want)
		}
		if name != "tmp" && !fi.ModTime().Equal(time.Unix(1e9, 0)) {
			t.Errorf("%s: mtime %v", name, fi.ModTime())
		}
	}
	if l, _ := os.Readlink(filepath.Join(dst, "ro/abs")); l != "/etc/passwd" {
		t.Errorf("symlink target %q", l)
	}
	a, _ := os.Stat(filepath.Join(dst, "ro/exe"))
	b, _ := os.Stat(filepath.Join(dst, "ro/hard"))
	if !os.SameFile(a, b) {
		t.Error("hard link is not the same file")
	}
	if got, _ := os.ReadFile(filepath.Join(dst, "over")); string(got) != "second" {
		t.Errorf("later entry did not replace: %q", got)
	}
}

func TestUnpackWhiteouts(t *testing.T) {
	testenv.RequireRoot(t)
	dst := t.TempDir()
	ents := []ent{dir("etc"), file("etc/.wh.hosts", ""), dir("opaque"), file("opaque/.wh..wh..opq", ""),
		file("opaque/kept", "k"), file(".wh.gone", ""), file("x", "1"), file(".wh.x", "")}
	if err := unpack(dst, layer(t, ents...), DefaultLimits, nil); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"etc/hosts", "gone", "x"} {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(dst, n), &st); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
			t.Errorf("%s: mode %o rdev %d, want a 0/0 char device", n, st.Mode, st.Rdev)
		}
	}
	buf := make([]byte, 8)
	n, err := unix.Lgetxattr(filepath.Join(dst, "opaque"), host.OverlayOpaqueXattr(), buf)
	if err != nil || string(buf[:n]) != "y" {
		t.Errorf("opaque xattr: %q %v", buf[:n], err)
	}
	if _, err := os.Stat(filepath.Join(dst, "opaque/kept")); err != nil {
		t.Error(err)
	}
	if _, err := os.Lstat(filepath.Join(dst, ".wh.gone")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf(".wh.gone itself was written: %v", err)
	}
}

// TestUnpackDevices: as root, device nodes and FIFOs are made with their
// type, mode, number and owner, as containerd and Podman make them.
func TestUnpackDevices(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.SkipInUserNS(t, "making device nodes needs real root")
	dst := t.TempDir()
	ents := []ent{dir("dev"), device("dev/console", tar.TypeChar, 5, 1), device("dev/null", tar.TypeChar, 1, 3),
		device("dev/sda", tar.TypeBlock, 8, 0), ent{name: "dev/loop7", typ: tar.TypeBlock, mode: 0o660, major: 7, minor: 7, gid: 6},
		ent{name: "run/initctl", typ: tar.TypeFifo, mode: 0o600, uid: 4, gid: 7}}
	if err := unpack(dst, layer(t, ents...), DefaultLimits, nil); err != nil {
		t.Fatal(err)
	}
	for _, e := range ents[1:] {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(dst, e.name), &st); err != nil {
			t.Errorf("%s: %v", e.name, err)
			continue
		}
		typ := map[byte]uint32{tar.TypeChar: unix.S_IFCHR, tar.TypeBlock: unix.S_IFBLK, tar.TypeFifo: unix.S_IFIFO}[e.typ]
		if st.Mode != typ|uint32(e.mode) {
			t.Errorf("%s: mode %o, want %o", e.name, st.Mode, typ|uint32(e.mode))
		}
		if st.Rdev != unix.Mkdev(uint32(e.major), uint32(e.minor)) {
			t.Errorf("%s: rdev %d:%d, want %d:%d", e.name, unix.Major(st.Rdev), unix.Minor(st.Rdev), e.major, e.minor)
		}
		if int(st.Uid) != e.uid || int(st.Gid) != e.gid {
			t.Errorf("%s: owner %d:%d, want %d:%d", e.name, st.Uid, st.Gid, e.uid, e.gid)
		}
	}
}

// TestUnpackSkipsDevicesWithoutRoot: without root, device nodes are
// skipped (and logged) while the rest of the layer unpacks.
func TestUnpackSkipsDevicesWithoutRoot(t *testing.T) {
	dst := t.TempDir()
	root, err := os.OpenRoot(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	var logged bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	u := &unpacker{root: root, lim: DefaultLimits, log: log}
	err = u.run(layer(t, device("dev/console", tar.TypeChar, 5, 1), device("dev/sda", tar.TypeBlock, 8, 0), file("etc/os-release", "x")))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"dev/console", "dev/sda"} {
		if _, err := os.Lstat(filepath.Join(dst, n)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: %v, want it skipped", n, err)
		}
		if !strings.Contains(logged.String(), n) {
			t.Errorf("skipping %s was not logged:\n%s", n, logged.String())
		}
	}
	if _, err := os.Stat(filepath.Join(dst, "etc/os-release")); err != nil {
		t.Error(err)
	}
}

// TestUnpackZeroDeviceIsWhiteout: a 0/0 character device in a layer is
// stored as the overlayfs whiteout it is, the same as ".wh.NAME", never
// skipped (which would let a lower layer's file show through).
func TestUnpackZeroDeviceIsWhiteout(t *testing.T) {
	testenv.RequireRoot(t)
	tests := map[string][]ent{
		"0/0 device": {file("etc/hosts", "x"), device("etc/hosts", tar.TypeChar, 0, 0)},
		".wh. entry": {file("etc/hosts", "x"), file("etc/.wh.hosts", "")},
	}
	for name, ents := range tests {
		t.Run(name, func(t *testing.T) {
			dst := t.TempDir()
			if err := unpack(dst, layer(t, ents...), DefaultLimits, nil); err != nil {
				t.Fatal(err)
			}
			var st unix.Stat_t
			if err := unix.Lstat(filepath.Join(dst, "etc/hosts"), &st); err != nil {
				t.Fatal(err)
			}
			if st.Mode != unix.S_IFCHR || st.Rdev != 0 || st.Uid != 0 {
				t.Errorf("mode %o rdev %d uid %d, want a bare 0/0 char device", st.Mode, st.Rdev, st.Uid)
			}
		})
	}
}

// TestInUserNamespace runs the unpacking tests again as an ordinary user,
// as uid 0 of a user namespace of its own: whiteouts as 0/0 devices,
// opaque directories as user.overlay.opaque, device nodes skipped.
func TestInUserNamespace(t *testing.T) {
	if host.InUserNS() {
		t.Skip("already in a user namespace")
	}
	testenv.RerunInUserNS(t, "^TestUnpack", "TestUnpackWhiteouts", "TestUnpackZeroDeviceIsWhiteout", "TestUnpackKeepsTree", "TestUnpackRefusesBreakouts")
}
