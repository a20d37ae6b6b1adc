// Package testregistry runs Debian's docker-registry (the CNCF
// distribution) for tests: on a free port of 127.0.0.1 only, its storage
// in the test's temp dir, optionally behind htpasswd (bcrypt) auth. The
// registry is stopped, and checked to be gone, when the test ends.
package testregistry

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/podrun/podrun/internal/demoimage"
	"github.com/podrun/podrun/internal/testenv"
)

// Registry is Debian's docker-registry (the CNCF distribution), run by a
// test on a free port of 127.0.0.1 with its storage in a temp dir.
type Registry struct {
	Addr string // "127.0.0.1:PORT"
	auth authn.Authenticator
	stop func()
}

// Start starts a registry; with user set it asks for that user
// and password (htpasswd, bcrypt). The registry is stopped, and checked
// to be gone, when the test ends.
func Start(t testing.TB, user, pass string) *Registry {
	t.Helper()
	bin := testenv.RequireBinary(t, "docker-registry")[0]
	dir := t.TempDir()
	addr := freeAddr(t)
	auth := ""
	r := &Registry{Addr: addr, auth: authn.Anonymous}
	if user != "" {
		htpasswd := testenv.RequireBinary(t, "htpasswd")[0]
		out, err := exec.Command(htpasswd, "-Bbn", user, pass).Output()
		if err != nil {
			t.Fatalf("htpasswd: %v", err)
		}
		file := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(file, out, 0o600); err != nil {
			t.Fatal(err)
		}
		auth = fmt.Sprintf("auth:\n  htpasswd:\n    realm: podrun-test\n    path: %s\n", file)
		r.auth = &authn.Basic{Username: user, Password: pass}
	}
	conf := fmt.Sprintf("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n%s",
		filepath.Join(dir, "data"), addr, auth)
	confPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", confPath)
	// The registry reads REGISTRY_SECTION_KEY variables as configuration:
	// podman's REGISTRY_AUTH_FILE would add an "auth: file:" section.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REGISTRY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	logf, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// exited is closed once the registry has exited, with its error in waitErr.
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); logf.Close(); close(exited) }()
	stopped := false
	r.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Errorf("docker-registry (pid %d) did not stop", cmd.Process.Pid)
		}
	}
	t.Cleanup(r.stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			return r
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "registry.log"))
			t.Fatalf("docker-registry exited: %v\n%s", waitErr, log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("docker-registry did not answer on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Push writes img to the registry as repo:tag and returns the reference.
func (r *Registry) Push(t testing.TB, repo string, img v1.Image) string {
	t.Helper()
	ref := r.Addr + "/" + repo
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img, remote.WithAuth(r.auth)); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	return ref
}

func (r *Registry) PushIndex(t testing.TB, repo string, idx v1.ImageIndex) string {
	t.Helper()
	ref := r.Addr + "/" + repo
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(tag, idx, remote.WithAuth(r.auth)); err != nil {
		t.Fatalf("pushing index %s: %v", ref, err)
	}
	return ref
}

// Demo is the demo image, built from Debian's busybox-static.
func Demo(t testing.TB) v1.Image {
	t.Helper()
	testenv.RequireFile(t, "/usr/bin/busybox", "apt-get install busybox-static")
	img, err := demoimage.Image("/usr/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// Stop stops the registry now (it is stopped at the end of the test
// anyway), for tests that must run offline.
func (r *Registry) Stop() { r.stop() }
