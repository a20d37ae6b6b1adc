package network

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podrun/podrun/internal/leakcheck"
	"github.com/podrun/podrun/internal/testenv"
	"github.com/podrun/podrun/translate"
)

// testNet is one integration test's private network: its own bridge,
// subnet (in 10.211.0.0/16), hostPort (in 31000-31099) and directories.
type testNet struct {
	*Network
	name   string // network and bridge name, prn<hex>
	subnet string // 10.211.<n>.
	port   int32
	dir    string
	netns  string
	id     string
	snap   *leakcheck.Snapshot
}

// requireCNI skips (or fails in CI) without root and the plugins.
func requireCNI(t *testing.T) {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireBinary(t, "iptables", "iptables-save", "ip", "nsenter", "busybox")
	for _, p := range allPlugins {
		testenv.RequireFile(t, filepath.Join("/usr/lib/cni", p), "install Debian's containernetworking-plugins (make deps)")
	}
}

func randInt(t *testing.T, n int64) int64 {
	v, err := rand.Int(rand.Reader, big.NewInt(n))
	if err != nil {
		t.Fatal(err)
	}
	return v.Int64()
}

// newTestNet writes the test's conflist, opens it and takes a leak
// snapshot; cleanup removes the bridge, then checks for leaks.
// extra is appended to the conflist's plugins.
func newTestNet(t *testing.T, extra ...string) *testNet {
	t.Helper()
	requireCNI(t)
	b := make([]byte, 2)
	rand.Read(b)
	tn := &testNet{
		name:   "prn" + hex.EncodeToString(b),
		subnet: fmt.Sprintf("10.211.%d.", randInt(t, 256)),
		port:   int32(31000 + randInt(t, 100)),
		dir:    t.TempDir(),
		id:     "podruntest" + hex.EncodeToString(b) + fmt.Sprint(time.Now().UnixNano()),
	}
	tn.netns = filepath.Join(tn.dir, "run", "netns", tn.id)
	conflist := fmt.Sprintf(`{
  "cniVersion": "1.0.0", "name": %q,
  "plugins": [
    {"type": "bridge", "bridge": %[1]q, "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "%s0/24"}]],
              "routes": [{"dst": "0.0.0.0/0"}], "dataDir": %q}},
    {"type": "portmap", "capabilities": {"portMappings": true}, "snat": true},
    {"type": "firewall"}%s
  ]
}`, tn.name, tn.subnet, filepath.Join(tn.dir, "ipam"), strings.Join(append([]string{""}, extra...), ",\n    "))
	conf := filepath.Join(tn.dir, "net.d")
	if err := os.MkdirAll(conf, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(conf, "10-test.conflist"), []byte(conflist), 0o644); err != nil {
		t.Fatal(err)
	}
	tn.snap = leakcheck.Take(t, leakcheck.Options{
		Roots:   []string{tn.dir},
		Markers: []string{tn.id, tn.name, tn.subnet},
		Bridge:  tn.name,
	})
	t.Cleanup(func() {
		exec.Command("ip", "link", "del", tn.name).Run()
		tn.snap.Check(t)
	})
	n, err := Open(Config{
		Name:       tn.name,
		ConfDir:    conf,
		PluginDirs: []string{"/usr/lib/cni"},
		CacheDir:   filepath.Join(tn.dir, "run", "cni"),
		LockFile:   filepath.Join(tn.dir, "run", "cni.lock"),
	})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	tn.Network = n
	return tn
}

func (tn *testNet) ports() []translate.Port {
	return []translate.Port{{HostPort: tn.port, ContainerPort: 8080, Protocol: "tcp"}}
}

// serve starts busybox httpd on port 8080 in the test's netns, serving
// body; cleanup kills it.
func (tn *testNet) serve(t *testing.T, body string) {
	t.Helper()
	www := filepath.Join(tn.dir, "www")
	os.MkdirAll(www, 0o755)
	if err := os.WriteFile(filepath.Join(www, "index.html"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("nsenter", "--net="+tn.netns, "busybox", "httpd", "-f", "-p", "8080", "-h", www)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting httpd: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
}

// get fetches url from the host, retrying while the server starts.
func get(t *testing.T, url string) string {
	t.Helper()
	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
	}
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var resp *http.Response
		if resp, err = client.Get(url); err != nil {
			continue
		}
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if rerr == nil && resp.StatusCode == http.StatusOK {
			return string(body)
		}
		err = fmt.Errorf("status %s, body %q, read error %v", resp.Status, body, rerr)
	}
	t.Fatalf("GET %s: %v", url, err)
	return ""
}

func TestAttachServesHostPortOnLocalhost(t *testing.T) {
	tn := newTestNet(t)
	ctx := context.Background()
	if err := NewNS(tn.netns); err != nil {
		t.Fatalf("NewNS: %v", err)
	}
	t.Cleanup(func() { RemoveNS(tn.netns) })
	att, err := tn.Attach(ctx, tn.id, tn.netns, tn.ports())
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	t.Cleanup(func() { tn.Detach(ctx, tn.id, tn.netns, tn.ports(), att) })
	if !strings.HasPrefix(att.IP, tn.subnet) || att.Gateway != tn.subnet+"1" || len(att.Result) == 0 {
		t.Fatalf("Attach = %+v, want an IP in %s0/24 and gateway %s1", att, tn.subnet, tn.subnet)
	}
	checkAttachment(t, tn)

	tn.serve(t, "hello from the pod\n")
	if got := get(t, fmt.Sprintf("http://127.0.0.1:%d/", tn.port)); got != "hello from the pod\n" {
		t.Errorf("GET 127.0.0.1:%d = %q", tn.port, got)
	}
	if got := get(t, "http://"+net.JoinHostPort(att.IP, "8080")+"/"); got != "hello from the pod\n" {
		t.Errorf("GET %s:8080 = %q", att.IP, got)
	}

	for i := range 2 {
		if err := tn.Detach(ctx, tn.id, tn.netns, tn.ports(), att); err != nil {
			t.Fatalf("Detach #%d: %v", i+1, err)
		}
	}
	if err := RemoveNS(tn.netns); err != nil {
		t.Fatalf("RemoveNS: %v", err)
	}
	if err := RemoveNS(tn.netns); err != nil {
		t.Fatalf("RemoveNS again: %v", err)
	}
}

func TestAttachRefusesHostPortInUse(t *testing.T) {
	tn := newTestNet(t)
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", tn.port))
	if err != nil {
		t.Skipf("hostPort %d is taken on this machine: %v", tn.port, err)
	}
	defer l.Close()
	if err := NewNS(tn.netns); err != nil {
		t.Fatalf("NewNS: %v", err)
	}
	defer RemoveNS(tn.netns)
	_, err = tn.Attach(context.Background(), tn.id, tn.netns, tn.ports())
	if !errors.Is(err, ErrPortInUse) {
		t.Fatalf("Attach = %v, want ErrPortInUse", err)
	}
	want := fmt.Sprintf("hostPort in use: %d/TCP is held by another process on this machine: free it or choose another hostPort", tn.port)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

func TestDetachAfterRemoveNS(t *testing.T) {
	tn := newTestNet(t)
	ctx := context.Background()
	if err := NewNS(tn.netns); err != nil {
		t.Fatalf("NewNS: %v", err)
	}
	att, err := tn.Attach(ctx, tn.id, tn.netns, tn.ports())
	if err != nil {
		RemoveNS(tn.netns)
		t.Fatalf("Attach: %v", err)
	}
	if err := RemoveNS(tn.netns); err != nil {
		t.Fatalf("RemoveNS: %v", err)
	}
	for i := range 2 {
		if err := tn.Detach(ctx, tn.id, tn.netns, tn.ports(), att); err != nil {
			t.Fatalf("Detach #%d after RemoveNS: %v", i+1, err)
		}
	}
}

func TestNewNSPinsAndRemoveNSUnpins(t *testing.T) {
	requireCNI(t)
	dir := t.TempDir()
	snap := leakcheck.Take(t, leakcheck.Options{Roots: []string{dir}})
	path := filepath.Join(dir, "a", "b", "ns")
	if err := NewNS(path); err != nil {
		t.Fatalf("NewNS: %v", err)
	}
	if !isNetNS(path) {
		t.Fatalf("%s is not a pinned netns", path)
	}
	self, _ := os.Readlink("/proc/self/ns/net")
	out, err := exec.Command("nsenter", "--net="+path, "readlink", "/proc/self/ns/net").Output()
	if err != nil || strings.TrimSpace(string(out)) == self {
		t.Errorf("the pinned netns is %q (err %v), the test's is %q", out, err, self)
	}
	if err := NewNS(path); err == nil {
		t.Errorf("NewNS over an existing pin succeeded")
	}
	if err := RemoveNS(path); err != nil {
		t.Fatalf("RemoveNS: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after RemoveNS, stat %s: %v", path, err)
	}
	snap.Check(t)
}

// checkAttachment runs Check. portmap before v1.2 fails CHECK for an
// IPv4-only pod when ip6tables exists (containernetworking/plugins#819):
// that one error is logged, and Check then runs without port mappings so
// the other plugins are still checked.
func checkAttachment(t *testing.T, tn *testNet) {
	t.Helper()
	ctx := context.Background()
	err := tn.Check(ctx, tn.id, tn.netns, tn.ports())
	if err == nil {
		return
	}
	if !strings.Contains(err.Error(), "could not check ipv6 dnat") {
		t.Errorf("Check: %v", err)
		return
	}
	t.Logf("portmap CHECK fails on IPv4-only pods (plugins#819): %v", err)
	if err := tn.Check(ctx, tn.id, tn.netns, nil); err != nil {
		t.Errorf("Check without port mappings: %v", err)
	}
}

func TestAttachRollsBackWhenAPluginFails(t *testing.T) {
	// tuning runs last and fails: bridge, portmap and firewall have
	// already done their part, which DEL must undo.
	tn := newTestNet(t, `{"type": "tuning", "sysctl": {"net.ipv4.conf.eth0.no_such_sysctl": "1"}}`)
	testenv.RequireFile(t, "/usr/lib/cni/tuning", "install Debian's containernetworking-plugins (make deps)")
	if err := NewNS(tn.netns); err != nil {
		t.Fatalf("NewNS: %v", err)
	}
	defer RemoveNS(tn.netns)
	att, err := tn.Attach(context.Background(), tn.id, tn.netns, tn.ports())
	if err == nil {
		t.Fatalf("Attach = %+v, want the tuning plugin's error", att)
	}
	if !strings.Contains(err.Error(), "tuning") {
		t.Errorf("error %q does not name the failing plugin", err)
	}
}

func TestDetachUsesAttachmentWhenCacheIsGone(t *testing.T) {
	tn := newTestNet(t)
	ctx := context.Background()
	if err := NewNS(tn.netns); err != nil {
		t.Fatalf("NewNS: %v", err)
	}
	defer RemoveNS(tn.netns)
	att, err := tn.Attach(ctx, tn.id, tn.netns, tn.ports())
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	// Without a prevResult the firewall plugin leaves its rules: only
	// att can tell DEL what they were.
	if err := os.RemoveAll(tn.cfg.CacheDir); err != nil {
		t.Fatal(err)
	}
	if err := tn.Detach(ctx, tn.id, tn.netns, tn.ports(), att); err != nil {
		t.Fatalf("Detach: %v", err)
	}
}
