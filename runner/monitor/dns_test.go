package monitor

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podrun/podrun/runner/netns"
	"github.com/podrun/podrun/runner/network"
	"github.com/podrun/podrun/runner/objects"
	"github.com/podrun/podrun/runner/state"
)

// TestServeDNS: the resolver answers at the cluster DNS address inside a
// network namespace, leaves port 53 on every address to a container that
// asks to share it (SO_REUSEADDR for UDP, SO_REUSEPORT for TCP, as
// CoreDNS binds), and is gone once stopped.
func TestServeDNS(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a network namespace needs root")
	}
	dir := t.TempDir()
	nsPath := filepath.Join(dir, "ns", "net")
	if err := network.NewNS(nsPath); err != nil {
		t.Fatal(err)
	}
	defer network.RemoveNS(nsPath)
	objDir := filepath.Join(dir, "objects")
	web := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.50", ClusterIPs: []string{"10.96.0.50"}}}
	if _, err := objects.Open(objDir).Services.Put(web); err != nil {
		t.Fatal(err)
	}
	m := &monitor{netns: nsPath, cfg: Config{Log: slog.New(slog.DiscardHandler)}}
	stop, err := m.serveDNS(&state.DNS{Addr: "10.96.0.10", Objects: objDir, ResolvConf: filepath.Join(dir, "none")})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	// A container's server on 0.0.0.0:53, sharing as CoreDNS does.
	share := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		})
	}}
	if err := inNS(t, nsPath, func() error {
		pc, err := share.ListenPacket(context.Background(), "udp", "0.0.0.0:53")
		if err != nil {
			return err
		}
		defer pc.Close()
		l, err := share.Listen(context.Background(), "tcp", "0.0.0.0:53")
		if err != nil {
			return err
		}
		defer l.Close()
		for _, network := range []string{"udp", "tcp"} {
			q := new(mdns.Msg)
			q.SetQuestion("web.default.svc.cluster.local.", mdns.TypeA)
			r, _, err := (&mdns.Client{Net: network, Timeout: 2 * time.Second}).Exchange(q, "10.96.0.10:53")
			if err != nil {
				return err
			}
			if len(r.Answer) != 1 || r.Answer[0].(*mdns.A).A.String() != "10.96.0.50" {
				t.Errorf("over %s: answer %v, want web's ClusterIP 10.96.0.50", network, r.Answer)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	stop()
	if err := inNS(t, nsPath, func() error {
		q := new(mdns.Msg)
		q.SetQuestion("web.default.svc.cluster.local.", mdns.TypeA)
		if _, _, err := (&mdns.Client{Net: "tcp", Timeout: time.Second}).Exchange(q, "10.96.0.10:53"); err == nil {
			t.Errorf("the resolver still answers once stopped")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// inNS runs fn in the network namespace at nsPath, on a thread of its own.
func inNS(t *testing.T, nsPath string, fn func() error) error {
	t.Helper()
	return netns.Do(nsPath, fn)
}

// TestServeDNSFails: a pod whose network namespace is gone, or whose
// state names no address, gets an error that says what failed, and no
// resolver; a pod without cluster DNS gets nothing to stop.
func TestServeDNSFails(t *testing.T) {
	m := &monitor{netns: filepath.Join(t.TempDir(), "gone"), cfg: Config{Log: slog.New(slog.DiscardHandler)}}
	for _, d := range []*state.DNS{{Addr: "10.96.0.10"}, {Addr: "not-an-address"}} {
		if stop, err := m.serveDNS(d); err == nil || stop != nil || !strings.Contains(err.Error(), "serving cluster DNS") {
			t.Errorf("serveDNS(%+v) = stop %v, %v; want an error naming cluster DNS", d, stop != nil, err)
		}
	}
	stop, err := m.serveDNS(nil)
	if err != nil || stop == nil {
		t.Fatalf("serveDNS(nil) = %v; want no resolver and no error", err)
	}
	stop()
}
