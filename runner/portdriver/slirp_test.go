package portdriver

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podrun/podrun/internal/testenv"
)

func TestCheckNamesSysctl(t *testing.T) {
	s := Slirp{PortFloor: 1024}
	err := s.Check(Forward{Proto: "tcp", HostPort: 80})
	if !errors.Is(err, ErrPortFloor) || !strings.Contains(err.Error(), "net.ipv4.ip_unprivileged_port_start") {
		t.Errorf("Check(80) = %v, want ErrPortFloor naming the sysctl", err)
	}
	if err := s.Check(Forward{Proto: "tcp", HostPort: 1024}); err != nil {
		t.Errorf("Check(1024) = %v", err)
	}
	if err := (Slirp{}).Publish(context.Background(), Forward{Proto: "tcp", HostPort: 2000}); err == nil || !strings.Contains(err.Error(), "PODRUN_ROOTLESS_API") {
		t.Errorf("Publish without a socket = %v, want the variable named", err)
	}
}

// TestSlirpPublish runs a real slirp4netns on a network namespace of the
// test's own, serves a page at the tap address inside it, and reaches it
// from the host's 127.0.0.1 once published, and no longer once
// unpublished.
func TestSlirpPublish(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireBinary(t, "slirp4netns", "unshare", "nsenter", "busybox")
	dir := t.TempDir()
	holder := exec.Command("unshare", "--net", "sh", "-c", "echo $$; exec sleep 600")
	holder.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, _ := holder.StdoutPipe()
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-holder.Process.Pid, syscall.SIGKILL); _ = holder.Wait() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	pid := strings.TrimSpace(line)
	sock := filepath.Join(dir, "slirp.sock")
	slirp := exec.Command("slirp4netns", "--configure", "--mtu=65520", "--disable-host-loopback", "--api-socket", sock, pid, "tap0")
	if err := slirp.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = slirp.Process.Kill(); _ = slirp.Wait() })
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	port := freePort(t)
	www := filepath.Join(dir, "www")
	if err := os.MkdirAll(www, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(www, "index.html"), []byte("through slirp\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	httpd := exec.Command("nsenter", "--net=/proc/"+pid+"/ns/net", "busybox", "httpd", "-f", "-p", GuestAddr+":"+strconv.Itoa(port), "-h", www)
	if err := httpd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = httpd.Process.Kill(); _ = httpd.Wait() })

	s := Slirp{Socket: sock, PortFloor: 1024}
	f := Forward{Proto: "tcp", HostPort: port}
	ctx := context.Background()
	var err error
	for i := 0; i < 50; i++ { // slirp4netns configures tap0 as it starts
		if err = s.Publish(ctx, f); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Publish(ctx, f); err != nil {
		t.Errorf("publishing twice: %v", err)
	}
	var body string
	for i := 0; i < 50; i++ {
		if body, err = get("127.0.0.1:" + strconv.Itoa(port)); err == nil && strings.Contains(body, "through slirp") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(body, "through slirp") {
		t.Fatalf("GET 127.0.0.1:%d = %q, %v; want the page served in the namespace", port, body, err)
	}
	if err := s.Unpublish(ctx, f); err != nil {
		t.Fatal(err)
	}
	if err := s.Unpublish(ctx, f); err != nil {
		t.Errorf("unpublishing twice: %v", err)
	}
	if body, err := get("127.0.0.1:" + strconv.Itoa(port)); err == nil {
		t.Errorf("after Unpublish, 127.0.0.1:%d still answers %q", port, body)
	}
	// slirp4netns gone: its forwards are gone, unpublishing succeeds.
	_ = slirp.Process.Kill()
	_ = slirp.Wait()
	if err := s.Unpublish(ctx, f); err != nil {
		t.Errorf("unpublishing with slirp4netns gone: %v", err)
	}
	if err := s.Publish(ctx, f); err == nil {
		t.Error("publishing with slirp4netns gone succeeded")
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func get(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.0\r\n\r\n"); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}
