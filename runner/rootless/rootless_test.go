package rootless

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParseSubIDs(t *testing.T) {
	in := "alice:100000:65536\n1001:200000:10\nbob:300000:65536\nalice:bad:1\nalice:5:0\n# comment\nalice:400000:5\n"
	got := parseSubIDs(strings.NewReader(in), "alice", 1001)
	want := []Range{{100000, 65536}, {200000, 10}, {400000, 5}}
	if !slices.Equal(got, want) {
		t.Fatalf("parseSubIDs = %v, want %v", got, want)
	}
	if got := parseSubIDs(strings.NewReader(in), "carol", 7); len(got) != 0 {
		t.Fatalf("carol's ranges = %v, want none", got)
	}
}

func TestMapArgs(t *testing.T) {
	got := strings.Join(MapArgs(1000, []Range{{100000, 65536}, {300000, 10}}), " ")
	if want := "0 1000 1 1 100000 65536 65537 300000 10"; got != want {
		t.Fatalf("MapArgs = %q, want %q", got, want)
	}
}

func TestSubnet(t *testing.T) {
	seen := map[string]int{}
	for uid := 0; uid < 32768; uid++ {
		s := Subnet(uid)
		if other, ok := seen[s]; ok {
			t.Fatalf("uids %d and %d share %s", other, uid, s)
		}
		seen[s] = uid
		if strings.HasPrefix(s, "10.90.") || strings.HasPrefix(s, "10.96.") {
			t.Fatalf("uid %d's subnet %s is root's or the Services'", uid, s)
		}
	}
	if got := Subnet(1000); got != "10.131.232.0/24" {
		t.Fatalf("Subnet(1000) = %s", got)
	}
}

func TestDefaults(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvUser, "")
	t.Setenv("HOME", "/home/alice")
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("XDG_RUNTIME_DIR", dir) // the test's own uid owns it
	d := Defaults()
	if d.Root != "/home/alice/.local/share/podrun" || d.RunRoot != filepath.Join(dir, "podrun") ||
		d.CNIConfDir != filepath.Join(dir, "podrun", "cni", "net.d") {
		t.Fatalf("Defaults = %+v", d)
	}
	t.Setenv("XDG_DATA_HOME", "/data")
	t.Setenv("XDG_RUNTIME_DIR", "/nonexistent")
	d = Defaults()
	if want := filepath.Join("/tmp", "podrun-"+itoa(os.Getuid())); d.Root != "/data/podrun" || d.RunRoot != want {
		t.Fatalf("Defaults without a runtime dir = %+v, want run root %s", d, want)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestPrivateDir(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "run")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := PrivateDir(dir); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Fatalf("mode %v, want 0700", fi.Mode().Perm())
	}
	link := filepath.Join(base, "link")
	os.Symlink(dir, link)
	if err := PrivateDir(link); !errors.Is(err, ErrNotPrivate) {
		t.Fatalf("PrivateDir(symlink) = %v, want ErrNotPrivate", err)
	}
	if os.Geteuid() == 0 {
		other := filepath.Join(base, "other")
		os.Mkdir(other, 0o700)
		os.Chown(other, 12345, 12345)
		if err := PrivateDir(other); !errors.Is(err, ErrNotPrivate) || !strings.Contains(err.Error(), "--run-root") {
			t.Fatalf("PrivateDir(another uid's) = %v, want ErrNotPrivate naming --run-root", err)
		}
	}
}

func TestEnv(t *testing.T) {
	rec := Record{UserNS: 42, APISocket: "/run/user/1000/podrun/rootless/slirp4netns.sock"}
	env := Env([]string{"PATH=/usr/bin:/bin", "HOME=/h", EnvUser + "=9", EnvAPI + "=/old", "XTABLES_LOCKFILE=/x"}, 1000, rec, "/run/user/1000/podrun", 80)
	want := []string{"HOME=/h", "PATH=/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin", EnvUser + "=1000",
		EnvUserNS + "=42", EnvAPI + "=" + rec.APISocket, EnvPortFloor + "=80", EnvUplink + "=0:0",
		"XTABLES_LOCKFILE=/run/user/1000/podrun/xtables.lock"}
	if !slices.Equal(env, want) {
		t.Fatalf("Env =\n%q\nwant\n%q", env, want)
	}
}

// TestPreflight points each check at a machine that lacks its part and
// expects the failure to name the fix.
func TestPreflight(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	for _, n := range []string{"newuidmap", "newgidmap", "slirp4netns"} {
		write("bin/"+n, "#!/bin/sh\n", 0o755)
	}
	u := User{Name: "alice", UID: 1000, GID: 1000}
	good := Machine{
		SubUID: write("subuid", "alice:100000:65536\n", 0o644),
		SubGID: write("subgid", "1000:100000:65536\n", 0o644),
		Tun:    write("tun", "", 0o666), Proc: dir, PATH: bin,
	}
	// The stand-in mappers are not setuid: only that fails.
	err := good.Preflight(u)
	if err == nil || !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "newuidmap: ") ||
		!strings.Contains(err.Error(), "sudo chmod u+s") || strings.Contains(err.Error(), "subuid") {
		t.Fatalf("Preflight with non-setuid mappers = %v", err)
	}
	for _, tc := range []struct {
		name string
		m    func(Machine) Machine
		want string
	}{
		{"no subuid", func(m Machine) Machine { m.SubUID = write("empty", "bob:1:65536\n", 0o644); return m },
			"sudo usermod --add-subuids 100000-165535 alice"},
		{"small subgid", func(m Machine) Machine { m.SubGID = write("small", "alice:1:100\n", 0o644); return m },
			"only 100 ids"},
		{"no newuidmap", func(m Machine) Machine { m.PATH = filepath.Join(dir, "none"); return m },
			"newuidmap is not installed\n    fix: sudo apt-get install uidmap"},
		{"no slirp4netns", func(m Machine) Machine { m.PATH = filepath.Join(dir, "none"); return m },
			"fix: sudo apt-get install slirp4netns"},
		{"no tun", func(m Machine) Machine { m.Tun = filepath.Join(dir, "missing"); return m }, "sudo modprobe tun"},
		{"tun unusable", func(m Machine) Machine { m.Tun = bin; return m }, "sudo chmod 0666 " + bin},
	} {
		err := tc.m(good).Preflight(u)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Preflight = %v, want it to say %q", tc.name, err, tc.want)
		}
	}
	os.MkdirAll(filepath.Join(dir, "sys/user"), 0o755)
	write("sys/user/max_user_namespaces", "0\n", 0o644)
	if err := good.Preflight(u); err == nil || !strings.Contains(err.Error(), "user.max_user_namespaces=") {
		t.Errorf("Preflight with user namespaces off = %v", err)
	}
}
