package main

// The rootless tests run podrun as an ordinary user: as root, the test
// binary makes (once, idempotently) a user with subordinate id ranges and
// one without, makes /dev/net/tun usable as Debian's udev rule does
// (0666), and runs podrun through setpriv, which execs it: no root
// process stands between the user's podrun and what it starts. Each test
// ends by checking that no process of the user is left (no holder, no
// slirp4netns).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/podrun/podrun/internal/testenv"
	"github.com/podrun/podrun/runner/network"
	"github.com/podrun/podrun/runner/rootless"
)

const (
	nsUser         = "podrun-e2e-user"  // has subordinate ids
	nsNoSubIDsUser = "podrun-e2e-nosub" // has none
	// nsUserRange is the test user's subordinate range, if it has none.
	nsUserRange = "1000000-1065535"
)

var (
	userOnce sync.Once
	userBin  string
	userErr  error
)

// userSetup prepares the machine once per test binary and returns a
// podrun binary that the test users may run.
func userSetup(t testing.TB) string {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireBinary(t, "setpriv", "useradd", "usermod", "newuidmap", "newgidmap", "slirp4netns", "nsenter")
	podrun, _ := binaries(t)
	userOnce.Do(func() {
		if userErr = ensureNSUser(nsUser, true); userErr != nil {
			return
		}
		if userErr = ensureNSUser(nsNoSubIDsUser, false); userErr != nil {
			return
		}
		// What Debian's udev rule for tun does on a machine that runs udev.
		if userErr = os.Chmod("/dev/net/tun", 0o666); userErr != nil {
			return
		}
		dir := filepath.Join(buildDir, "rootless")
		if userErr = os.MkdirAll(dir, 0o755); userErr != nil {
			return
		}
		os.Chmod(buildDir, 0o755)
		userBin = filepath.Join(dir, "podrun")
		userErr = copyExecutable(podrun, userBin, 0o755)
	})
	if userErr != nil {
		t.Fatalf("preparing the rootless tests: %v", userErr)
	}
	return userBin
}

// ensureNSUser makes the user if it is missing, with or without
// subordinate id ranges.
func ensureNSUser(name string, subIDs bool) error {
	if _, err := user.Lookup(name); err != nil {
		out, err := exec.Command("useradd", "-m", "-s", "/bin/sh", "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0", name).CombinedOutput()
		if err != nil {
			return fmt.Errorf("useradd %s: %v: %s", name, err, out)
		}
	}
	u, err := user.Lookup(name)
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	for _, f := range []struct{ path, add, del string }{{"/etc/subuid", "--add-subuids", "--del-subuids"}, {"/etc/subgid", "--add-subgids", "--del-subgids"}} {
		ranges, err := rootless.SubIDs(f.path, name, uid)
		if err != nil {
			return err
		}
		var args []string
		switch {
		case subIDs && len(ranges) == 0:
			args = []string{f.add, nsUserRange}
		case !subIDs:
			for _, r := range ranges {
				args = append(args, f.del, fmt.Sprintf("%d-%d", r.Start, r.Start+r.Count-1))
			}
		}
		if len(args) == 0 {
			continue
		}
		if out, err := exec.Command("usermod", append(args, name)...).CombinedOutput(); err != nil {
			return fmt.Errorf("usermod %s %s: %v: %s", strings.Join(args, " "), name, err, out)
		}
	}
	return nil
}

func copyExecutable(from, to string, mode os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// userEnv is one test's ordinary user: its own XDG directories.
type userEnv struct {
	t                 testing.TB
	bin               string
	name              string
	uid, gid          int
	home              string
	runtimeDir, data  string
	runRoot, dataRoot string // podrun's defaults under them
	// loginUID, when set, has each command start with the user's audit
	// loginuid, as a login session would give it.
	loginUID bool
}

func newUserEnv(t testing.TB, name string) *userEnv {
	t.Helper()
	bin := userSetup(t)
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	e := &userEnv{t: t, bin: bin, name: name, home: u.HomeDir}
	e.uid, _ = strconv.Atoi(u.Uid)
	e.gid, _ = strconv.Atoi(u.Gid)
	e.checkNoProcesses(false)
	dir, err := os.MkdirTemp("", "podrun-rootless-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	e.runtimeDir, e.data = filepath.Join(dir, "run"), filepath.Join(dir, "data")
	for _, d := range []string{e.runtimeDir, e.data} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, e.uid, e.gid); err != nil {
			t.Fatal(err)
		}
	}
	e.runRoot, e.dataRoot = filepath.Join(e.runtimeDir, "podrun"), filepath.Join(e.data, "podrun")
	t.Cleanup(func() {
		e.checkNoProcesses(true)
		// Root removes what the user's subordinate ids own too.
		os.RemoveAll(dir)
	})
	return e
}

// command is podrun run as the user, through setpriv (which execs it).
func (e *userEnv) command(args ...string) *exec.Cmd {
	cmd := exec.Command("setpriv", append([]string{"--reuid=" + strconv.Itoa(e.uid), "--regid=" + strconv.Itoa(e.gid),
		"--init-groups", "--", e.bin}, args...)...)
	if e.loginUID {
		// Root sets the loginuid of the shell that then becomes the user.
		cmd = exec.Command("sh", append([]string{"-c", `echo "$0" > /proc/self/loginuid && exec "$@"`, strconv.Itoa(e.uid)}, cmd.Args...)...)
	}
	cmd.Env = []string{"HOME=" + e.home, "USER=" + e.name, "PATH=/usr/bin:/bin",
		"XDG_RUNTIME_DIR=" + e.runtimeDir, "XDG_DATA_HOME=" + e.data}
	cmd.Dir = "/"
	return cmd
}

func (e *userEnv) run(args ...string) (string, string, error) {
	cmd := e.command(args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

func (e *userEnv) must(args ...string) string {
	e.t.Helper()
	out, errOut, err := e.run(args...)
	if err != nil {
		e.t.Fatalf("podrun %s as %s: %v\n%s%s", strings.Join(args, " "), e.name, err, out, errOut)
	}
	return out
}

// processes lists the user's live processes (zombies are left to
// their reaper).
func (e *userEnv) processes() []string {
	var found []string
	entries, _ := os.ReadDir("/proc")
	for _, d := range entries {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		status, err := os.ReadFile(filepath.Join("/proc", d.Name(), "status"))
		if err != nil {
			continue
		}
		var uid, st string
		for _, line := range strings.Split(string(status), "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" {
				uid = f[1]
			} else if len(f) > 1 && f[0] == "State:" {
				st = f[1]
			}
		}
		if uid != strconv.Itoa(e.uid) || st == "Z" {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		found = append(found, d.Name()+" "+strings.ReplaceAll(string(cmdline), "\x00", " "))
	}
	return found
}

// checkNoProcesses fails the test if a process of the user is left
// (after a moment for one that is exiting), and kills it.
func (e *userEnv) checkNoProcesses(report bool) {
	var left []string
	for i := 0; i < 50; i++ {
		if left = e.processes(); len(left) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	if report {
		e.t.Errorf("leakcheck: processes of %s left: %q", e.name, left)
	}
	for _, p := range left {
		pid, _ := strconv.Atoi(strings.Fields(p)[0])
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

func (e *userEnv) record() rootless.Record {
	e.t.Helper()
	h := rootless.Holder{Dir: filepath.Join(e.runRoot, "rootless")}
	rec, ok := h.Find()
	if !ok {
		e.t.Fatalf("no running holder recorded under %s", h.Dir)
	}
	return rec
}

// TestRootlessPreflight: a user without subordinate ids is told what to
// run, and nothing is created.
func TestRootlessPreflight(t *testing.T) {
	e := newUserEnv(t, nsNoSubIDsUser)
	_, errOut, err := e.run("get", "pods")
	if err == nil {
		t.Fatal("podrun get pods ran for a user without subordinate ids")
	}
	for _, want := range []string{"not ready for rootless podrun (nothing was created)",
		"/etc/subuid has no range for " + nsNoSubIDsUser, "fix: sudo usermod --add-subuids 100000-165535 " + nsNoSubIDsUser,
		"fix: sudo usermod --add-subgids"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if _, err := os.Stat(e.runRoot); !os.IsNotExist(err) {
		t.Errorf("the run root %s was made: %v", e.runRoot, err)
	}
	out := e.must("info")
	if !strings.Contains(out, "FAIL subuid") || !strings.Contains(out, "ok   newuidmap") {
		t.Errorf("podrun info:\n%s", out)
	}
}

// TestRootlessInfo: the user's defaults, subnet and limits, and no holder.
func TestRootlessInfo(t *testing.T) {
	e := newUserEnv(t, nsUser)
	out := e.must("info")
	for _, want := range []string{"rootless: true\n", "root: " + e.dataRoot + "\n", "run root: " + e.runRoot + "\n",
		"cni config dir: " + filepath.Join(e.runRoot, "cni", "net.d") + "\n",
		"subnet " + rootless.Subnet(e.uid), "namespace holder: not running", "ok   subuid", "ok   /dev/net/tun",
		"resource limits: "} {
		if !strings.Contains(out, want) {
			t.Errorf("podrun info lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "FAIL") {
		t.Errorf("a check fails for the test user:\n%s", out)
	}
}

// TestRootlessUnshare: a command in the namespaces is uid 0 there, with
// the user as root and the subordinate ids from 1 on; the holder it
// started is gone after it, as nothing else needs it.
func TestRootlessUnshare(t *testing.T) {
	e := newUserEnv(t, nsUser)
	if out := strings.TrimSpace(e.must("unshare", "--", "id", "-u")); out != "0" {
		t.Errorf("id -u in the namespaces = %q, want 0", out)
	}
	lines := strings.Split(strings.TrimSpace(e.must("unshare", "--", "cat", "/proc/self/uid_map")), "\n")
	ranges, _ := rootless.SubIDs("/etc/subuid", e.name, e.uid)
	if len(lines) != 1+len(ranges) || strings.Join(strings.Fields(lines[0]), " ") != "0 "+strconv.Itoa(e.uid)+" 1" ||
		strings.Join(strings.Fields(lines[1]), " ") != fmt.Sprintf("1 %d %d", ranges[0].Start, ranges[0].Count) {
		t.Errorf("uid_map in the namespaces:\n%s\nwant root as %d and then %v", strings.Join(lines, "\n"), e.uid, ranges)
	}
	// The run root is the user's, private; inside, its owner reads root.
	if fi, err := os.Stat(e.runRoot); err != nil || fi.Mode().Perm() != 0o700 || fi.Sys().(*syscall.Stat_t).Uid != uint32(e.uid) {
		t.Errorf("run root %s: %v %v", e.runRoot, fi, err)
	}
	if out := e.must("unshare", "--", "stat", "-c", "%u", e.runRoot); strings.TrimSpace(out) != "0" {
		t.Errorf("inside, the run root's owner reads %q, want 0", out)
	}
	// What the run side needs: slirp4netns's API socket (for hostPorts)
	// and the host's lowest unprivileged port.
	floor, _ := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
	want := rootless.APISocket(e.runRoot) + " " + strings.TrimSpace(string(floor))
	if out := e.must("unshare", "--", "sh", "-c", "echo $"+rootless.EnvAPI+" $"+rootless.EnvPortFloor); strings.TrimSpace(out) != want {
		t.Errorf("API socket and port floor inside: %q, want %q", out, want)
	}
	// The CNI plugins find iptables on the PATH inside.
	if out := e.must("unshare", "--", "sh", "-c", "command -v iptables"); !strings.Contains(out, "sbin/iptables") {
		t.Errorf("iptables on the PATH inside: %q", out)
	}
	if _, err := os.Stat(filepath.Join(e.runRoot, "rootless", "holder.json")); !os.IsNotExist(err) {
		t.Errorf("the holder's record is left after the last command: %v", err)
	}
	if left := e.processes(); len(left) != 0 {
		t.Errorf("processes left after the last command: %q", left)
	}
}

// TestRootlessHolderCrash: a holder killed while something lives in its
// namespaces is replaced by one that joins them; one killed with
// everything in them is replaced by a new one; either way without error,
// and nothing is left after the last command.
func TestRootlessHolderCrash(t *testing.T) {
	e := newUserEnv(t, nsUser)
	bg := e.command("unshare", "--", "sleep", "120")
	if err := bg.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- bg.Wait() }()
	defer func() {
		bg.Process.Kill()
		<-done
	}()
	var rec rootless.Record
	eventually(t, 10*time.Second, func() error {
		h := rootless.Holder{Dir: filepath.Join(e.runRoot, "rootless")}
		var ok bool
		if rec, ok = h.Find(); !ok || len(h.Members(rec)) == 0 {
			return fmt.Errorf("no holder with the sleep inside it yet")
		}
		return nil
	})
	// A command that ends while the holder is dead keeps its record:
	// the sleep still lives in its namespaces.
	short := e.command("unshare", "--", "sleep", "1")
	if err := short.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	syscall.Kill(rec.Holder.Pid, syscall.SIGKILL)
	eventually(t, 5*time.Second, func() error {
		if rec.Slirp.Alive() {
			return fmt.Errorf("slirp4netns (pid %d) outlives its holder", rec.Slirp.Pid)
		}
		return nil
	})
	if err := short.Wait(); err != nil {
		t.Fatalf("a command whose holder died under it: %v", err)
	}
	if _, err := os.Stat(filepath.Join(rootless.HolderDir(e.runRoot), "holder.json")); err != nil {
		t.Fatalf("the dead holder's record went while its namespaces live: %v", err)
	}
	// A new holder joins the namespaces the sleep still lives in.
	out := strings.TrimSpace(e.must("unshare", "--", "readlink", "/proc/self/ns/user"))
	if want := fmt.Sprintf("user:[%d]", rec.UserNS); out != want {
		t.Errorf("after the holder's crash, a command runs in %s, want the old namespaces %s", out, want)
	}
	again := e.record()
	if again.Holder.Pid == rec.Holder.Pid || again.UserNS != rec.UserNS {
		t.Errorf("record after the crash: %+v, before: %+v", again, rec)
	}
	// Commands learn that the uplink is new (hostPorts must be published again).
	if out := strings.TrimSpace(e.must("unshare", "--", "sh", "-c", "echo $"+rootless.EnvUplink)); out != again.Uplink() || out == rec.Uplink() {
		t.Errorf("uplink inside %q, want the new one %q (the old was %q)", out, again.Uplink(), rec.Uplink())
	}
	// Now everything in the namespaces dies: a new command starts anew.
	syscall.Kill(again.Holder.Pid, syscall.SIGKILL)
	for _, pid := range (rootless.Holder{}).Members(again) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	eventually(t, 5*time.Second, func() error {
		if again.Slirp.Alive() || again.Holder.Alive() {
			return fmt.Errorf("holder or slirp4netns still running")
		}
		return nil
	})
	out = strings.TrimSpace(e.must("unshare", "--", "readlink", "/proc/self/ns/user"))
	if out == fmt.Sprintf("user:[%d]", rec.UserNS) || !strings.HasPrefix(out, "user:[") {
		t.Errorf("with the old namespaces gone, a command runs in %s", out)
	}
	if err := <-done; err == nil {
		t.Errorf("the killed sleep's podrun exited 0")
	}
	done <- nil
	if left := e.processes(); len(left) != 0 {
		t.Errorf("processes left after the last command: %q", left)
	}
}

// nsPodToPodScript gives two network namespaces, made inside the user's
// namespaces, addresses on the user's default network with Debian's
// bridge plugin (host-local inside), serves a page from one, fetches it
// from the other, and deletes both attachments. Its arguments: the
// plugin's configuration file and a directory for the page.
const nsPodToPodScript = `set -e
conf=$1; dir=$2
unshare -n sleep 60 & a=$!
unshare -n sleep 60 & b=$!
h=
trap 'kill $a $b $h; wait' EXIT
sleep 0.3
export CNI_PATH=/usr/lib/cni CNI_IFNAME=eth0
for p in a b; do
  eval pid=\$$p
  CNI_COMMAND=ADD CNI_CONTAINERID=$p CNI_NETNS=/proc/$pid/ns/net /usr/lib/cni/bridge < $conf > $dir/$p.json
done
ipb=$(nsenter -n -t $b ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1)
echo "b: $ipb"
echo hello-from-b > $dir/index.html
nsenter -n -t $b busybox httpd -f -p 8080 -h $dir & h=$!
# (busybox's wget crashes in a user namespace; nc does not.)
for i in 1 2 3 4 5 6 7 8 9 10; do printf 'GET / HTTP/1.0\r\n\r\n' | nsenter -n -t $a busybox nc -w 2 $ipb 8080 && break; sleep 0.2; done
for p in a b; do
  eval pid=\$$p
  CNI_COMMAND=DEL CNI_CONTAINERID=$p CNI_NETNS=/proc/$pid/ns/net /usr/lib/cni/bridge < $conf
done
`

// TestRootlessPodNetwork: in the user's namespaces, the user's default
// network (its own subnet, host-local's addresses under the run root)
// gives two namespaces addresses from which one reaches the other, as
// pods do; nothing of it is left after DEL. (Pods themselves, through
// apply, are the run side's test.)
func TestRootlessPodNetwork(t *testing.T) {
	testenv.RequireFile(t, "/usr/lib/cni/bridge", "install Debian's containernetworking-plugins: make deps")
	testenv.RequireFile(t, "/usr/bin/busybox", "install busybox-static: make deps")
	e := newUserEnv(t, nsUser)
	ipam := filepath.Join(e.runRoot, "cni", "ipam")
	var list struct {
		CNIVersion string           `json:"cniVersion"`
		Name       string           `json:"name"`
		Plugins    []map[string]any `json:"plugins"`
	}
	if err := json.Unmarshal(network.DefaultConflistFor(rootless.Subnet(e.uid), ipam), &list); err != nil {
		t.Fatal(err)
	}
	bridge := list.Plugins[0]
	bridge["cniVersion"], bridge["name"] = list.CNIVersion, list.Name
	raw, _ := json.Marshal(bridge)
	dir := filepath.Join(e.runtimeDir, "pod-net")
	os.Mkdir(dir, 0o755)
	os.Chown(dir, e.uid, e.gid)
	conf := filepath.Join(dir, "bridge.json")
	if err := os.WriteFile(conf, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := e.run("unshare", "--", "sh", "-c", nsPodToPodScript, "sh", conf, dir)
	if err != nil {
		t.Fatalf("pod network in the user's namespaces: %v\n%s%s", err, out, errOut)
	}
	prefix := strings.TrimSuffix(rootless.Subnet(e.uid), "0/24")
	if !strings.Contains(out, "b: "+prefix) || !strings.Contains(out, "hello-from-b") {
		t.Errorf("want an address in %s and the page fetched from the other namespace:\n%s%s", rootless.Subnet(e.uid), out, errOut)
	}
	// host-local keeps its addresses under the run root, and DEL freed them.
	entries, err := os.ReadDir(filepath.Join(ipam, list.Name))
	if err != nil {
		t.Fatalf("host-local's data is not under the run root: %v", err)
	}
	for _, en := range entries {
		if strings.HasPrefix(en.Name(), prefix) {
			t.Errorf("address %s still reserved after DEL", en.Name())
		}
	}
}

// TestRootlessHostLoopback: pods do not reach the host's loopback
// services unless --rootless-host-loopback asks, and a command cannot
// change the setting of a holder in use.
func TestRootlessHostLoopback(t *testing.T) {
	testenv.RequireFile(t, "/usr/bin/busybox", "install busybox-static: make deps")
	e := newUserEnv(t, nsUser)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("host-loopback\n"))
			c.Close()
		}
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	dial := []string{"unshare", "--", "sh", "-c", "busybox nc -w 2 10.0.2.2 " + port + " </dev/null || true"}
	if out := e.must(dial...); strings.Contains(out, "host-loopback") {
		t.Errorf("the host's loopback is reachable by default: %q", out)
	}
	if out := e.must(append([]string{"--rootless-host-loopback"}, dial...)...); !strings.Contains(out, "host-loopback") {
		t.Errorf("the host's loopback is not reachable with --rootless-host-loopback: %q", out)
	}
	bg := e.command("--rootless-host-loopback", "unshare", "--", "sleep", "60")
	if err := bg.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { bg.Process.Signal(syscall.SIGTERM); bg.Wait() }()
	eventually(t, 10*time.Second, func() error {
		h := rootless.Holder{Dir: rootless.HolderDir(e.runRoot)}
		if rec, ok := h.Find(); !ok || len(h.Members(rec)) == 0 {
			return fmt.Errorf("no holder with the sleep inside it yet")
		}
		return nil
	})
	if _, errOut, err := e.run("unshare", "--", "true"); err == nil || !strings.Contains(errOut, "other host loopback setting") {
		t.Errorf("a command asking for no host loopback ran in a holder that has it: %v %s", err, errOut)
	}
}
