package monitor

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/podrun/podrun/runner/runtime"
)

// maxOutput caps what a probe or hook may print, as the kubelet does.
const maxOutput = 10 << 10

// action is what a probe or a lifecycle hook does: exactly one of these.
type action struct {
	Exec      *corev1.ExecAction
	HTTPGet   *corev1.HTTPGetAction
	TCPSocket *corev1.TCPSocketAction
	GRPC      *corev1.GRPCAction
	Sleep     *corev1.SleepAction
}

func probeAction(p *corev1.Probe) action {
	h := p.ProbeHandler
	return action{Exec: h.Exec, HTTPGet: h.HTTPGet, TCPSocket: h.TCPSocket, GRPC: h.GRPC}
}

func hookAction(h *corev1.LifecycleHandler) action {
	return action{Exec: h.Exec, HTTPGet: h.HTTPGet, TCPSocket: h.TCPSocket, Sleep: h.Sleep}
}

// do carries out a in container c; ctx bounds it. It returns what the
// action printed or answered (capped), and an error when it failed.
func (m *monitor) do(ctx context.Context, c *ctr, a action) (string, error) {
	switch {
	case a.Exec != nil:
		return m.exec(ctx, c, a.Exec.Command)
	case a.HTTPGet != nil:
		return m.httpGet(ctx, c, a.HTTPGet)
	case a.TCPSocket != nil:
		conn, err := m.dial(ctx, "tcp", m.hostPort(c, a.TCPSocket.Host, a.TCPSocket.Port))
		if err != nil {
			return "", err
		}
		return "", conn.Close()
	case a.GRPC != nil:
		return m.grpcHealth(ctx, c, a.GRPC)
	case a.Sleep != nil:
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(time.Duration(a.Sleep.Seconds) * time.Second):
			return "", nil
		}
	}
	return "", errors.New("no handler")
}

// exec runs command in the container through the runtime, as the
// container's user, with its environment and working directory (the
// runtime takes them from the bundle). When ctx ends the process is killed
// by its pid (see execRuntime).
func (m *monitor) exec(ctx context.Context, c *ctr, command []string) (string, error) {
	var out cappedBuffer
	pidFile := filepath.Join(m.cfg.Layout.Dir, "exec", fmt.Sprintf("%s-%d.pid", c.name, time.Now().UnixNano()))
	if err := os.MkdirAll(filepath.Dir(pidFile), 0o700); err != nil {
		return "", err
	}
	defer os.Remove(pidFile)
	code, err := m.rt.Exec(ctx, c.id, runtime.ExecOpts{
		Args: command, PidFile: pidFile,
		IO: runtime.IO{Stdout: &out, Stderr: &out},
	})
	if ctx.Err() != nil {
		return out.String(), fmt.Errorf("command %q timed out", strings.Join(command, " "))
	}
	if err != nil {
		return out.String(), err
	}
	if code != 0 {
		return out.String(), fmt.Errorf("command %q exited with %d: %s", strings.Join(command, " "), code, out.String())
	}
	return out.String(), nil
}

// execRuntime is the runtime CLI for the monitor's own use. A runtime
// command whose context ends first has the process it started in a
// container killed (by the pid it wrote to --pid-file) with every process
// that descends from it, so that a probe that times out leaves nothing
// running, and it is not waited for past a second once killed, whoever
// else holds its pipes.
func execRuntime(rt *runtime.CLI) *runtime.CLI {
	cp := *rt
	cp.Cmder = func(ctx context.Context, name string, args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.WaitDelay = time.Second
		cmd.Cancel = func() error {
			killPidFile(args)
			return cmd.Process.Kill()
		}
		return cmd
	}
	return &cp
}

// killPidFile kills the process whose pid the runtime wrote to the file
// that args name with --pid-file, and its descendants (killTree).
func killPidFile(args []string) {
	for i, a := range args[:max(len(args)-1, 0)] {
		if a != "--pid-file" {
			continue
		}
		data, err := os.ReadFile(args[i+1])
		if err != nil {
			return
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && pid > 0 {
			killTree(pid)
		}
	}
}

func (m *monitor) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	return dialer(m.netns)(ctx, network, addr)
}

// hostPort is host:port for an action, the host defaulting to the pod's IP
// and a named port looked up among the container's ports.
func (m *monitor) hostPort(c *ctr, host string, port intstr.IntOrString) string {
	if host == "" {
		host = m.podIP
		if host == "" {
			host = "127.0.0.1"
		}
	}
	p := port.IntValue()
	if port.Type == intstr.String {
		for _, cp := range c.spec.Ports {
			if cp.Name == port.StrVal {
				p = int(cp.ContainerPort)
			}
		}
	}
	return net.JoinHostPort(host, strconv.Itoa(p))
}

func (m *monitor) httpGet(ctx context.Context, c *ctr, g *corev1.HTTPGetAction) (string, error) {
	scheme := strings.ToLower(string(g.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	u := url.URL{Scheme: scheme, Host: m.hostPort(c, g.Host, g.Port), Path: g.Path}
	if i := strings.IndexByte(g.Path, '?'); i >= 0 {
		u.Path, u.RawQuery = g.Path[:i], g.Path[i+1:]
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("User-Agent", "kube-probe/podrun")
	req.Header.Set("Accept", "*/*")
	for _, h := range g.HTTPHeaders {
		if strings.EqualFold(h.Name, "host") {
			req.Host = h.Value
		}
		req.Header.Add(h.Name, h.Value)
	}
	client := http.Client{Transport: &http.Transport{
		DialContext:       m.dial,
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, // as the kubelet's probes
		DisableKeepAlives: true,
	}}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxOutput))
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return "", fmt.Errorf("HTTP probe failed with statuscode: %d", resp.StatusCode)
	}
	return string(body), nil
}

// grpcHealth calls grpc.health.v1.Health/Check over cleartext HTTP/2 and
// wants SERVING. The request and response are small enough to encode by
// hand: one optional string field in, one enum field out.
func (m *monitor) grpcHealth(ctx context.Context, c *ctr, g *corev1.GRPCAction) (string, error) {
	var msg []byte
	if g.Service != nil && *g.Service != "" {
		msg = append([]byte{0x0a, byte(len(*g.Service))}, *g.Service...)
	}
	frame := make([]byte, 5, 5+len(msg))
	binary.BigEndian.PutUint32(frame[1:], uint32(len(msg)))
	frame = append(frame, msg...)
	addr := m.hostPort(c, "", intstr.FromInt32(g.Port))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/grpc.health.v1.Health/Check", bytes.NewReader(frame))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	client := http.Client{Transport: &http.Transport{DialContext: m.dial, Protocols: &protocols, DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxOutput))
	if st := resp.Trailer.Get("Grpc-Status"); st != "" && st != "0" {
		return "", fmt.Errorf("gRPC health check failed: status %s: %s", st, resp.Trailer.Get("Grpc-Message"))
	}
	if st := resp.Header.Get("Grpc-Status"); st != "" && st != "0" {
		return "", fmt.Errorf("gRPC health check failed: status %s: %s", st, resp.Header.Get("Grpc-Message"))
	}
	if status := healthStatus(body); status != 1 {
		return "", fmt.Errorf("service unhealthy (responded with %q)", healthStatusName(status))
	}
	return "", nil
}

// healthStatus reads the status enum (field 1) of a HealthCheckResponse in
// one gRPC frame; -1 when the frame is malformed.
func healthStatus(frame []byte) int {
	if len(frame) < 5 {
		return -1
	}
	msg := frame[5:]
	if n := binary.BigEndian.Uint32(frame[1:5]); int(n) != len(msg) {
		return -1
	}
	status := 0 // proto3: an absent field is zero, UNKNOWN
	for len(msg) >= 2 {
		if msg[0] != 0x08 {
			return -1
		}
		v, n := binary.Uvarint(msg[1:])
		if n <= 0 {
			return -1
		}
		status, msg = int(v), msg[1+n:]
	}
	return status
}

func healthStatusName(s int) string {
	switch s {
	case 0:
		return "UNKNOWN"
	case 1:
		return "SERVING"
	case 2:
		return "NOT_SERVING"
	case 3:
		return "SERVICE_UNKNOWN"
	}
	return "malformed response"
}

// cappedBuffer keeps the first maxOutput bytes written to it.
type cappedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := maxOutput - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *cappedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
