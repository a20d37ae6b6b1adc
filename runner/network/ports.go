package network

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/podrun/podrun/translate"
)

// protocol is p's protocol in lower case, tcp when empty.
func protocol(p translate.Port) string {
	if p.Protocol == "" {
		return "tcp"
	}
	return strings.ToLower(p.Protocol)
}

// checkPorts makes sure nothing on the host holds any of ports: portmap's
// DNAT would silently steal its traffic.
func checkPorts(ports []translate.Port) error {
	for _, p := range ports {
		if err := checkPort(p); err != nil {
			return &PortError{Port: p, Err: err}
		}
	}
	return nil
}

// checkPort binds p's hostIP:hostPort with its protocol and lets go. With
// SO_REUSEADDR, as listeners have it, a port in TIME_WAIT is free and one
// a listener holds is not.
func checkPort(p translate.Port) error {
	family, sa, err := sockaddr(p)
	if err != nil {
		return err
	}
	typ, proto, err := socketType(protocol(p))
	if err != nil {
		return err
	}
	fd, err := unix.Socket(family, typ|unix.SOCK_CLOEXEC, proto)
	if errors.Is(err, unix.EPROTONOSUPPORT) {
		return nil // no SCTP in this kernel: nothing can hold the port
	}
	if err != nil {
		return fmt.Errorf("checking hostPort %d: %w", p.HostPort, err)
	}
	defer unix.Close(fd)
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return fmt.Errorf("checking hostPort %d: %w", p.HostPort, err)
	}
	err = unix.Bind(fd, sa)
	if errors.Is(err, unix.EADDRINUSE) {
		return fmt.Errorf("%w: %d/%s is held by another process on this machine: free it or choose another hostPort",
			ErrPortInUse, p.HostPort, strings.ToUpper(protocol(p)))
	}
	if err != nil {
		return fmt.Errorf("checking hostPort %d/%s: %w", p.HostPort, strings.ToUpper(protocol(p)), err)
	}
	return nil
}

// sockaddr is the address to bind for p: its hostIP, or every IPv4 one.
func sockaddr(p translate.Port) (int, unix.Sockaddr, error) {
	if p.HostPort <= 0 || p.HostPort > 65535 {
		return 0, nil, fmt.Errorf("checking hostPort %d: out of range", p.HostPort)
	}
	if p.HostIP == "" {
		return unix.AF_INET, &unix.SockaddrInet4{Port: int(p.HostPort)}, nil
	}
	ip := net.ParseIP(p.HostIP)
	if ip == nil {
		return 0, nil, fmt.Errorf("checking hostPort %d: hostIP %q is not an IP address", p.HostPort, p.HostIP)
	}
	if ip4 := ip.To4(); ip4 != nil {
		sa := &unix.SockaddrInet4{Port: int(p.HostPort)}
		copy(sa.Addr[:], ip4)
		return unix.AF_INET, sa, nil
	}
	sa := &unix.SockaddrInet6{Port: int(p.HostPort)}
	copy(sa.Addr[:], ip.To16())
	return unix.AF_INET6, sa, nil
}

// socketType maps a protocol to a socket type and protocol number.
func socketType(proto string) (int, int, error) {
	switch proto {
	case "tcp":
		return unix.SOCK_STREAM, unix.IPPROTO_TCP, nil
	case "udp":
		return unix.SOCK_DGRAM, unix.IPPROTO_UDP, nil
	case "sctp":
		return unix.SOCK_STREAM, unix.IPPROTO_SCTP, nil
	}
	return 0, 0, fmt.Errorf("checking hostPort: unknown protocol %q", proto)
}
