package portdriver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"
)

// GuestAddr is where slirp4netns delivers forwarded connections: the
// address it gives the holder's tap device.
const GuestAddr = "10.0.2.100"

// ErrPortFloor is wrapped by Publish's error for a port the user may not
// listen on: below net.ipv4.ip_unprivileged_port_start.
var ErrPortFloor = errors.New("port below net.ipv4.ip_unprivileged_port_start")

// Forward is one published port.
type Forward struct {
	Proto    string // "tcp" or "udp"
	HostAddr string // "" is 127.0.0.1
	HostPort int
}

func (f Forward) hostAddr() string {
	switch f.HostAddr {
	case "", "0.0.0.0":
		// Rootless ports are published on the host's loopback only,
		// unless a hostIP asks for another address.
		return "127.0.0.1"
	}
	return f.HostAddr
}

func (f Forward) String() string {
	return fmt.Sprintf("%s:%d/%s", f.hostAddr(), f.HostPort, f.Proto)
}

// Slirp is the API socket of a slirp4netns.
type Slirp struct {
	Socket string
	// PortFloor is the host's net.ipv4.ip_unprivileged_port_start, read
	// outside the holder (inside it is the holder's own); 0 is 1024, the
	// kernel's default.
	PortFloor int
}

// Floor is the lowest port the user may publish.
func (s Slirp) Floor() int {
	if s.PortFloor <= 0 {
		return 1024
	}
	return s.PortFloor
}

// Check refuses a port below Floor, naming the sysctl, before anything is
// created.
func (s Slirp) Check(f Forward) error {
	if f.Proto != "tcp" && f.Proto != "udp" {
		return fmt.Errorf("hostPort %d/%s: slirp4netns forwards only tcp and udp", f.HostPort, strings.ToUpper(f.Proto))
	}
	if f.HostPort < s.Floor() {
		return fmt.Errorf("hostPort %d: %w (%d on this host): rootless, slirp4netns listens as you; choose a port of %d or more, or have root lower it (sysctl -w net.ipv4.ip_unprivileged_port_start=%d)",
			f.HostPort, ErrPortFloor, s.Floor(), s.Floor(), f.HostPort)
	}
	return nil
}

// Publish forwards f's host address and port to GuestAddr, same port. A
// forward that exists already is kept.
func (s Slirp) Publish(ctx context.Context, f Forward) error {
	if err := s.Check(f); err != nil {
		return err
	}
	if id, err := s.find(ctx, f); err != nil {
		return err
	} else if id != 0 {
		return nil
	}
	var resp struct {
		Return struct {
			ID int `json:"id"`
		} `json:"return"`
	}
	err := s.call(ctx, "add_hostfwd", map[string]any{
		"proto": f.Proto, "host_addr": f.hostAddr(), "host_port": f.HostPort, "guest_addr": GuestAddr, "guest_port": f.HostPort,
	}, &resp)
	if err != nil {
		return fmt.Errorf("publishing %s through slirp4netns (%s): %w: is the port taken on the host?", f, s.Socket, err)
	}
	return nil
}

// Unpublish removes f's forward; one that is not there is success, and
// so is a slirp4netns that is gone (its socket missing or refusing):
// its forwards went with it.
func (s Slirp) Unpublish(ctx context.Context, f Forward) error {
	id, err := s.find(ctx, f)
	if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
		return nil
	}
	if err != nil || id == 0 {
		return err
	}
	if err := s.call(ctx, "remove_hostfwd", map[string]any{"id": id}, nil); err != nil {
		return fmt.Errorf("unpublishing %s through slirp4netns (%s): %w", f, s.Socket, err)
	}
	return nil
}

// entry is one forward as list_hostfwd returns it.
type entry struct {
	ID       int    `json:"id"`
	Proto    string `json:"proto"`
	HostAddr string `json:"host_addr"`
	HostPort int    `json:"host_port"`
}

// find is the id of f's forward, or 0.
func (s Slirp) find(ctx context.Context, f Forward) (int, error) {
	var list struct {
		Entries []entry `json:"entries"`
	}
	if err := s.call(ctx, "list_hostfwd", nil, &list); err != nil {
		return 0, fmt.Errorf("listing slirp4netns's forwards (%s): %w", s.Socket, err)
	}
	for _, e := range list.Entries {
		if e.Proto == f.Proto && e.HostPort == f.HostPort && e.HostAddr == f.hostAddr() {
			return e.ID, nil
		}
	}
	return 0, nil
}

// call sends one request (slirp4netns answers one per connection) and
// decodes the answer into out, or returns the error it reports.
func (s Slirp) call(ctx context.Context, execute string, args map[string]any, out any) error {
	if s.Socket == "" {
		return errors.New("no slirp4netns API socket: start slirp4netns with --api-socket and name it in PODRUN_ROOTLESS_API")
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", s.Socket)
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(10 * time.Second)
	}
	_ = conn.SetDeadline(deadline)
	req := map[string]any{"execute": execute}
	if args != nil {
		req["arguments"] = args
	}
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return err
	}
	_ = conn.(*net.UnixConn).CloseWrite()
	var raw json.RawMessage
	if err := json.NewDecoder(conn).Decode(&raw); err != nil {
		return fmt.Errorf("reading slirp4netns's answer to %s: %w", execute, err)
	}
	var e struct {
		Error *struct {
			Desc string `json:"desc"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &e) == nil && e.Error != nil {
		return fmt.Errorf("slirp4netns: %s", strings.TrimSpace(e.Error.Desc))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}
