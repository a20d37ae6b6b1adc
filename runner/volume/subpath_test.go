package volume

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/internal/testenv"
)

func unmountCleanup(t *testing.T, target string) {
	t.Cleanup(func() { _ = unix.Unmount(target, unix.MNT_DETACH) })
}

func TestCheckSubPath(t *testing.T) {
	for _, sub := range []string{"/etc", "../x", "a/../../x", "a/.."} {
		if err := CheckSubPath(sub); !errors.Is(err, ErrEscape) {
			t.Errorf("%q: err = %v, want ErrEscape", sub, err)
		}
	}
	for _, sub := range []string{"a", "a/b", "..a", "a..b"} {
		if err := CheckSubPath(sub); err != nil {
			t.Errorf("%q: %v", sub, err)
		}
	}
}

func TestBindSubPath(t *testing.T) {
	testenv.RequireRoot(t)
	vol, outside, staging := t.TempDir(), t.TempDir(), t.TempDir()
	if err := os.Chmod(vol, 0o777); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(outside, "secret"), []byte("host"), 0o600)
	os.WriteFile(filepath.Join(vol, "file"), []byte("in"), 0o644)
	os.Symlink("/", filepath.Join(vol, "root"))                           // CVE-2017-1002101
	os.Symlink(outside, filepath.Join(vol, "out"))                        // absolute, outside
	os.Symlink("../../../../../../../"+outside, filepath.Join(vol, "up")) // relative, outside
	os.Symlink("file", filepath.Join(vol, "inside"))                      // relative, inside
	tests := []struct {
		sub     string
		wantErr error
		want    string // content of target (file) or "" for a directory
	}{
		{"new/dir", nil, ""},
		{"file", nil, "in"},
		{"inside", nil, "in"},
		{"root", ErrEscape, ""},
		{"root/etc", ErrEscape, ""},
		{"out/secret", ErrEscape, ""},
		{"up/secret", ErrEscape, ""},
		{"out/newdir", ErrEscape, ""},
		{"../x", ErrEscape, ""},
		{"/etc", ErrEscape, ""},
	}
	for i, tt := range tests {
		t.Run(tt.sub, func(t *testing.T) {
			target := filepath.Join(staging, string(rune('a'+i)))
			unmountCleanup(t, target)
			err := BindSubPath(vol, tt.sub, target)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if _, err := os.Stat(filepath.Join(outside, "newdir")); err == nil {
					t.Error("a directory was created outside the volume")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != "" {
				if b, _ := os.ReadFile(target); string(b) != tt.want {
					t.Errorf("target holds %q", b)
				}
				return
			}
			info, err := os.Stat(filepath.Join(vol, tt.sub))
			if err != nil || info.Mode().Perm() != 0o777 {
				t.Errorf("created subPath mode %v, %v (want the root's 0777)", info.Mode(), err)
			}
		})
	}
}

// A container swaps its subPath directory for a symlink to / in a loop
// while the runner resolves and mounts it (CVE-2021-25741): every mount
// made is of the directory in the volume, never of the host's root.
func TestBindSubPathRace(t *testing.T) {
	testenv.RequireRoot(t)
	vol, staging := t.TempDir(), t.TempDir()
	real := filepath.Join(vol, "real")
	os.Mkdir(real, 0o755)
	os.WriteFile(filepath.Join(real, "marker"), []byte("volume"), 0o644)
	os.Symlink("/", filepath.Join(vol, "evil"))
	os.Symlink("real", filepath.Join(vol, "inside"))

	// Without the race, each outcome is certain: a link inside the volume
	// is mounted, a link out of it refused.
	target := filepath.Join(staging, "calm")
	if err := BindSubPath(vol, "inside", target); err != nil {
		t.Fatalf("subPath through a link inside the volume: %v", err)
	}
	b, _ := os.ReadFile(filepath.Join(target, "marker"))
	unix.Unmount(target, unix.MNT_DETACH)
	if string(b) != "volume" {
		t.Fatalf("subPath through a link inside the volume mounted something else (marker %q)", b)
	}
	if err := BindSubPath(vol, "evil", filepath.Join(staging, "evil")); err == nil {
		unix.Unmount(filepath.Join(staging, "evil"), unix.MNT_DETACH)
		t.Fatal("subPath through a link to / was mounted")
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sub := filepath.Join(vol, "sub")
		for !stop.Load() {
			os.Remove(sub)
			os.Symlink("real", sub) // inside: allowed
			os.Remove(sub)
			os.Symlink("/", sub) // outside: must be refused
		}
	}()
	mounted, refused := 0, 0
	// At least 300 tries, and on until both outcomes have been seen.
	for i := 0; i < 300 || (mounted == 0 || refused == 0) && i < 100000; i++ {
		target := filepath.Join(staging, "t", strconv.Itoa(i))
		err := BindSubPath(vol, "sub", target)
		if err != nil {
			refused++
			continue
		}
		mounted++
		// Either "real" through the inside link, or a fresh empty
		// directory made when the loop had just removed the link.
		entries, _ := os.ReadDir(target)
		b, _ := os.ReadFile(filepath.Join(target, "marker"))
		unix.Unmount(target, unix.MNT_DETACH)
		if len(entries) > 1 || len(entries) == 1 && string(b) != "volume" {
			t.Fatalf("iteration %d mounted something else than the volume's directory: %d entries", i, len(entries))
		}
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("%d mounted, %d refused", mounted, refused)
	// Both outcomes must have happened, or the race was not run.
	if mounted == 0 || refused == 0 {
		t.Errorf("%d mounted, %d refused: the race did not exercise both outcomes", mounted, refused)
	}
}

func TestCheckHostPath(t *testing.T) {
	testenv.RequireRoot(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	typ := func(s corev1.HostPathType) *corev1.HostPathType { return &s }
	tests := []struct {
		path string
		t    *corev1.HostPathType
		ok   bool
	}{
		{filepath.Join(dir, "nothing"), nil, true},
		{filepath.Join(dir, "made/deep"), typ(corev1.HostPathDirectoryOrCreate), true},
		{dir, typ(corev1.HostPathDirectory), true},
		{file, typ(corev1.HostPathDirectory), false},
		{filepath.Join(dir, "absent"), typ(corev1.HostPathDirectory), false},
		{filepath.Join(dir, "newfile"), typ(corev1.HostPathFileOrCreate), true},
		{filepath.Join(dir, "no/parent"), typ(corev1.HostPathFileOrCreate), false},
		{dir, typ(corev1.HostPathFileOrCreate), false},
		{file, typ(corev1.HostPathFile), true},
		{dir, typ(corev1.HostPathFile), false},
		{sock, typ(corev1.HostPathSocket), true},
		{file, typ(corev1.HostPathSocket), false},
		{"/dev/null", typ(corev1.HostPathCharDev), true},
		{file, typ(corev1.HostPathCharDev), false},
		{"/dev/null", typ(corev1.HostPathBlockDev), false},
	}
	for _, tt := range tests {
		err := CheckHostPath(tt.path, tt.t)
		if (err == nil) != tt.ok {
			t.Errorf("%s as %v: err = %v", tt.path, tt.t, err)
		}
	}
	if info, err := os.Stat(filepath.Join(dir, "newfile")); err != nil || info.Mode().Perm() != 0o644 {
		t.Errorf("FileOrCreate made %v, %v", info, err)
	}
}

func TestCheckHostPathSafe(t *testing.T) {
	root := t.TempDir()
	link := filepath.Join(t.TempDir(), "link")
	os.Symlink("/", link)
	for _, p := range []string{"/", link, root, filepath.Join(root, "images"), filepath.Dir(root)} {
		if err := CheckHostPathSafe(p, []string{root}); !errors.Is(err, ErrUnsafeHostPath) {
			t.Errorf("%s: err = %v, want ErrUnsafeHostPath", p, err)
		}
	}
	if err := CheckHostPathSafe(t.TempDir(), []string{root}); err != nil {
		t.Error(err)
	}
}

// TestRebindSubPath: resolving again before a restart mounts the subPath
// as it is now, and refuses one replaced by a symlink out of the volume.
func TestRebindSubPath(t *testing.T) {
	testenv.RequireRoot(t)
	vol, outside, staging := t.TempDir(), t.TempDir(), t.TempDir()
	target := filepath.Join(staging, "0")
	unmountCleanup(t, target)
	fill := func(dir, text string) {
		t.Helper()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "f"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func() string { b, _ := os.ReadFile(filepath.Join(target, "f")); return string(b) }
	fill(filepath.Join(vol, "d"), "one")
	fill(outside, "outside")
	if err := BindSubPath(vol, "d", target); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(vol, "d")); err != nil {
		t.Fatal(err)
	}
	fill(filepath.Join(vol, "d"), "two")
	if got := read(); got == "two" {
		t.Fatal("before the rebind the mount already shows the new directory")
	}
	if err := RebindSubPath(vol, "d", target); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != "two" {
		t.Errorf("after the rebind: %q, want two", got)
	}
	if err := os.RemoveAll(filepath.Join(vol, "d")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(vol, "d")); err != nil {
		t.Fatal(err)
	}
	if err := RebindSubPath(vol, "d", target); !errors.Is(err, ErrEscape) {
		t.Errorf("rebind through a symlink out of the volume: %v, want ErrEscape", err)
	}
	if got := read(); got == "outside" {
		t.Error("the staging path shows the directory outside the volume")
	}
}
