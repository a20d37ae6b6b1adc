package runtime

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		out  string
		want Info
		ok   bool
	}{
		{"runc version 1.5.3\nspec: 1.3.0\ngo: go1.26.8\nlibseccomp: 2.5.4\n", Info{Name: "runc", Version: "1.5.3", Spec: "1.3.0"}, true},
		{"runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\n", Info{Name: "runc", Version: "1.1.5+ds1", Spec: "1.0.2-dev"}, true},
		{"crun version 1.8.1\ncommit: f8a096be060b22ccd3d5f3ebe44108517fbf6c30\nrundir: /run/crun\nspec: 1.0.0\n+SYSTEMD +SELINUX\n", Info{Name: "crun", Version: "1.8.1", Spec: "1.0.0"}, true},
		{"youki version v0.5.0\n", Info{Name: "youki", Version: "0.5.0"}, true},
		{"", Info{}, false},
		{"usage: runc\n", Info{}, false},
	} {
		got, ok := parseVersion([]byte(tc.out))
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseVersion(%q) = %+v, %v; want %+v, %v", tc.out, got, ok, tc.want, tc.ok)
		}
	}
}

func TestFloor(t *testing.T) {
	for _, tc := range []struct {
		name, version string
		below         bool
	}{
		{"runc", "1.1.5+ds1", true}, // Debian 12
		{"runc", "1.2.8", true},
		{"runc", "1.3.5", true},
		{"runc", "1.3.6", false},
		{"runc", "1.3.10", false},
		{"runc", "1.4.2", true},
		{"runc", "1.4.0-rc.3", true},
		{"runc", "1.4.3", false},
		{"runc", "1.5.0", false},
		{"runc", "1.5.3", false},
		{"runc", "1.6.0", false},
		{"runc", "2.0", false},
		{"runc", "0.9.9", true},
		{"crun", "1.8.1", true}, // Debian 12
		{"crun", "1.24", true},
		{"crun", "1.25", false},
		{"crun", "1.26.1", false},
		{"youki", "0.0.1", false}, // unknown runtimes are not judged
		{"runc", "unknown", false},
	} {
		err := Floor(Info{Name: tc.name, Version: tc.version, Path: "/x/" + tc.name})
		var fe *FloorError
		if got := errors.As(err, &fe); got != tc.below {
			t.Errorf("Floor(%s %s) = %v; want below=%v", tc.name, tc.version, err, tc.below)
			continue
		}
		if fe != nil {
			msg := fe.Error()
			for _, want := range append(fe.CVEs, tc.version, "make deps", Bundled, "--runtime") {
				if !strings.Contains(msg, want) {
					t.Errorf("Floor(%s %s) says %q, which does not name %q", tc.name, tc.version, msg, want)
				}
			}
		}
	}
}

// TestVersion runs a stand-in runtime script and reads what it prints.
func TestVersion(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "runc")
	script := "#!/bin/sh\n[ \"$1\" = --version ] || exit 2\nprintf 'runc version 1.4.3\\nspec: 1.2.1\\n'\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	info, err := Version(t.Context(), bin)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Info{Path: bin, Name: "runc", Version: "1.4.3", Spec: "1.2.1"}); info != want {
		t.Errorf("Version = %+v, want %+v", info, want)
	}
	if _, err := Version(t.Context(), filepath.Join(dir, "absent")); err == nil {
		t.Error("Version of a missing binary succeeded")
	}
}

// TestCachedVersion asks the runtime once, and again once it changes.
func TestCachedVersion(t *testing.T) {
	dir := t.TempDir()
	bin, calls := filepath.Join(dir, "runc"), filepath.Join(dir, "calls")
	write := func(version string) {
		script := "#!/bin/sh\necho x >> " + calls + "\nprintf 'runc version " + version + "\\nspec: 1.2.1\\n'\n"
		// A new file, as `install` makes one: a new inode.
		os.Remove(bin)
		if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int {
		b, _ := os.ReadFile(calls)
		return strings.Count(string(b), "x")
	}
	cache := filepath.Join(dir, "cache", "version.json")
	write("1.4.3")
	for range 3 {
		info, err := CachedVersion(t.Context(), bin, cache)
		if err != nil || info.Version != "1.4.3" {
			t.Fatalf("CachedVersion = %+v, %v", info, err)
		}
	}
	if n := count(); n != 1 {
		t.Errorf("the runtime was asked %d times, want once", n)
	}
	write("1.5.3")
	if info, err := CachedVersion(t.Context(), bin, cache); err != nil || info.Version != "1.5.3" {
		t.Errorf("after the binary changed: %+v, %v; want 1.5.3", info, err)
	}
	if err := os.WriteFile(cache, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if info, err := CachedVersion(t.Context(), bin, cache); err != nil || info.Version != "1.5.3" {
		t.Errorf("with a garbage cache: %+v, %v", info, err)
	}
}
