package main

// The integration tests drive the real podrun binary, built once with
// CGO_ENABLED=0, against real runc and the Debian CNI plugins, each test
// in its own roots and on its own bridge, subnet and hostPorts, and end
// with a leak check.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podrun/podrun/internal/demoimage"
	"github.com/podrun/podrun/internal/leakcheck"
	"github.com/podrun/podrun/internal/testenv"
	"github.com/podrun/podrun/runner"
	"github.com/podrun/podrun/runner/runtime"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// binaries builds podrun and the demo image once per test run.
func binaries(t testing.TB) (podrun, demoTar string) {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "podrun-e2e-bin-")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(buildDir, "podrun"), ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building podrun: %v\n%s", err, out)
			return
		}
		buildErr = demoimage.Write(filepath.Join(buildDir, "busybox-demo.tar"), "/usr/bin/busybox")
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(buildDir, "podrun"), filepath.Join(buildDir, "busybox-demo.tar")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// envCount numbers the tests' networks: each gets its own bridge, subnet
// (10.P.N.0/24, P from the test process's pid, so that two test runs at
// once neither share addresses nor see each other's rules in their leak
// checks) and hostPort range (32000+10N ...).
var envCount atomic.Int32

// env is one test's world: roots, a CNI network of its own, the binary.
type env struct {
	t        testing.TB
	bin      string
	demoTar  string
	root     string
	runRoot  string
	confDir  string
	network  string
	bridge   string
	subnet   string // "10.P.N."
	portBase int
	// nodePortBase is the first of ten nodePorts of the test's own, in
	// the range Services may have them (30000-32767), below portBase's.
	nodePortBase int
	runtime      string
	// serviceCIDR is the test's own service range, "10.Q.N.0/24" (Q from
	// the pid, apart from the pods' subnets), so that two tests' Services
	// never share an address; proxyInstance names its rules.
	serviceCIDR   string
	proxyInstance string
}

// newEnv needs root, runc, iptables and the CNI plugins, prepares roots and
// a network for t, and registers teardown and the leak check.
func newEnv(t testing.TB) *env {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireBinary(t, "iptables", "ip")
	rt := testenv.RequireRuntime(t, runtime.Bundled)
	testenv.RequireFile(t, "/usr/lib/cni/bridge", "install Debian's containernetworking-plugins: make deps")
	testenv.RequireFile(t, "/usr/bin/busybox", "install busybox-static: make deps")
	n := int(envCount.Add(1))
	bin, tar := binaries(t)
	dir := t.TempDir()
	e := &env{
		t: t, bin: bin, demoTar: tar,
		root:     filepath.Join(dir, "root"),
		runRoot:  filepath.Join(dir, "run"),
		confDir:  filepath.Join(dir, "net.d"),
		network:  fmt.Sprintf("podrun-e2e-%d-%d", os.Getpid()%10000, n),
		bridge:   fmt.Sprintf("pre%d-%d", os.Getpid()%10000, n),
		subnet:   fmt.Sprintf("10.%d.%d.", 100+os.Getpid()%100, n),
		portBase: 32000 + 10*n,
		// 200 tests' worth, below the hostPorts' 32000.
		nodePortBase: 30000 + 10*(n%200),
		runtime:      rt,

		serviceCIDR: fmt.Sprintf("10.%d.%d.0/24", 200+os.Getpid()%50, n),
	}
	e.proxyInstance = runner.ProxyInstance(e.runRoot)
	if err := os.MkdirAll(e.confDir, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`{
  "cniVersion": "1.0.0", "name": %q,
  "plugins": [
    {"type": "bridge", "bridge": %q, "isGateway": true, "ipMasq": true, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "%s0/24"}]], "routes": [{"dst": "0.0.0.0/0"}],
              "dataDir": %q}},
    {"type": "portmap", "capabilities": {"portMappings": true}, "snat": true},
    {"type": "firewall"}
  ]}`, e.network, e.bridge, e.subnet, filepath.Join(dir, "ipam"))
	if err := os.WriteFile(filepath.Join(e.confDir, e.network+".conflist"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	snap := leakcheck.Take(t, leakcheck.Options{
		Roots: []string{dir},
		Markers: []string{e.subnet, e.bridge, e.network, e.runRoot,
			strings.TrimSuffix(e.serviceCIDR, "0/24"), "PODRUN-" + e.proxyInstance + "-", "podrun " + e.proxyInstance},
		VirtualRanges: []netip.Prefix{netip.MustParsePrefix(e.serviceCIDR)},
		Bridge:        e.bridge,
		RuncRoot:      filepath.Join(e.runRoot, "runtime"),
	})
	// Cleanups run last-in first-out: the leak check runs after teardown.
	t.Cleanup(func() { snap.Check(t) })
	t.Cleanup(func() { exec.Command("ip", "link", "del", e.bridge).Run() })
	t.Cleanup(e.deleteAll)
	// Before the pods go: a supervisor left running would make them again.
	t.Cleanup(e.checkSupervisors)
	return e
}

// checkSupervisors fails the test if a workload supervisor of its run
// root still runs (the test should have deleted its workloads), and kills
// it, so that the pods can go and the next test starts clean.
func (e *env) checkSupervisors() {
	e.t.Helper()
	entries, _ := os.ReadDir("/proc")
	for _, d := range entries {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		raw, _ := os.ReadFile("/proc/" + d.Name() + "/cmdline")
		args := strings.Split(string(raw), "\x00")
		if slices.Contains(args, runner.SuperviseCommand) && slices.Contains(args, e.runRoot) {
			e.t.Errorf("leakcheck: supervisor left running: pid %d %q", pid, strings.Join(args, " "))
			syscall.Kill(pid, syscall.SIGKILL)
			// Lest the next command start it again.
			os.RemoveAll(filepath.Join(e.runRoot, "workloads"))
		}
	}
}

// deleteAll removes whatever Services and pods a test left, so one
// failure does not leak into the next test's leak check.
func (e *env) deleteAll() {
	if out, _, err := e.run("get", "services", "-A", "-o", "json"); err == nil {
		var svcs corev1.ServiceList
		if json.Unmarshal([]byte(out), &svcs) == nil {
			for _, s := range svcs.Items {
				e.run("delete", "service", s.Name, "-n", s.Namespace)
			}
		}
	}
	out, _, err := e.run("get", "pods", "-A", "-o", "json")
	if err != nil {
		return
	}
	var list corev1.PodList
	if json.Unmarshal([]byte(out), &list) != nil {
		return
	}
	for _, p := range list.Items {
		e.run("delete", "pod", p.Name, "-n", p.Namespace, "--grace-period", "0")
	}
}

// failingRuntime writes a wrapper of the test's runtime whose every create
// fails (after network and root file systems are set up), and returns its
// path.
func (e *env) failingRuntime() string {
	e.t.Helper()
	wrapper := filepath.Join(e.t.TempDir(), "failing-runc")
	script := "#!/bin/sh\nfor a; do [ \"$a\" = create ] && { echo 'injected create failure' >&2; exit 3; }; done\nexec " + e.runtime + " \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		e.t.Fatal(err)
	}
	return wrapper
}

// svcAddr is the address ending in last of the test's service range.
func (e *env) svcAddr(last int) string {
	return strings.TrimSuffix(e.serviceCIDR, "0/24") + strconv.Itoa(last)
}

// run runs podrun with the test's roots and network.
func (e *env) run(args ...string) (stdout, stderr string, err error) {
	return e.runStdin("", args...)
}

func (e *env) runStdin(stdin string, args ...string) (string, string, error) {
	full := append([]string{
		"--root", e.root, "--run-root", e.runRoot, "--runtime", e.runtime,
		"--network", e.network, "--cni-config-dir", e.confDir, "--service-cidr", e.serviceCIDR,
	}, args...)
	cmd := exec.Command(e.bin, full...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// must runs podrun and fails the test if it fails.
func (e *env) must(args ...string) string {
	e.t.Helper()
	out, errOut, err := e.run(args...)
	if err != nil {
		e.t.Fatalf("podrun %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func (e *env) loadDemo() {
	e.t.Helper()
	e.must("image", "load", "-i", e.demoTar)
}

// manifest writes a manifest into the test's temp dir and returns its path.
func (e *env) manifest(name, text string) string {
	e.t.Helper()
	p := filepath.Join(e.t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) pod(name string) corev1.Pod {
	e.t.Helper()
	var p corev1.Pod
	if err := json.Unmarshal([]byte(e.must("get", "pod", name, "-o", "json")), &p); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// eventually retries fn until it returns nil or timeout passes.
func eventually(t *testing.T, timeout time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fetch gets a page from 127.0.0.1 (only ever loopback or the test's pods).
func fetch(url string) (string, error) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(resp.Body)
	return b.String(), err
}
